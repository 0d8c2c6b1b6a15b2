/* lib/multipart.c: the strict multipart/form-data reader. */
#include <stdlib.h>

#include "../lib/esignhook.h"
#include "t.h"

#define CT "multipart/form-data; boundary=XyZ"
#define CD "Content-Disposition: form-data; name="
/* A body with its length, NUL bytes and all. */
#define B(s) s, sizeof(s) - 1

static const struct {
	const char *what;
	const char *ct;
	const char *body;
	size_t len;
	enum eh_err err;
	size_t n;                     /* fields on success */
	const char *name, *value;     /* one field to look up */
} cases[] = {
	/* Well-formed: RFC 7578 4.1's shape, CRLF everywhere. */
	{ "one part", CT, B("--XyZ\r\n" CD "\"grant_type\"\r\n\r\n"
	  "client_credentials\r\n--XyZ--\r\n"), EH_OK, 1, "grant_type",
	  "client_credentials" },
	{ "no CRLF after the close delimiter", CT, B("--XyZ\r\n" CD "\"a\"\r\n"
	  "\r\n1\r\n--XyZ--"), EH_OK, 1, "a", "1" },
	{ "preamble and epilogue", CT, B("This is a preamble.\r\n--XyZ\r\n"
	  CD "\"a\"\r\n\r\n1\r\n--XyZ--\r\nand an epilogue\r\n"), EH_OK, 1,
	  "a", "1" },
	{ "an epilogue that is not CRLF-shaped", CT, B("--XyZ\r\n" CD
	  "\"a\"\r\n\r\n1\r\n--XyZ--\r\n\n--XyZ\n"), EH_OK, 1, "a", "1" },
	{ "two parts", CT, B("--XyZ\r\n" CD "\"a\"\r\n\r\n1\r\n--XyZ\r\n"
	  CD "\"b\"\r\n\r\n2\r\n--XyZ--\r\n"), EH_OK, 2, "b", "2" },
	{ "a value with line ends and a boundary-like text", CT,
	  B("--XyZ\r\n" CD "\"a\"\r\n\r\nl1\r\nl2\n--XyZ x\r\n--XyZ--\r\n"),
	  EH_OK, 1, "a", "l1\r\nl2\n--XyZ x" },
	{ "an empty value", CT, B("--XyZ\r\n" CD "\"a\"\r\n\r\n\r\n--XyZ--"),
	  EH_OK, 1, "a", "" },
	{ "quoted boundary with a space and a colon",
	  "multipart/form-data; boundary=\"a b:c\"", B("--a b:c\r\n" CD
	  "\"a\"\r\n\r\n1\r\n--a b:c--\r\n"), EH_OK, 1, "a", "1" },
	{ "type and parameters in any case, other parameters",
	  "Multipart/Form-Data; charset=utf-8; BOUNDARY=XyZ",
	  B("--XyZ\r\ncontent-disposition: FORM-DATA; NAME=\"a\"\r\n\r\n1"
	  "\r\n--XyZ--\r\n"), EH_OK, 1, "a", "1" },
	{ "an unquoted name", CT, B("--XyZ\r\n" CD "scope\r\n\r\nx\r\n"
	  "--XyZ--\r\n"), EH_OK, 1, "scope", "x" },
	{ "what Java's multipart writers add", CT, B("--XyZ\r\n" CD
	  "\"a\"\r\nContent-Type: text/plain;charset=UTF-8\r\n"
	  "Content-Transfer-Encoding: 8bit\r\nContent-Length: 1\r\n\r\n1\r\n"
	  "--XyZ--\r\n"), EH_OK, 1, "a", "1" },
	{ "transport padding after delimiters", CT, B("--XyZ \t\r\n" CD
	  "\"a\"\r\n\r\n1\r\n--XyZ  \r\n" CD "\"b\"\r\n\r\n2\r\n--XyZ-- \r\n"),
	  EH_OK, 2, "a", "1" },
	{ "UTF-8 name and value", CT, B("--XyZ\r\n" CD "\"\xc3\xa9t\xc3\xa9\""
	  "\r\n\r\n\xe2\x82\xac\r\n--XyZ--\r\n"), EH_OK, 1, "\xc3\xa9t\xc3\xa9",
	  "\xe2\x82\xac" },
	{ "a 70-character boundary", "multipart/form-data; boundary="
	  "0123456789012345678901234567890123456789012345678901234567890123456789",
	  B("--0123456789012345678901234567890123456789012345678901234567890123456789\r\n"
	  CD "\"a\"\r\n\r\n1\r\n"
	  "--0123456789012345678901234567890123456789012345678901234567890123456789--"),
	  EH_OK, 1, "a", "1" },

	/* The content type. */
	{ "no content type", NULL, B("--XyZ\r\n" CD "\"a\"\r\n\r\n1\r\n"
	  "--XyZ--\r\n"), EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "no boundary", "multipart/form-data", B("--XyZ\r\n" CD "\"a\"\r\n"
	  "\r\n1\r\n--XyZ--\r\n"), EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "an empty boundary", "multipart/form-data; boundary=\"\"",
	  B("--\r\n" CD "\"a\"\r\n\r\n1\r\n----\r\n"), EH_ERR_MULTIPART, 0,
	  NULL, NULL },
	{ "a 71-character boundary", "multipart/form-data; boundary="
	  "01234567890123456789012345678901234567890123456789012345678901234567890",
	  B("--01234567890123456789012345678901234567890123456789012345678901234567890\r\n"
	  CD "\"a\"\r\n\r\n1\r\n"
	  "--01234567890123456789012345678901234567890123456789012345678901234567890--"),
	  EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "two boundaries", "multipart/form-data; boundary=XyZ; boundary=XyZ",
	  B("--XyZ\r\n" CD "\"a\"\r\n\r\n1\r\n--XyZ--\r\n"),
	  EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "a boundary outside bchars", "multipart/form-data; boundary=a!b",
	  B("--a!b\r\n" CD "\"a\"\r\n\r\n1\r\n--a!b--\r\n"),
	  EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "a boundary ending in a space", "multipart/form-data; boundary=\"ab \"",
	  B("--ab \r\n" CD "\"a\"\r\n\r\n1\r\n--ab --\r\n"),
	  EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "multipart/mixed", "multipart/mixed; boundary=XyZ", B("--XyZ\r\n" CD
	  "\"a\"\r\n\r\n1\r\n--XyZ--\r\n"), EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "a type that only starts the same",
	  "multipart/form-dataX; boundary=XyZ", B("--XyZ\r\n" CD
	  "\"a\"\r\n\r\n1\r\n--XyZ--\r\n"), EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "a malformed parameter", "multipart/form-data; boundary", B("--XyZ"
	  "\r\n" CD "\"a\"\r\n\r\n1\r\n--XyZ--\r\n"), EH_ERR_MULTIPART, 0,
	  NULL, NULL },

	/* The body's frame. */
	{ "an empty body", CT, B(""), EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "no delimiter at all", CT, B("a=1&b=2"), EH_ERR_MULTIPART, 0, NULL,
	  NULL },
	{ "no closing delimiter", CT, B("--XyZ\r\n" CD "\"a\"\r\n\r\n1\r\n"),
	  EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "a delimiter that does not close", CT, B("--XyZ\r\n" CD "\"a\"\r\n"
	  "\r\n1\r\n--XyZ"), EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "no part", CT, B("--XyZ--\r\n"), EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "bytes after the close delimiter", CT, B("--XyZ\r\n" CD "\"a\"\r\n"
	  "\r\n1\r\n--XyZ--junk"), EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "a delimiter with more after it", CT, B("--XyZ\r\n" CD "\"a\"\r\n"
	  "\r\n1\r\n--XyZz\r\n--XyZ--\r\n"), EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "a boundary without a line end", CT, B("--XyZ" CD "\"a\"\r\n"
	  "\r\n1\r\n--XyZ--"), EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "a preamble not ended by CRLF", CT, B("x--XyZ\r\n" CD "\"a\"\r\n"
	  "\r\n1\r\n--XyZ--\r\n"), EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "headers not ended by an empty line", CT, B("--XyZ\r\n" CD "\"a\""
	  "\r\n1\r\n--XyZ--\r\n"), EH_ERR_MULTIPART, 0, NULL, NULL },
	/* Bare LF: refused, so that no two readers split one body two
	 * ways (RFC 7578 4.1 and RFC 2046 5.1.1 say CRLF). */
	{ "LF-only line ends", CT, B("--XyZ\n" CD "\"a\"\n\n1\n--XyZ--\n"),
	  EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "LF-only header lines", CT, B("--XyZ\r\n" CD "\"a\"\n\n1\r\n"
	  "--XyZ--\r\n"), EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "an LF-only delimiter", CT, B("--XyZ\r\n" CD "\"a\"\r\n\r\n1\n"
	  "--XyZ--\r\n"), EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "a CR alone in a header", CT, B("--XyZ\r\n" CD "\"a\"\rX: 1\r\n"
	  "\r\n1\r\n--XyZ--\r\n"), EH_ERR_MULTIPART, 0, NULL, NULL },

	/* Part headers. */
	{ "a part without Content-Disposition", CT, B("--XyZ\r\n"
	  "Content-Type: text/plain\r\n\r\n1\r\n--XyZ--\r\n"),
	  EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "a part without headers", CT, B("--XyZ\r\n\r\n1\r\n--XyZ--\r\n"),
	  EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "two Content-Dispositions", CT, B("--XyZ\r\n" CD "\"a\"\r\n" CD
	  "\"b\"\r\n\r\n1\r\n--XyZ--\r\n"), EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "Content-Disposition: attachment", CT, B("--XyZ\r\n"
	  "Content-Disposition: attachment; name=\"a\"\r\n\r\n1\r\n--XyZ--"
	  "\r\n"), EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "a file part", CT, B("--XyZ\r\n" CD "\"a\"; filename=\"a.txt\"\r\n"
	  "\r\n1\r\n--XyZ--\r\n"), EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "a file part by filename*", CT, B("--XyZ\r\n" CD "\"a\"; "
	  "filename*=utf-8''a.txt\r\n\r\n1\r\n--XyZ--\r\n"), EH_ERR_MULTIPART,
	  0, NULL, NULL },
	{ "name*", CT, B("--XyZ\r\n" CD "\"a\"; name*=utf-8''b\r\n\r\n1\r\n"
	  "--XyZ--\r\n"), EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "no name", CT, B("--XyZ\r\nContent-Disposition: form-data\r\n\r\n1"
	  "\r\n--XyZ--\r\n"), EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "an empty name", CT, B("--XyZ\r\n" CD "\"\"\r\n\r\n1\r\n--XyZ--\r\n"),
	  EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "name given twice in one part", CT, B("--XyZ\r\n" CD "\"a\"; "
	  "name=\"b\"\r\n\r\n1\r\n--XyZ--\r\n"), EH_ERR_MULTIPART, 0, NULL,
	  NULL },
	{ "a backslash in a quoted name", CT, B("--XyZ\r\n" CD "\"a\\\"b\"\r\n"
	  "\r\n1\r\n--XyZ--\r\n"), EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "an unterminated quote", CT, B("--XyZ\r\n" CD "\"a\r\n\r\n1\r\n"
	  "--XyZ--\r\n"), EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "a non-text Content-Type", CT, B("--XyZ\r\n" CD "\"a\"\r\n"
	  "Content-Type: application/octet-stream\r\n\r\n1\r\n--XyZ--\r\n"),
	  EH_ERR_MULTIPART, 0, NULL, NULL },
	/* Apache HttpClient's default part: ISO-8859-1 and 8bit. */
	{ "ASCII text in another charset", CT, B("--XyZ\r\n" CD "\"a\"\r\n"
	  "Content-Type: text/plain; charset=ISO-8859-1\r\n"
	  "Content-Transfer-Encoding: 8bit\r\n\r\n1\r\n--XyZ--"
	  "\r\n"), EH_OK, 1, "a", "1" },
	{ "non-ASCII text in another charset", CT, B("--XyZ\r\n" CD
	  "\"a\"\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n"
	  "\xc3\xa9\r\n--XyZ--\r\n"), EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "two Content-Types", CT, B("--XyZ\r\n" CD "\"a\"\r\n"
	  "Content-Type: text/plain\r\nContent-Type: text/plain\r\n\r\n1\r\n"
	  "--XyZ--\r\n"), EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "a base64 transfer encoding", CT, B("--XyZ\r\n" CD "\"a\"\r\n"
	  "Content-Transfer-Encoding: base64\r\n\r\nMQ==\r\n--XyZ--\r\n"),
	  EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "a folded header", CT, B("--XyZ\r\n" CD "\"a\"\r\n x\r\n\r\n1\r\n"
	  "--XyZ--\r\n"), EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "a header without a colon", CT, B("--XyZ\r\n" CD "\"a\"\r\nX-y\r\n"
	  "\r\n1\r\n--XyZ--\r\n"), EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "a header name with a space", CT, B("--XyZ\r\nContent "
	  "Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ--\r\n"),
	  EH_ERR_MULTIPART, 0, NULL, NULL },
	{ "a control character in a header", CT, B("--XyZ\r\n" CD "\"a\"\r\n"
	  "X: \x01\r\n\r\n1\r\n--XyZ--\r\n"), EH_ERR_MULTIPART, 0, NULL, NULL },

	/* The form's rules. */
	{ "a name given twice", CT, B("--XyZ\r\n" CD "\"a\"\r\n\r\n1\r\n"
	  "--XyZ\r\n" CD "\"a\"\r\n\r\n2\r\n--XyZ--\r\n"), EH_ERR_FIELD_DUP, 0,
	  NULL, NULL },
	{ "a NUL in a value", CT, B("--XyZ\r\n" CD "\"a\"\r\n\r\n1\0002\r\n"
	  "--XyZ--\r\n"), EH_ERR_FORM_NUL, 0, NULL, NULL },
	{ "a NUL in a header", CT, B("--XyZ\r\n" CD "\"a\0\"\r\n\r\n1\r\n"
	  "--XyZ--\r\n"), EH_ERR_FORM_NUL, 0, NULL, NULL },
	{ "invalid UTF-8 in a value", CT, B("--XyZ\r\n" CD "\"a\"\r\n\r\n"
	  "\xc0\xaf\r\n--XyZ--\r\n"), EH_ERR_UTF8, 0, NULL, NULL },
	{ "invalid UTF-8 in a name", CT, B("--XyZ\r\n" CD "\"\xff\"\r\n\r\n"
	  "1\r\n--XyZ--\r\n"), EH_ERR_UTF8, 0, NULL, NULL },
	{ "a second part failing after a good one", CT, B("--XyZ\r\n" CD
	  "\"a\"\r\n\r\n1\r\n--XyZ\r\n" CD "\"b\"; filename=\"x\"\r\n\r\n2\r\n"
	  "--XyZ--\r\n"), EH_ERR_MULTIPART, 0, NULL, NULL },
};

