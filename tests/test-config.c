/* lib/config.c: keys, values, layering, the file format. */
#include <stdlib.h>

#include <sodium.h>

#include "../lib/esignhook.h"
#include "t.h"

static int
has_secret(const struct eh_secrets *s, const char *plain)
{
	unsigned char d[32];
	size_t i;

	crypto_hash_sha256(d, (const unsigned char *)plain, strlen(plain));
	for (i = 0; i < s->n; i++)
		if (memcmp(d, s->digest[i], 32) == 0)
			return 1;
	return 0;
}

static void
defaults(void)
{
	struct eh_config c;

	eh_config_init(&c);
	T_EQ_INT(c.max_body, 65536);
	T_EQ_INT(c.provider, EH_PROVIDER_AUTO);
	T_CHECK(c.spool == NULL);
	T_EQ_INT(c.onespan.n, 0);
	T_EQ_INT(c.alphatrust.n, 0);
	T_EQ_INT(c.read_timeout_ms, 10000);
	eh_config_free(&c);
	eh_config_free(&c);
}

static void
apply_all(void)
{
	struct t_kv kv[] = {
		{ "ESIGNHOOK_SPOOL", "/var/spool/x" },
		{ "ESIGNHOOK_ONESPAN_KEYS", " k1 , secureKey#1,, " },
		{ "ESIGNHOOK_ALPHATRUST_TOKENS", "tok-A_1.~" },
		{ "ESIGNHOOK_RESPONSE_TEXT", "RECEIVED" },
		{ "ESIGNHOOK_MAX_BODY", "32k" },
		{ "ESIGNHOOK_SPOOL_MAX_EVENTS", "10" },
		{ "ESIGNHOOK_SPOOL_MIN_FREE", "2M" },
		{ "ESIGNHOOK_PROVIDER", "alphatrust" },
		{ "ESIGNHOOK_LOG", "syslog" },
		{ "ESIGNHOOK_THREADS", "3" },
		{ "ESIGNHOOK_READ_TIMEOUT", "1500ms" },
		{ NULL, NULL }
	};
	struct eh_config c, d;
	const char *bad;

	eh_config_init(&c);
	T_EQ_INT(eh_config_apply(&c, t_kv_lookup, kv, &bad), EH_OK);
	T_CHECK(bad == NULL);
	T_EQ_STR(c.spool, "/var/spool/x");
	T_EQ_INT(c.onespan.n, 2);
	T_CHECK(has_secret(&c.onespan, "k1"));
	T_CHECK(has_secret(&c.onespan, "secureKey#1"));
	T_CHECK(!has_secret(&c.onespan, " k1 "));
	T_EQ_INT(c.alphatrust.n, 1);
	T_CHECK(has_secret(&c.alphatrust, "tok-A_1.~"));
	T_EQ_STR(c.response_text, "RECEIVED");
	T_EQ_INT(c.max_body, 32768);
	T_EQ_INT(c.max_events, 10);
	T_EQ_INT(c.min_free, 2 * 1024 * 1024);
	T_EQ_INT(c.provider, EH_PROVIDER_ALPHATRUST);
	T_EQ_INT(c.log, EH_LOG_SYSLOG);
	T_EQ_INT(c.threads, 3);
	T_EQ_INT(c.read_timeout_ms, 1500);
	T_EQ_INT(eh_config_copy(&d, &c), EH_OK);
	eh_config_free(&c);
	T_EQ_STR(d.spool, "/var/spool/x");
	T_EQ_INT(d.read_timeout_ms, 1500);
	T_CHECK(has_secret(&d.onespan, "secureKey#1"));
	eh_config_free(&d);
}

