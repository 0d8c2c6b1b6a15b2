/* lib/onespan.c: OneSpan Sign callback bodies. */
#include <stdlib.h>

#include "../lib/esignhook.h"
#include "t.h"

static const char *const samples_names[] = {
	"cobrowse-request", "document-signed-consent", "document-signed",
	"document-viewed", "email-bounce", "kba-failure", "package-activate",
	"package-archive", "package-attachment", "package-complete",
	"package-create", "package-deactivate", "package-decline",
	"package-delete", "package-expire", "package-ready-for-complete",
	"package-restore", "package-trash", "recordings-ready",
	"role-reassign", "signer-complete", "signer-locked",
	"template-create", NULL
};

static void
samples(void)
{
	struct eh_event ev;
	char path[256], *buf;
	size_t i, len;

	for (i = 0; samples_names[i] != NULL; i++) {
		snprintf(path, sizeof(path), "tests/data/onespan/%s.json",
		    samples_names[i]);
		buf = t_read_file(path, &len);
		T_CHECK(buf != NULL);
		if (buf == NULL)
			continue;
		T_EQ_INT(eh_onespan_parse(&ev, buf, len), EH_OK);
		T_CHECK(ev.known);
		T_CHECK(ev.transaction_id != NULL &&
		    strlen(ev.transaction_id) > 0);
		T_EQ_INT(strlen(ev.dedupe_key), 64);
		eh_event_free(&ev);
		free(buf);
	}
}

static char *
repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static enum eh_err
parse_str(const char *body)
{
	struct eh_event ev;
	enum eh_err err;

	err = eh_onespan_parse(&ev, body, strlen(body));
	eh_event_free(&ev);
	return err;
}

static enum eh_err
with_field(const char *field, size_t n)
{
	char *v = repeat('x', n), *body;
	size_t len = n + 256;
	enum eh_err err;

	body = malloc(len);
	snprintf(body, len, "{\"name\":\"PACKAGE_DECLINE\",\"packageId\":"
	    "\"p1\",\"%s\":\"%s\"}", field, v);
	if (strcmp(field, "packageId") == 0)
		snprintf(body, len, "{\"name\":\"X\",\"packageId\":\"%s\"}", v);
	err = parse_str(body);
	free(v);
	free(body);
	return err;
}

static void
sizes(void)
{
	T_EQ_INT(with_field("sessionUser", 255), EH_OK);
	T_EQ_INT(with_field("sessionUser", 256), EH_ERR_FIELD_SIZE);
	T_EQ_INT(with_field("packageId", 255), EH_OK);
	T_EQ_INT(with_field("packageId", 256), EH_ERR_FIELD_SIZE);
	T_EQ_INT(with_field("newRoleId", 255), EH_OK);
	T_EQ_INT(with_field("newRoleId", 256), EH_ERR_FIELD_SIZE);
	T_EQ_INT(with_field("documentId", 256), EH_OK);
	T_EQ_INT(with_field("documentId", 257), EH_ERR_FIELD_SIZE);
	T_EQ_INT(with_field("message", 4000), EH_OK);
	T_EQ_INT(with_field("message", 4001), EH_ERR_FIELD_SIZE);
}

static void
sizes_count_characters(void)
{
	/* 255 two-byte characters are 255 characters, not 510. */
	char body[1024];
	size_t n, i;

	n = (size_t)snprintf(body, sizeof(body),
	    "{\"name\":\"X\",\"packageId\":\"p\",\"sessionUser\":\"");
	for (i = 0; i < 255; i++) {
		body[n++] = '\xc3';
		body[n++] = '\xa9';
	}
	memcpy(body + n, "\"}", 3);
	T_EQ_INT(parse_str(body), EH_OK);
}

