/* lib/log.c: logfmt escaping. */
#include <stdio.h>

#include "../lib/esignhook.h"
#include "t.h"

static const struct {
	const char *in, *out;
} cases[] = {
	{ "plain", "k=plain" },
	{ "", "k=\"\"" },
	{ NULL, "k=-" },
	{ "two words", "k=\"two words\"" },
	{ "a=b", "k=\"a=b\"" },
	{ "say \"hi\"", "k=\"say \\\"hi\\\"\"" },
	{ "back\\slash", "k=back\\\\slash" },
	{ "x\nlevel=error status=200", "k=\"x\\nlevel=error status=200\"" },
	{ "cr\rlf", "k=cr\\x0dlf" },
	{ "tab\there", "k=tab\\x09here" },
	{ "del\x7f", "k=del\\x7f" },
	{ "caf\xc3\xa9", "k=caf\xc3\xa9" },
};

static void
escaping(void)
{
	char buf[256];
	size_t i, len;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = 0;
		buf[0] = '\0';
		eh_logfmt(buf, sizeof(buf), &len, "k", cases[i].in);
		T_EQ_STR(buf, cases[i].out);
		T_EQ_INT(len, strlen(buf));
		T_CHECK(strchr(buf, '\n') == NULL);
	}
}

static void
fields_and_truncation(void)
{
	char buf[16];
	size_t len = 0;

	buf[0] = '\0';
	eh_logfmt(buf, sizeof(buf), &len, "a", "1");
	eh_logfmt(buf, sizeof(buf), &len, "b", "2");
	T_EQ_STR(buf, "a=1 b=2");
	eh_logfmt(buf, sizeof(buf), &len, "long", "0123456789");
	T_EQ_INT(len, sizeof(buf) - 1);
	T_EQ_INT(strlen(buf), sizeof(buf) - 1);
	eh_logfmt(buf, sizeof(buf), &len, "more", "x");
	T_EQ_INT(strlen(buf), sizeof(buf) - 1);
}

/* eh_logfmt as it was up to issue 11, a byte at a time: the reference
 * the run-copying one must match at every buffer size. */
static void
old_put(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
	if (cap == 0 || *len >= cap - 1)
		return;
	if (n > cap - 1 - *len)
		n = cap - 1 - *len;
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = '\0';
}

static void
old_logfmt(char *buf, size_t cap, size_t *len, const char *key,
    const char *value)
{
	const unsigned char *p;
	char esc[8];
	int quote;

	if (value == NULL)
		value = "-";
	quote = *value == '\0' || strpbrk(value, " =\"") != NULL;
	if (*len > 0)
		old_put(buf, cap, len, " ", 1);
	old_put(buf, cap, len, key, strlen(key));
	old_put(buf, cap, len, "=", 1);
	if (quote)
		old_put(buf, cap, len, "\"", 1);
	for (p = (const unsigned char *)value; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			old_put(buf, cap, len, esc, 2);
		} else if (*p == '\n') {
			old_put(buf, cap, len, "\\n", 2);
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", *p);
			old_put(buf, cap, len, esc, 4);
		} else
			old_put(buf, cap, len, (const char *)p, 1);
	}
	if (quote)
		old_put(buf, cap, len, "\"", 1);
}

static void
same_as_before(void)
{
	static const char *const values[] = {
		"plain", "", "two words", "a\"b\\c", "\n\r\t\x01\x1f\x7f",
		"caf\xc3\xa9 \xff", "x\nlevel=error status=200",
		"20261122T113204.987654Z-0123456789abcdef", "\\\\\\\"", NULL
	};
	char a[64], b[64], all[256];
	size_t cap, i, la, lb, k;
	int c;

	for (c = 1; c < 256; c++)
		all[c - 1] = (char)c;
	all[255] = '\0';
	for (cap = 0; cap <= sizeof(a); cap++) {
		for (i = 0; i <= sizeof(values) / sizeof(values[0]); i++) {
			const char *v = i < sizeof(values) / sizeof(values[0]) ?
			    values[i] : all;

			memset(a, 'A', sizeof(a));
			memset(b, 'A', sizeof(b));
			la = lb = 0;
			if (cap > 0)
				a[0] = b[0] = '\0';
			/* Two fields, so the second starts part way. */
			for (k = 0; k < 2; k++) {
				old_logfmt(a, cap, &la, "key", v);
				eh_logfmt(b, cap, &lb, "key", v);
			}
			T_EQ_INT(lb, la);
			T_CHECK(memcmp(a, b, sizeof(a)) == 0);
		}
	}
	/* And the whole of every byte, unbounded. */
	{
		char big[2048], big2[2048];

		la = lb = 0;
		big[0] = big2[0] = '\0';
		old_logfmt(big, sizeof(big), &la, "all", all);
		eh_logfmt(big2, sizeof(big2), &lb, "all", all);
		T_EQ_INT(lb, la);
		T_EQ_STR(big2, big);
	}
}

const struct t_case t_log[] = {
	{ "values escaped, never a second line", escaping },
	{ "fields joined, truncated at the buffer", fields_and_truncation },
	{ "the same bytes as a byte at a time, at every size", same_as_before },
	{ NULL, NULL }
};
