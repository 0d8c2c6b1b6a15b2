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
	T_EQ_INT(c.commit, EH_COMMIT_FILE);
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
	{ "ESIGNHOOK_OAUTH_TOKEN_TTL", "0" },
	{ "ESIGNHOOK_OAUTH_TOKEN_TTL", "0s" },
	{ "ESIGNHOOK_OAUTH_TOKEN_TTL", "999ms" },
	{ "ESIGNHOOK_OAUTH_TOKEN_TTL", "1500ms" },
	{ "ESIGNHOOK_OAUTH_TOKEN_TTL", "86401" },
	{ "ESIGNHOOK_OAUTH_TOKEN_TTL", "25h" },
	{ "ESIGNHOOK_OAUTH_TOKEN_TTL", "2d" },
	{ "ESIGNHOOK_OAUTH_TOKEN_TTL", "" },
	{ "ESIGNHOOK_OAUTH_TOKEN_TTL", "-1" },
	{ "ESIGNHOOK_OAUTH_TOKEN_TTL", "1 h" },
	{ "ESIGNHOOK_OAUTH_CLIENT_ID", "two\nlines" },
	{ "ESIGNHOOK_OAUTH_CLIENT_ID", "tab\tid" },
	{ "ESIGNHOOK_OAUTH_CLIENT_SECRETS", "ok,ctl\x7fsecret" },
	{ "ESIGNHOOK_OAUTH_CLIENT_SECRETS",
	  "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17" },
	{ "ESIGNHOOK_SPOOL_COMMIT", "" },
	{ "ESIGNHOOK_SPOOL_COMMIT", "GROUP" },
	{ "ESIGNHOOK_SPOOL_COMMIT", "groups" },
	{ "ESIGNHOOK_SPOOL_COMMIT", "fsync" },
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
	size_t i;

	eh_config_init(&c);
	T_EQ_INT(eh_config_apply(&c, t_kv_lookup, file, NULL), EH_OK);
	T_EQ_INT(eh_config_apply(&c, t_kv_lookup, env, NULL), EH_OK);
	T_EQ_STR(c.spool, "/b");
	T_EQ_INT(c.max_body, 100);
	T_EQ_INT(c.onespan.n, 1);
	T_CHECK(eh_config_any(t_kv_lookup, req));
	T_CHECK(!eh_config_any(t_kv_lookup, (struct t_kv[]){ { NULL, NULL } }));
	/* cgi/esignhook.c asks eh_config_any only of a request with a
	 * param starting "ESIGNHOOK_": every key must. */
	for (i = 0; eh_config_keys[i] != NULL; i++)
		T_CHECK(strncmp(eh_config_keys[i], "ESIGNHOOK_", 10) == 0);
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

/* Whether o holds plain as its i-th secret: digest and signing key. */
static int
oauth_secret_at(const struct eh_oauth *o, size_t i, const char *plain)
{
	unsigned char d[32], k[32];

	crypto_hash_sha256(d, (const unsigned char *)plain, strlen(plain));
	eh_oauth_derive(k, plain, strlen(plain));
	return i < o->secrets.n && memcmp(d, o->secrets.digest[i], 32) == 0 &&
	    memcmp(k, o->mac_key[i], 32) == 0;
}