static const struct {
	const char *body;
	enum eh_err err;
} bad[] = {
	{ "", EH_ERR_JSON },
	{ "{", EH_ERR_JSON },
	{ "{\"name\":\"X\",\"packageId\":\"p\"} x", EH_ERR_JSON },
	{ "{\"name\":\"X\",\"packageId\":\"p\",}", EH_ERR_JSON },
	{ "[]", EH_ERR_NOT_OBJECT },
	{ "[{\"name\":\"X\",\"packageId\":\"p\"}]", EH_ERR_NOT_OBJECT },
	{ "\"s\"", EH_ERR_JSON },
	{ "{}", EH_ERR_FIELD_MISSING },
	{ "{\"name\":\"X\"}", EH_ERR_FIELD_MISSING },
	{ "{\"packageId\":\"p\"}", EH_ERR_FIELD_MISSING },
	{ "{\"name\":\"\",\"packageId\":\"p\"}", EH_ERR_FIELD_MISSING },
	{ "{\"name\":\"X\",\"packageId\":\"\"}", EH_ERR_FIELD_MISSING },
	{ "{\"name\":null,\"packageId\":\"p\"}", EH_ERR_FIELD_TYPE },
	{ "{\"name\":\"X\",\"packageId\":5}", EH_ERR_FIELD_TYPE },
	{ "{\"name\":7,\"packageId\":\"p\"}", EH_ERR_FIELD_TYPE },
	{ "{\"name\":\"X\",\"packageId\":\"p\",\"message\":[]}", EH_ERR_FIELD_TYPE },
	{ "{\"name\":\"X\",\"packageId\":\"p\",\"sessionUser\":1}", EH_ERR_FIELD_TYPE },
	{ "{\"name\":\"X\",\"packageId\":\"p\",\"createdDate\":{}}", EH_ERR_FIELD_TYPE },
	{ "{\"name\":\"X\",\"name\":\"Y\",\"packageId\":\"p\"}", EH_ERR_JSON },
	{ "{\"name\":\"X\\u0000\",\"packageId\":\"p\"}", EH_ERR_JSON },
	{ "{\"name\":\"X\",\"packageId\":\"p\",\"n\":123456789012345678901234567890}", EH_ERR_JSON },
	{ "{\"name\":\"\xff\",\"packageId\":\"p\"}", EH_ERR_JSON },
	{ "{\"name\":\"\\ud800\",\"packageId\":\"p\"}", EH_ERR_JSON },
};

static void
bad_bodies(void)
{
	size_t i;
	enum eh_err err;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = parse_str(bad[i].body);
		if (err != bad[i].err)
			fprintf(stderr, "  case %s\n", bad[i].body);
		T_EQ_INT(err, bad[i].err);
	}
}

static void
nesting_bomb(void)
{
	size_t n = 60000, i;
	char *b = malloc(n + 64);
	size_t len = 0;

	len += (size_t)snprintf(b, 64, "{\"name\":\"X\",\"packageId\":\"p\",\"a\":");
	for (i = 0; i < (n - len) / 2; i++)
		b[len + i] = '[';
	len += i;
	T_EQ_INT(eh_onespan_parse(&(struct eh_event){ 0 }, b, len), EH_ERR_JSON);
	free(b);
}

static void
unknown_event_kept(void)
{
	struct eh_event ev;
	const char *b = "{\"name\":\"PACKAGE_TELEPORT\",\"packageId\":\"p9\","
	    "\"extra\":{\"x\":[1,2.5,true]}}";

	T_EQ_INT(eh_onespan_parse(&ev, b, strlen(b)), EH_OK);
	T_EQ_INT(ev.known, 0);
	T_EQ_STR(ev.name, "PACKAGE_TELEPORT");
	T_EQ_STR(ev.transaction_id, "p9");
	T_EQ_STR(ev.data, b);
	eh_event_free(&ev);
}

static void
data_unchanged(void)
{
	struct eh_event ev;
	const char *b = "  \n{ \"name\" : \"PACKAGE_OPT_OUT\",\n \"packageId\":"
	    "\"p\", \"r\": 1.10 }\r\n";

	T_EQ_INT(eh_onespan_parse(&ev, b, strlen(b)), EH_OK);
	T_EQ_INT(ev.known, 1);
	/* Bytes as received, less the blanks around the object. */
	T_EQ_STR(ev.data, "{ \"name\" : \"PACKAGE_OPT_OUT\",\n \"packageId\":"
	    "\"p\", \"r\": 1.10 }");
	T_EQ_INT(ev.data_len, strlen(ev.data));
	eh_event_free(&ev);
}

