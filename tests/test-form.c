/* lib/form.c: the strict urlencoded decoder and the UTF-8 check. */
#include <stdlib.h>

#include "../lib/esignhook.h"
#include "t.h"

static const struct {
	const char *in;
	enum eh_err err;
	size_t n;             /* fields on success */
	const char *name, *value; /* one field to look up */
} cases[] = {
	{ "", EH_OK, 0, NULL, NULL },
	{ "a=1", EH_OK, 1, "a", "1" },
	{ "a=1&b=2", EH_OK, 2, "b", "2" },
	{ "a=", EH_OK, 1, "a", "" },
	{ "flag", EH_OK, 1, "flag", "" },
	{ "a=x=y", EH_OK, 1, "a", "x=y" },
	{ "v=I+did+not%2C+ok.", EH_OK, 1, "v", "I did not, ok." },
	{ "n%41me=%c3%A9", EH_OK, 1, "nAme", "\xc3\xa9" },
	{ "e=%E2%82%AC", EH_OK, 1, "e", "\xe2\x82\xac" },
	{ "a=%zz", EH_ERR_FORM_ESCAPE, 0, NULL, NULL },
	{ "a=%4", EH_ERR_FORM_ESCAPE, 0, NULL, NULL },
	{ "a=%", EH_ERR_FORM_ESCAPE, 0, NULL, NULL },
	{ "a=%4g", EH_ERR_FORM_ESCAPE, 0, NULL, NULL },
	{ "a=%00", EH_ERR_FORM_NUL, 0, NULL, NULL },
	{ "%00=a", EH_ERR_FORM_NUL, 0, NULL, NULL },
	{ "a=%ff", EH_ERR_UTF8, 0, NULL, NULL },
	{ "a=%c0%af", EH_ERR_UTF8, 0, NULL, NULL },     /* overlong '/' */
	{ "a=%ed%a0%80", EH_ERR_UTF8, 0, NULL, NULL },  /* surrogate */
	{ "a=%f4%90%80%80", EH_ERR_UTF8, 0, NULL, NULL }, /* > U+10FFFF */
	{ "a=%e2%82", EH_ERR_UTF8, 0, NULL, NULL },     /* truncated */
	{ "a=1&a=2", EH_ERR_FIELD_DUP, 0, NULL, NULL },
	{ "a=1&%61=2", EH_ERR_FIELD_DUP, 0, NULL, NULL },
	/* Empty pairs are skipped, as the WHATWG parser does. */
	{ "a=1&&b=2", EH_OK, 2, "b", "2" },
	{ "&a=1", EH_OK, 1, "a", "1" },
	{ "a=1&", EH_OK, 1, "a", "1" },
	{ "&", EH_OK, 0, NULL, NULL },
	{ "&&&", EH_OK, 0, NULL, NULL },
	{ "=1", EH_ERR_FORM_ESCAPE, 0, NULL, NULL },
	{ "a=1&=2", EH_ERR_FORM_ESCAPE, 0, NULL, NULL },
	/* A line end after the body is not part of the last value; an
	 * encoded one is. */
	{ "TransID=1234567890&TXStatus=4&EventType=transaction&"
	  "ps_securitytoken=abc\r\n", EH_OK, 4, "ps_securitytoken", "abc" },
	{ "EventType=transaction&TransID=1234567890\r\n", EH_OK, 2,
	  "TransID", "1234567890" },
	{ "a=1\n", EH_OK, 1, "a", "1" },
	{ "a=1\r\n\r\n", EH_OK, 1, "a", "1" },
	{ "a=1&\r\n", EH_OK, 1, "a", "1" },
	{ "a=1%0D%0A", EH_OK, 1, "a", "1\r\n" },
	{ "a=1\r\n&b=2", EH_OK, 2, "a", "1\r\n" },
	{ "\r\n", EH_OK, 0, NULL, NULL },
	/* A UTF-8 byte order mark first (.NET's Encoding.UTF8). */
	{ "\xef\xbb\xbfTransID=1&EventType=transaction", EH_OK, 2, "TransID",
	  "1" },
	{ "a=\xef\xbb\xbf", EH_OK, 1, "a", "\xef\xbb\xbf" },
	/* '?' is an ordinary byte in a body. */
	{ "a=1?b=2", EH_OK, 1, "a", "1?b=2" },
};