static void
oauth_keys(void)
{
	struct t_kv kv[] = {
		{ "ESIGNHOOK_OAUTH_CLIENT_ID", "onespan-client" },
		{ "ESIGNHOOK_OAUTH_CLIENT_SECRETS", " new-secret , old:secret+/,," },
		{ "ESIGNHOOK_OAUTH_TOKEN_TTL", "90m" },
		{ NULL, NULL }
	}, off[] = {
		{ "ESIGNHOOK_OAUTH_CLIENT_ID", "" },
		{ "ESIGNHOOK_OAUTH_CLIENT_SECRETS", "" },
		{ NULL, NULL }
	};
	struct eh_config c, d;
	const char *bad;

	eh_config_init(&c);
	T_CHECK(c.oauth.client_id == NULL);
	T_EQ_INT(c.oauth.secrets.n, 0);
	T_EQ_INT(c.oauth.ttl_s, EH_OAUTH_DEFAULT_TTL);
	T_EQ_INT(eh_config_check(&c, &bad), EH_OK);
	T_EQ_INT(eh_config_apply(&c, t_kv_lookup, kv, &bad), EH_OK);
	T_EQ_STR(c.oauth.client_id, "onespan-client");
	T_EQ_INT(c.oauth.secrets.n, 2);
	/* Same order for both: the first signs, every one verifies. */
	T_CHECK(oauth_secret_at(&c.oauth, 0, "new-secret"));
	T_CHECK(oauth_secret_at(&c.oauth, 1, "old:secret+/"));
	/* The signing key is not the comparison digest. */
	T_CHECK(memcmp(c.oauth.mac_key[0], c.oauth.secrets.digest[0], 32) != 0);
	T_EQ_INT(c.oauth.ttl_s, 5400);
	T_EQ_INT(eh_config_check(&c, &bad), EH_OK);
	T_CHECK(bad == NULL);
	/* A deep copy: it outlives the original. */
	T_EQ_INT(eh_config_copy(&d, &c), EH_OK);
	T_CHECK(d.oauth.client_id != c.oauth.client_id);
	T_CHECK(d.oauth.mac_key != c.oauth.mac_key);
	eh_config_free(&c);
	T_EQ_STR(d.oauth.client_id, "onespan-client");
	T_CHECK(oauth_secret_at(&d.oauth, 1, "old:secret+/"));
	T_EQ_INT(d.oauth.ttl_s, 5400);
	/* Rotation: a new list replaces the old, keys and all. */
	kv[1].v = "third";
	T_EQ_INT(eh_config_apply(&d, t_kv_lookup, kv, NULL), EH_OK);
	T_EQ_INT(d.oauth.secrets.n, 1);
	T_CHECK(oauth_secret_at(&d.oauth, 0, "third"));
	/* Empty values: no client at all (a per-request override). */
	T_EQ_INT(eh_config_apply(&d, t_kv_lookup, off, NULL), EH_OK);
	T_CHECK(d.oauth.client_id == NULL);
	T_EQ_INT(d.oauth.secrets.n, 0);
	T_CHECK(d.oauth.mac_key == NULL);
	T_EQ_INT(eh_config_check(&d, NULL), EH_OK);
	eh_config_free(&d);
	eh_config_free(&d);
	T_CHECK(d.oauth.client_id == NULL && d.oauth.mac_key == NULL);
}

/* ESIGNHOOK_OAUTH_TOKEN_TTL: a duration, whole seconds, 1 s to 1 day. */
static const struct {
	const char *value;
	long long s;
} ttls[] = {
	{ "1", 1 }, { "1s", 1 }, { "1000ms", 1 }, { "60", 60 },
	{ "5m", 300 }, { "1h", 3600 }, { "24h", 86400 }, { "1d", 86400 },
	{ "86400", 86400 },
};

static void
oauth_ttl(void)
{
	struct t_kv kv[2] = { { "ESIGNHOOK_OAUTH_TOKEN_TTL", NULL },
	    { NULL, NULL } };
	struct eh_config c;
	size_t i;

	for (i = 0; i < sizeof(ttls) / sizeof(ttls[0]); i++) {
		eh_config_init(&c);
		kv[0].v = ttls[i].value;
		T_EQ_INT(eh_config_apply(&c, t_kv_lookup, kv, NULL), EH_OK);
		T_EQ_INT(c.oauth.ttl_s, ttls[i].s);
		eh_config_free(&c);
	}
}

/* ESIGNHOOK_SPOOL_COMMIT: how a FastCGI worker makes an event durable. */
static const struct {
	const char *value;
	enum eh_commit commit;
} commits[] = {
	{ "file", EH_COMMIT_FILE },
	{ "group", EH_COMMIT_GROUP },
};

static void
spool_commit(void)
{
	struct t_kv kv[2] = { { "ESIGNHOOK_SPOOL_COMMIT", NULL },
	    { NULL, NULL } };
	const char *text = "ESIGNHOOK_SPOOL_COMMIT=group\n";
	struct eh_conffile cf;
	struct eh_config c, d;
	size_t i, line;

	for (i = 0; i < sizeof(commits) / sizeof(commits[0]); i++) {
		eh_config_init(&c);
		/* From the other value, so that the default proves nothing. */
		c.commit = commits[i].commit == EH_COMMIT_FILE ?
		    EH_COMMIT_GROUP : EH_COMMIT_FILE;
		kv[0].v = commits[i].value;
		T_EQ_INT(eh_config_apply(&c, t_kv_lookup, kv, NULL), EH_OK);
		T_EQ_INT(c.commit, commits[i].commit);
		T_EQ_INT(eh_config_copy(&d, &c), EH_OK);
		T_EQ_INT(d.commit, commits[i].commit);
		eh_config_free(&d);
		eh_config_free(&c);
	}
	/* A receiver key: the configuration file knows it. */
	T_EQ_INT(eh_conffile_parse(&cf, text, strlen(text), &line), EH_OK);
	eh_config_init(&c);
	T_EQ_INT(eh_config_apply(&c, eh_conffile_lookup, &cf, NULL), EH_OK);
	T_EQ_INT(c.commit, EH_COMMIT_GROUP);
	eh_config_free(&c);
	eh_conffile_free(&cf);
}