static void
dedupe_ignores_format(void)
{
	struct eh_event a, b, c;
	const char *x = "{\"name\":\"X\",\"packageId\":\"p\"}";
	const char *y = "{ \"packageId\" : \"p\",\n\"name\":\"X\" }";
	const char *z = "{\"name\":\"X\",\"packageId\":\"q\"}";

	T_EQ_INT(eh_onespan_parse(&a, x, strlen(x)), EH_OK);
	T_EQ_INT(eh_onespan_parse(&b, y, strlen(y)), EH_OK);
	T_EQ_INT(eh_onespan_parse(&c, z, strlen(z)), EH_OK);
	T_EQ_STR(a.dedupe_key, b.dedupe_key);
	T_CHECK(strcmp(a.dedupe_key, c.dedupe_key) != 0);
	eh_event_free(&a);
	eh_event_free(&b);
	eh_event_free(&c);
}

static void
known_names(void)
{
	T_CHECK(eh_onespan_known("PACKAGE_COMPLETE"));
	T_CHECK(eh_onespan_known("PACKAGE_OPT_OUT"));
	T_CHECK(eh_onespan_known("RECORDINGS_READY"));
	T_CHECK(eh_onespan_known("TEMPLATE_CREATE"));
	T_CHECK(!eh_onespan_known("package_complete"));
	T_CHECK(!eh_onespan_known(""));
}

/* .NET's StreamWriter with Encoding.UTF8: EF BB BF, then the JSON. */
static void
byte_order_mark(void)
{
	struct eh_event ev, plain;
	const char *b = "\xef\xbb\xbf{\"name\":\"PACKAGE_COMPLETE\","
	    "\"packageId\":\"p1\"}\r\n";

	T_EQ_INT(eh_onespan_parse(&ev, b, strlen(b)), EH_OK);
	T_EQ_STR(ev.data, "{\"name\":\"PACKAGE_COMPLETE\",\"packageId\":\"p1\"}");
	T_EQ_INT(ev.known, 1);
	T_EQ_INT(eh_onespan_parse(&plain, b + 3, strlen(b) - 3), EH_OK);
	T_EQ_STR(ev.dedupe_key, plain.dedupe_key);
	eh_event_free(&ev);
	eh_event_free(&plain);
	/* Only at the start, and only one. */
	T_EQ_INT(parse_str("\xef\xbb\xbf\xef\xbb\xbf{}"), EH_ERR_JSON);
	T_EQ_INT(parse_str(" \xef\xbb\xbf{}"), EH_ERR_JSON);
}

static const struct {
	const char *body;
	const char *problem;        /* a substring of the first problem */
	const char *name, *tid;     /* NULL: null */
	int raw;
} readable[] = {
	{ "{\"name\":\"X\"}", "packageId is missing", "X", NULL, 0 },
	{ "{\"packageId\":\"p\"}", "name is missing", NULL, "p", 0 },
	{ "{\"name\":\"\",\"packageId\":\"p\"}", "name is empty", NULL, "p", 0 },
	{ "{\"name\":7,\"packageId\":\"p\"}", "name is a number, not a string",
	  NULL, "p", 0 },
	{ "{\"name\":null,\"packageId\":\"p\"}", "name is null, not a string",
	  NULL, "p", 0 },
	{ "{\"name\":\"X\",\"packageId\":{}}",
	  "packageId is an object, not a string", "X", NULL, 0 },
	{ "{\"name\":\"X\",\"packageId\":\"p\",\"message\":[]}",
	  "message is an array, not a string", "X", "p", 0 },
	{ "{\"name\":\"X\",\"packageId\":\"p\",\"createdDate\":true}",
	  "createdDate is a boolean, not a string", "X", "p", 0 },
	{ "", "malformed JSON at byte 0", NULL, NULL, 1 },
	{ "{", "malformed JSON at byte 1: the body ends inside a value", NULL,
	  NULL, 1 },
	{ "[{\"name\":\"X\",\"packageId\":\"p\"}]",
	  "the JSON body is an array, not an object", NULL, NULL, 1 },
	{ "{\"name\":\"X\",\"name\":\"Y\",\"packageId\":\"p\"}",
	  "a duplicate object key", NULL, NULL, 1 },
	{ "{\"name\":\"X\\u0000\",\"packageId\":\"p\"}", "a \\u0000 in a string",
	  NULL, NULL, 1 },
	{ "{\"name\":\"\xff\",\"packageId\":\"p\"}", "invalid UTF-8", NULL,
	  NULL, 1 },
	{ "{\"name\":\"X\",\"packageId\":\"p\",\"n\":1e99999}",
	  "a number too large", NULL, NULL, 1 },
	{ "{\"name\":\"X\",\"packageId\":\"p\"} x", "bytes after the value",
	  NULL, NULL, 1 },
};

