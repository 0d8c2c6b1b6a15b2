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
	{ "a=1&&b=2", EH_ERR_FORM_ESCAPE, 0, NULL, NULL },
	{ "&a=1", EH_ERR_FORM_ESCAPE, 0, NULL, NULL },
	{ "a=1&", EH_ERR_FORM_ESCAPE, 0, NULL, NULL },
	{ "=1", EH_ERR_FORM_ESCAPE, 0, NULL, NULL },
	{ "&", EH_ERR_FORM_ESCAPE, 0, NULL, NULL },
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

const struct t_case t_form[] = {
	{ "decode table", table },
	{ "raw NUL rejected, length bounds input", raw_nul_rejected },
	{ "at most EH_FORM_MAX_FIELDS fields", field_limit },
	{ "a value over the limit", value_limit },
	{ "every AlphaTrust sample decodes", samples },
	{ "UTF-8 validation", utf8 },
	{ NULL, NULL }
};