static void
table(void)
{
	struct eh_form f;
	enum eh_err err;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err = eh_multipart_read(&f, cases[i].body, cases[i].len,
		    cases[i].ct);
		if (err != cases[i].err)
			fprintf(stderr, "  case \"%s\"\n", cases[i].what);
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

/* A body of n parts named p0, p1, ...; *len set. malloc'd. */
static char *
parts(size_t n, size_t *len)
{
	char *b;
	size_t i, cap = n * 80 + 16;
	int k;

	b = malloc(cap);
	if (b == NULL)
		return NULL;
	*len = 0;
	for (i = 0; i < n; i++) {
		k = snprintf(b + *len, cap - *len, "--XyZ\r\n" CD "\"p%zu\"\r\n"
		    "\r\n%zu\r\n", i, i);
		*len += (size_t)k;
	}
	k = snprintf(b + *len, cap - *len, "--XyZ--\r\n");
	*len += (size_t)k;
	return b;
}

static void
bounds(void)
{
	struct eh_form f;
	char *b, line[1100];
	size_t len;
	int n;

	/* EH_FORM_MAX_FIELDS parts, and one more. */
	b = parts(EH_FORM_MAX_FIELDS, &len);
	T_CHECK(b != NULL);
	T_EQ_INT(eh_multipart_read(&f, b, len, CT), EH_OK);
	T_EQ_INT(f.n, EH_FORM_MAX_FIELDS);
	T_EQ_STR(eh_form_get(&f, "p63"), "63");
	eh_form_free(&f);
	free(b);
	b = parts(EH_FORM_MAX_FIELDS + 1, &len);
	T_CHECK(b != NULL);
	T_EQ_INT(eh_multipart_read(&f, b, len, CT), EH_ERR_FORM_LIMIT);
	T_EQ_INT(f.n, 0);
	free(b);

	/* A header line of 998 bytes (RFC 5322's limit) and of 999. */
	memset(line, 'x', sizeof(line));
	memcpy(line, "X-Long: ", 8);
	b = malloc(2000);
	T_CHECK(b != NULL);
	n = snprintf(b, 2000, "--XyZ\r\n" CD "\"a\"\r\n%.998s\r\n\r\n1\r\n"
	    "--XyZ--\r\n", line);
	T_EQ_INT(eh_multipart_read(&f, b, (size_t)n, CT), EH_OK);
	eh_form_free(&f);
	n = snprintf(b, 2000, "--XyZ\r\n" CD "\"a\"\r\n%.999s\r\n\r\n1\r\n"
	    "--XyZ--\r\n", line);
	T_EQ_INT(eh_multipart_read(&f, b, (size_t)n, CT), EH_ERR_FORM_LIMIT);
	/* ... and the same, cut before its line end. */
	n = snprintf(b, 2000, "--XyZ\r\n" CD "\"a\"\r\n%.999s", line);
	T_EQ_INT(eh_multipart_read(&f, b, (size_t)n, CT), EH_ERR_FORM_LIMIT);
	n = snprintf(b, 2000, "--XyZ\r\n" CD "\"a\"\r\n%.100s", line);
	T_EQ_INT(eh_multipart_read(&f, b, (size_t)n, CT), EH_ERR_MULTIPART);
	/* Eight header lines, and nine. */
	n = snprintf(b, 2000, "--XyZ\r\n" CD "\"a\"\r\n%s\r\n1\r\n--XyZ--\r\n",
	    "X: 1\r\nX: 2\r\nX: 3\r\nX: 4\r\nX: 5\r\nX: 6\r\nX: 7\r\n");
	T_EQ_INT(eh_multipart_read(&f, b, (size_t)n, CT), EH_OK);
	eh_form_free(&f);
	n = snprintf(b, 2000, "--XyZ\r\n" CD "\"a\"\r\n%s\r\n1\r\n--XyZ--\r\n",
	    "X: 1\r\nX: 2\r\nX: 3\r\nX: 4\r\nX: 5\r\nX: 6\r\nX: 7\r\nX: 8\r\n");
	T_EQ_INT(eh_multipart_read(&f, b, (size_t)n, CT), EH_ERR_FORM_LIMIT);
	T_EQ_INT(f.n, 0);
	free(b);

	/* A value of 8192 bytes (the form decoder's bound) and of 8193. */
	b = malloc(8300);
	T_CHECK(b != NULL);
	len = (size_t)snprintf(b, 8300, "--XyZ\r\n" CD "\"a\"\r\n\r\n");
	memset(b + len, 'v', 8193);
	memcpy(b + len + 8192, "\r\n--XyZ--\r\n", 11);
	T_EQ_INT(eh_multipart_read(&f, b, len + 8192 + 11, CT), EH_OK);
	T_EQ_INT(f.n, 1);
	T_EQ_INT(strlen(eh_form_get(&f, "a")), 8192);
	eh_form_free(&f);
	memcpy(b + len + 8193, "\r\n--XyZ--\r\n", 11);
	T_EQ_INT(eh_multipart_read(&f, b, len + 8193 + 11, CT),
	    EH_ERR_FORM_LIMIT);
	free(b);
}

/* The length given is the body: bytes past it are not read. */
static void
explicit_length(void)
{
	static const char b[] = "--XyZ\r\n" CD "\"a\"\r\n\r\n1\r\n--XyZ--"
	    "\r\n--XyZ\r\n";
	struct eh_form f;

	T_EQ_INT(eh_multipart_read(&f, b, sizeof(b) - 1 - 9, CT), EH_OK);
	T_EQ_STR(eh_form_get(&f, "a"), "1");
	eh_form_free(&f);
	/* Cut inside the close delimiter. */
	T_EQ_INT(eh_multipart_read(&f, b, sizeof(b) - 1 - 12, CT),
	    EH_ERR_MULTIPART);
	T_EQ_INT(eh_multipart_read(&f, NULL, 0, CT), EH_ERR_MULTIPART);
}

const struct t_case t_multipart[] = {
	{ "bodies and content types, good and bad", table },
	{ "parts, header lines and values at and over their bounds", bounds },
	{ "reads only the given length", explicit_length },
	{ NULL, NULL }
};