static void
table(void)
{
	struct eh_form f;
	size_t i;
	enum eh_err err;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err = eh_form_parse(&f, cases[i].in, strlen(cases[i].in));
		if (err != cases[i].err)
			fprintf(stderr, "  case \"%s\"\n", cases[i].in);
		T_EQ_INT(err, cases[i].err);
		if (err == EH_OK) {
			T_EQ_INT(f.n, cases[i].n);
			if (cases[i].name != NULL)
				T_EQ_STR(eh_form_get(&f, cases[i].name),
				    cases[i].value);
		} else
			T_EQ_INT(f.n, 0);
		eh_form_free(&f);
	}
}

static void
raw_nul_rejected(void)
{
	struct eh_form f;

	T_EQ_INT(eh_form_parse(&f, "a=b\0c", 5), EH_ERR_FORM_NUL);
	T_EQ_INT(eh_form_parse(&f, "a=1&b", 3), EH_OK); /* length bounds it */
	T_EQ_INT(f.n, 1);
	eh_form_free(&f);
}

static void
field_limit(void)
{
	struct eh_form f;
	char buf[EH_FORM_MAX_FIELDS * 8 + 16];
	size_t i, n = 0;

	for (i = 0; i < EH_FORM_MAX_FIELDS; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%sf%zu=1",
		    i ? "&" : "", i);
	T_EQ_INT(eh_form_parse(&f, buf, n), EH_OK);
	T_EQ_INT(f.n, EH_FORM_MAX_FIELDS);
	eh_form_free(&f);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "&x=1");
	T_EQ_INT(eh_form_parse(&f, buf, n), EH_ERR_FORM_LIMIT);
}

static void
value_limit(void)
{
	struct eh_form f;
	size_t n = 9000;
	char *buf = malloc(n);

	memset(buf, 'a', n);
	buf[0] = 'v';
	buf[1] = '=';
	T_EQ_INT(eh_form_parse(&f, buf, n), EH_ERR_FORM_LIMIT);
	free(buf);
}

static void
samples(void)
{
	static const char *const files[] = {
		"participant-auth-failure", "participant-complete",
		"participant-email-sent", "participant-reassigned",
		"participant-session-begin", "participant-victim-statement",
		"transaction-cancelled", "transaction-complete", NULL
	};
	struct eh_form f;
	char path[256], *buf;
	size_t i, len;

	for (i = 0; files[i] != NULL; i++) {
		snprintf(path, sizeof(path), "tests/data/alphatrust/%s.form",
		    files[i]);
		buf = t_read_file(path, &len);
		T_CHECK(buf != NULL);
		if (buf == NULL)
			continue;
		T_EQ_INT(eh_form_parse(&f, buf, len), EH_OK);
		T_EQ_STR(eh_form_get(&f, "ps_securitytoken"),
		    "4bf44fb0-f695-40b5-821d-c22273e11c30");
		eh_form_free(&f);
		free(buf);
	}
}

static void
utf8(void)
{
	T_CHECK(eh_utf8_valid("", 0));
	T_CHECK(eh_utf8_valid("abc", 3));
	T_CHECK(eh_utf8_valid("\xf0\x9f\x98\x80", 4));
	T_CHECK(eh_utf8_valid("\xef\xbf\xbf", 3));
	T_CHECK(!eh_utf8_valid("\x80", 1));
	T_CHECK(!eh_utf8_valid("\xc1\xbf", 2));
	T_CHECK(!eh_utf8_valid("\xe0\x80\x80", 3));
	T_CHECK(!eh_utf8_valid("\xf0\x80\x80\x80", 4));
	T_CHECK(!eh_utf8_valid("\xf5\x80\x80\x80", 4));
	T_CHECK(!eh_utf8_valid("\xf0\x9f\x98", 3));
}

/* With a problem list: a repeated name keeps its first value, an
 * unnamed field is skipped, and each is a line naming it. */
static void
problems(void)
{
	struct eh_problems pr;
	struct eh_form f;
	const char *b = "TransID=1&EventType=t&TransID=2&=x&TransID=3";

	memset(&pr, 0, sizeof(pr));
	T_EQ_INT(eh_form_read(&f, b, strlen(b), 0, &pr), EH_OK);
	T_EQ_INT(f.n, 2);
	T_EQ_STR(eh_form_get(&f, "TransID"), "1");
	T_EQ_INT(pr.n, 3);
	T_EQ_INT(pr.first, EH_ERR_FIELD_DUP);
	T_EQ_STR(pr.line[0],
	    "form field TransID given twice: the first value kept");
	T_EQ_STR(pr.line[1], "form field 4 has no name: skipped");
	T_EQ_STR(pr.line[2],
	    "form field TransID given twice: the first value kept");
	eh_form_free(&f);
	/* Without a list the same body is refused, as before. */
	T_EQ_INT(eh_form_parse(&f, b, strlen(b)), EH_ERR_FIELD_DUP);
	T_EQ_INT(f.n, 0);
	/* What cannot be decoded stays an error, and says which field. */
	memset(&pr, 0, sizeof(pr));
	T_EQ_INT(eh_form_read(&f, "a=1&b=%zz", 9, 0, &pr), EH_ERR_FORM_ESCAPE);
	T_EQ_INT(f.n, 0);
	T_EQ_STR(pr.line[0], "form field 2: bad %-escape");
	memset(&pr, 0, sizeof(pr));
	T_EQ_INT(eh_form_read(&f, "a=%00", 5, EH_FORM_QUERY, &pr),
	    EH_ERR_FORM_NUL);
	T_EQ_STR(pr.line[0], "query field 1: a NUL byte");
}