static const char *
no_env(void *ctx, const char *key)
{
	(void)ctx;
	(void)key;
	return NULL;
}

/*
 * Half a client is a configuration error, judged once every source is
 * in: the file may name the id, the environment the secrets.
 */
static void
oauth_half_client(void)
{
	struct t_kv id[] = { { "ESIGNHOOK_OAUTH_CLIENT_ID", "c" },
	    { NULL, NULL } }, sec[] = {
	    { "ESIGNHOOK_OAUTH_CLIENT_SECRETS", "s" }, { NULL, NULL } };
	struct eh_config c;
	char *dir = t_tmpdir(), path[512], msg[256];
	const char *bad;
	FILE *fp;

	eh_config_init(&c);
	T_EQ_INT(eh_config_apply(&c, t_kv_lookup, id, &bad), EH_OK);
	T_EQ_INT(eh_config_check(&c, &bad), EH_ERR_CONFIG);
	T_EQ_STR(bad, "ESIGNHOOK_OAUTH_CLIENT_SECRETS");
	eh_config_free(&c);
	eh_config_init(&c);
	T_EQ_INT(eh_config_apply(&c, t_kv_lookup, sec, &bad), EH_OK);
	T_EQ_INT(eh_config_check(&c, &bad), EH_ERR_CONFIG);
	T_EQ_STR(bad, "ESIGNHOOK_OAUTH_CLIENT_ID");
	eh_config_free(&c);

	snprintf(path, sizeof(path), "%s/esignhook.conf", dir);
	fp = fopen(path, "w");
	T_CHECK(fp != NULL);
	if (fp != NULL) {
		fputs("ESIGNHOOK_OAUTH_CLIENT_ID=c\n", fp);
		fclose(fp);
	}
	T_EQ_INT(eh_config_load(&c, NULL, path, no_env, NULL, msg,
	    sizeof(msg)), EH_ERR_CONFIG);
	T_EQ_STR(msg, "ESIGNHOOK_OAUTH_CLIENT_ID is set without "
	    "ESIGNHOOK_OAUTH_CLIENT_SECRETS");
	eh_config_free(&c);
	T_EQ_INT(eh_config_load(&c, NULL, path, t_kv_lookup, sec, msg,
	    sizeof(msg)), EH_OK);
	T_EQ_STR(c.oauth.client_id, "c");
	T_EQ_INT(c.oauth.secrets.n, 1);
	eh_config_free(&c);
	T_EQ_INT(eh_config_load(&c, NULL, NULL, t_kv_lookup, sec, msg,
	    sizeof(msg)), EH_ERR_CONFIG);
	T_EQ_STR(msg, "ESIGNHOOK_OAUTH_CLIENT_SECRETS is set without "
	    "ESIGNHOOK_OAUTH_CLIENT_ID");
	/* Never the value: the secret is not in the message. */
	T_CHECK(strstr(msg, "=s") == NULL);
	eh_config_free(&c);
	t_rmtree(dir);
	free(dir);
}

const struct t_case t_config[] = {
	{ "defaults", defaults },
	{ "every key applied, secrets hashed", apply_all },
	{ "invalid values name the key", invalid_values },
	{ "file, then environment, then request", layering },
	{ "configuration file format", file_format },
	{ "configuration file errors give the line", file_errors },
	{ "ESIGNHOOK_READ_TIMEOUT durations", read_timeout },
	{ "ESIGNHOOK_OAUTH_*: digests and signing keys, copied, wiped", oauth_keys },
	{ "ESIGNHOOK_OAUTH_TOKEN_TTL durations", oauth_ttl },
	{ "an OAuth client id without secrets, or secrets without one", oauth_half_client },
	{ "ESIGNHOOK_SPOOL_COMMIT file or group", spool_commit },
	{ NULL, NULL }
};
