/* lib/log.c: logfmt escaping. */
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

const struct t_case t_log[] = {
	{ "values escaped, never a second line", escaping },
	{ "fields joined, truncated at the buffer", fields_and_truncation },
	{ NULL, NULL }
};