/*
 * An authenticated delivery is read, not refused: what does not fit is
 * a problem, the event or package id null when it could not be read,
 * a body that is no JSON object kept as raw.
 */
static void
read_with_problems(void)
{
	struct eh_event ev;
	size_t i;

	for (i = 0; i < sizeof(readable) / sizeof(readable[0]); i++) {
		int before = t_failed;

		T_EQ_INT(eh_onespan_read(&ev, readable[i].body,
		    strlen(readable[i].body)), EH_OK);
		T_CHECK(ev.problems.n > 0 && strstr(ev.problems.line[0],
		    readable[i].problem) != NULL);
		T_EQ_INT(ev.known, 0);
		if (readable[i].name == NULL)
			T_CHECK(ev.name == NULL);
		else
			T_EQ_STR(ev.name, readable[i].name);
		if (readable[i].tid == NULL)
			T_CHECK(ev.transaction_id == NULL);
		else
			T_EQ_STR(ev.transaction_id, readable[i].tid);
		if (readable[i].raw) {
			T_CHECK(ev.data == NULL);
			T_EQ_INT(ev.raw_len, strlen(readable[i].body));
			T_CHECK(ev.raw != NULL && memcmp(ev.raw,
			    readable[i].body, ev.raw_len) == 0);
		} else {
			T_EQ_STR(ev.data, readable[i].body);
			T_CHECK(ev.raw == NULL);
		}
		T_EQ_INT(strlen(ev.dedupe_key), 64);
		if (t_failed != before)
			fprintf(stderr, "  case %s: %s\n", readable[i].body,
			    ev.problems.n > 0 ? ev.problems.line[0] : "-");
		eh_event_free(&ev);
	}
	/* Both required fields wrong: two lines, in the documents' order. */
	T_EQ_INT(eh_onespan_read(&ev, "{}", 2), EH_OK);
	T_EQ_INT(ev.problems.n, 2);
	T_EQ_STR(ev.problems.line[0], "name is missing");
	T_EQ_STR(ev.problems.line[1], "packageId is missing");
	eh_event_free(&ev);
	/* A valid event has none. */
	T_EQ_INT(eh_onespan_read(&ev, "{\"name\":\"X\",\"packageId\":\"p\"}",
	    28), EH_OK);
	T_EQ_INT(ev.problems.n, 0);
	eh_event_free(&ev);
}

/* The dedupe key of a raw event: over the provider and the bytes. */
static void
raw_dedupe_key(void)
{
	struct eh_event a, b, c;

	T_EQ_INT(eh_onespan_read(&a, "{\"name\":", 8), EH_OK);
	T_EQ_INT(eh_onespan_read(&b, "{\"name\":", 8), EH_OK);
	T_EQ_INT(eh_onespan_read(&c, "{\"name\": ", 9), EH_OK);
	T_EQ_STR(a.dedupe_key, b.dedupe_key);
	T_CHECK(strcmp(a.dedupe_key, c.dedupe_key) != 0);
	/* SHA-256("onespan\nraw\n{\"name\":") */
	T_EQ_STR(a.dedupe_key,
	    "a429ce1523059aacfe4d60af8c2920967618c86d2cc6d01ffa7e74dd2ae58e3b");
	eh_event_free(&a);
	eh_event_free(&b);
	eh_event_free(&c);
}

const struct t_case t_onespan[] = {
	{ "every sample parses as a known event", samples },
	{ "documented field sizes", sizes },
	{ "sizes count characters, not bytes", sizes_count_characters },
	{ "malformed and mistyped bodies", bad_bodies },
	{ "nesting bomb refused", nesting_bomb },
	{ "unknown events are kept, marked unknown", unknown_event_kept },
	{ "data is the received object unchanged", data_unchanged },
	{ "dedupe key ignores formatting and key order", dedupe_ignores_format },
	{ "known event names", known_names },
	{ "a leading byte order mark is ignored", byte_order_mark },
	{ "authenticated: problems, not refusals", read_with_problems },
	{ "a raw event's dedupe key is over its bytes", raw_dedupe_key },
	{ NULL, NULL }
};