static const struct {
	const char *key, *value;
} invalid[] = {
	{ "ESIGNHOOK_SPOOL", "relative/path" },
	{ "ESIGNHOOK_SPOOL", "" },
	{ "ESIGNHOOK_MAX_BODY", "12x" },
	{ "ESIGNHOOK_MAX_BODY", "-1" },
	{ "ESIGNHOOK_MAX_BODY", " 5" },
	{ "ESIGNHOOK_MAX_BODY", "0" },
	{ "ESIGNHOOK_MAX_BODY", "1G" },
	{ "ESIGNHOOK_MAX_BODY", "" },
	{ "ESIGNHOOK_SPOOL_MAX_EVENTS", "99999999999999999999999" },
	{ "ESIGNHOOK_SPOOL_MIN_FREE", "5T" },
	{ "ESIGNHOOK_SPOOL_MIN_FREE", "18446744073709551616" },
	{ "ESIGNHOOK_PROVIDER", "OneSpan" },
	{ "ESIGNHOOK_LOG", "file" },
	{ "ESIGNHOOK_THREADS", "0" },
	{ "ESIGNHOOK_THREADS", "1000" },
	{ "ESIGNHOOK_ALPHATRUST_TOKENS", "has/slash" },
	{ "ESIGNHOOK_ALPHATRUST_TOKENS", "a,b c" },
	{ "ESIGNHOOK_ONESPAN_KEYS", "ctl\x01key" },
	{ "ESIGNHOOK_RESPONSE_TEXT", "two\nlines" },
	{ "ESIGNHOOK_ALLOW_ROOT", "maybe" },
	{ "ESIGNHOOK_READ_TIMEOUT", "0" },
	{ "ESIGNHOOK_READ_TIMEOUT", "0ms" },
	{ "ESIGNHOOK_READ_TIMEOUT", "" },
	{ "ESIGNHOOK_READ_TIMEOUT", "-1" },
	{ "ESIGNHOOK_READ_TIMEOUT", " 5" },
	{ "ESIGNHOOK_READ_TIMEOUT", "10 s" },
	{ "ESIGNHOOK_READ_TIMEOUT", "1.5s" },
	{ "ESIGNHOOK_READ_TIMEOUT", "61m" },
	{ "ESIGNHOOK_READ_TIMEOUT", "99999999999999999999" },
};

static void
invalid_values(void)
{
	struct eh_config c;
	struct t_kv kv[2] = { { NULL, NULL }, { NULL, NULL } };
	const char *bad;
	size_t i;
	enum eh_err err;

	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		eh_config_init(&c);
		kv[0].k = invalid[i].key;
		kv[0].v = invalid[i].value;
		err = eh_config_apply(&c, t_kv_lookup, kv, &bad);
		if (err != EH_ERR_CONFIG)
			fprintf(stderr, "  case %s=%s\n", invalid[i].key,
			    invalid[i].value);
		T_EQ_INT(err, EH_ERR_CONFIG);
		T_EQ_STR(bad, invalid[i].key);
		eh_config_free(&c);
	}
}

static void
layering(void)
{
	struct t_kv file[] = {
		{ "ESIGNHOOK_SPOOL", "/a" },
		{ "ESIGNHOOK_ONESPAN_KEYS", "old" },
		{ "ESIGNHOOK_MAX_BODY", "100" },
		{ NULL, NULL }
	}, env[] = {
		{ "ESIGNHOOK_SPOOL", "/b" },
		{ NULL, NULL }
	}, req[] = {
		{ "ESIGNHOOK_ONESPAN_KEYS", "" },
		{ NULL, NULL }
	};
	struct eh_config c;

	eh_config_init(&c);
	T_EQ_INT(eh_config_apply(&c, t_kv_lookup, file, NULL), EH_OK);
	T_EQ_INT(eh_config_apply(&c, t_kv_lookup, env, NULL), EH_OK);
	T_EQ_STR(c.spool, "/b");
	T_EQ_INT(c.max_body, 100);
	T_EQ_INT(c.onespan.n, 1);
	T_CHECK(eh_config_any(t_kv_lookup, req));
	T_CHECK(!eh_config_any(t_kv_lookup, (struct t_kv[]){ { NULL, NULL } }));
	/* An empty list is an override too: that provider is closed. */
	T_EQ_INT(eh_config_apply(&c, t_kv_lookup, req, NULL), EH_OK);
	T_EQ_INT(c.onespan.n, 0);
	eh_config_free(&c);
}