/* A name in a problem line: bounded, whole characters, no control
 * bytes, never a value. */
static void
problem_names(void)
{
	struct eh_problems pr;
	struct eh_form f;
	char b[1024], name[512];
	size_t i, n = 0;

	/* A decoded newline, then 60 two-byte characters. */
	n += (size_t)snprintf(name, sizeof(name), "%%0A");
	for (i = 0; i < 60; i++)
		n += (size_t)snprintf(name + n, sizeof(name) - n, "%%C3%%A9");
	n = (size_t)snprintf(b, sizeof(b), "%s=secret1&%s=secret2", name,
	    name);
	memset(&pr, 0, sizeof(pr));
	T_EQ_INT(eh_form_read(&f, b, n, 0, &pr), EH_OK);
	T_EQ_INT(pr.n, 1);
	T_CHECK(strstr(pr.line[0], "secret") == NULL);
	T_CHECK(strchr(pr.line[0], '\n') == NULL);
	T_CHECK(strncmp(pr.line[0], "form field ?\xc3\xa9", 14) == 0);
	T_CHECK(strstr(pr.line[0], "...") != NULL);
	T_CHECK(eh_utf8_valid(pr.line[0], strlen(pr.line[0])));
	T_CHECK(strlen(pr.line[0]) < EH_PROBLEM_MAX);
	eh_form_free(&f);
	/* Many problems: EH_PROBLEMS_MAX lines, the rest counted. */
	n = 0;
	for (i = 0; i < 20; i++)
		n += (size_t)snprintf(b + n, sizeof(b) - n, "a=%zu&", i);
	memset(&pr, 0, sizeof(pr));
	T_EQ_INT(eh_form_read(&f, b, n, 0, &pr), EH_OK);
	T_EQ_INT(pr.n, EH_PROBLEMS_MAX);
	T_EQ_INT(pr.dropped, 19 - EH_PROBLEMS_MAX);
	T_EQ_STR(eh_form_get(&f, "a"), "0");
	eh_form_free(&f);
}

/* A query (EH_FORM_QUERY): a second '?' separates as '&'; no line-end
 * or byte-order-mark handling (those are a body's). */
static void
query(void)
{
	struct eh_form f;
	const char *q = "token=abc?EventType=transaction&TransID=1";

	T_EQ_INT(eh_form_read(&f, q, strlen(q), EH_FORM_QUERY, NULL), EH_OK);
	T_EQ_INT(f.n, 3);
	T_EQ_STR(eh_form_get(&f, "token"), "abc");
	T_EQ_STR(eh_form_get(&f, "EventType"), "transaction");
	eh_form_free(&f);
	T_EQ_INT(eh_form_read(&f, "a=1??b=2?", 9, EH_FORM_QUERY, NULL), EH_OK);
	T_EQ_INT(f.n, 2);
	T_EQ_STR(eh_form_get(&f, "b"), "2");
	eh_form_free(&f);
	T_EQ_INT(eh_form_read(&f, "a=%3F", 5, EH_FORM_QUERY, NULL), EH_OK);
	T_EQ_STR(eh_form_get(&f, "a"), "?");
	eh_form_free(&f);
}

const struct t_case t_form[] = {
	{ "decode table", table },
	{ "raw NUL rejected, length bounds input", raw_nul_rejected },
	{ "at most EH_FORM_MAX_FIELDS fields", field_limit },
	{ "a value over the limit", value_limit },
	{ "every AlphaTrust sample decodes", samples },
	{ "UTF-8 validation", utf8 },
	{ "with a problem list: repeats and unnamed fields", problems },
	{ "field names in problems are bounded", problem_names },
	{ "a query: a second ? separates", query },
	{ NULL, NULL }
};