static void
file_format(void)
{
	const char *text =
	    "# esignhook\n"
	    "\n"
	    "ESIGNHOOK_SPOOL = /var/spool/esignhook\n"
	    "  ESIGNHOOK_ONESPAN_KEYS=\"a b\"\r\n"
	    "ESIGNHOOK_RESPONSE_TEXT='RECEIVED'\n"
	    "ESIGNHOOK_ALPHATRUST_TOKENS=";
	struct eh_conffile cf;
	size_t line;

	T_EQ_INT(eh_conffile_parse(&cf, text, strlen(text), &line), EH_OK);
	T_EQ_INT(cf.n, 4);
	T_EQ_STR(eh_conffile_lookup(&cf, "ESIGNHOOK_SPOOL"),
	    "/var/spool/esignhook");
	T_EQ_STR(eh_conffile_lookup(&cf, "ESIGNHOOK_ONESPAN_KEYS"), "a b");
	T_EQ_STR(eh_conffile_lookup(&cf, "ESIGNHOOK_RESPONSE_TEXT"),
	    "RECEIVED");
	T_EQ_STR(eh_conffile_lookup(&cf, "ESIGNHOOK_ALPHATRUST_TOKENS"), "");
	T_CHECK(eh_conffile_lookup(&cf, "ESIGNHOOK_LOG") == NULL);
	eh_conffile_free(&cf);
	eh_conffile_free(&cf);
}

static const struct {
	const char *text;
	size_t line;
} bad_files[] = {
	{ "ESIGNHOOK_SPOOL\n", 1 },
	{ "# ok\nESIGNHOOK_SPOOLX=/a\n", 2 },
	{ "ESIGNHOOK_SPOOL=/a\nESIGNHOOK_SPOOL=/b\n", 2 },
	{ "esignhook_spool=/a\n", 1 },
	{ "\n\n=x\n", 3 },
};

static void
file_errors(void)
{
	struct eh_conffile cf;
	size_t i, line;

	for (i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		T_EQ_INT(eh_conffile_parse(&cf, bad_files[i].text,
		    strlen(bad_files[i].text), &line), EH_ERR_CONFIG);
		T_EQ_INT(line, bad_files[i].line);
		T_EQ_INT(cf.n, 0);
	}
}

/* ESIGNHOOK_READ_TIMEOUT: a duration as the operator tool spells them. */
static const struct {
	const char *value;
	long long ms;
} read_timeouts[] = {
	{ "10", 10000 },
	{ "250ms", 250 },
	{ "1ms", 1 },
	{ "2s", 2000 },
	{ "5m", 300000 },
	{ "1h", 3600000 },
	{ "3600000ms", 3600000 },
};

static void
read_timeout(void)
{
	struct t_kv kv[2] = { { "ESIGNHOOK_READ_TIMEOUT", NULL }, { NULL, NULL } };
	const char *text = "ESIGNHOOK_READ_TIMEOUT=3s\n";
	struct eh_conffile cf;
	struct eh_config c;
	size_t i, line;

	for (i = 0; i < sizeof(read_timeouts) / sizeof(read_timeouts[0]);
	    i++) {
		eh_config_init(&c);
		kv[0].v = read_timeouts[i].value;
		T_EQ_INT(eh_config_apply(&c, t_kv_lookup, kv, NULL), EH_OK);
		T_EQ_INT(c.read_timeout_ms, read_timeouts[i].ms);
		eh_config_free(&c);
	}
	/* A receiver key: the configuration file knows it. */
	T_EQ_INT(eh_conffile_parse(&cf, text, strlen(text), &line), EH_OK);
	eh_config_init(&c);
	T_EQ_INT(eh_config_apply(&c, eh_conffile_lookup, &cf, NULL), EH_OK);
	T_EQ_INT(c.read_timeout_ms, 3000);
	eh_config_free(&c);
	eh_conffile_free(&cf);
}

const struct t_case t_config[] = {
	{ "defaults", defaults },
	{ "every key applied, secrets hashed", apply_all },
	{ "invalid values name the key", invalid_values },
	{ "file, then environment, then request", layering },
	{ "configuration file format", file_format },
	{ "configuration file errors give the line", file_errors },
	{ "ESIGNHOOK_READ_TIMEOUT durations", read_timeout },
	{ NULL, NULL }
};
