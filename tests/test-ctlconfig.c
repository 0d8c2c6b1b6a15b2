/* lib/ctlconfig.c and eh_config_load: the tool's keys, one file for both. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "../lib/esignhook.h"
#include "t.h"

static const struct {
	const char *in;
	int64_t ms;     /* -1: refused */
} durations[] = {
	{ "250ms", 250 }, { "30s", 30000 }, { "5m", 300000 },
	{ "1h", 3600000 }, { "7d", 604800000 }, { "0", 0 }, { "45", 45000 },
	{ "0ms", 0 }, { "3650d", 3650LL * 86400000 },
	{ "", -1 }, { "s", -1 }, { "5 s", -1 }, { " 5s", -1 }, { "-5s", -1 },
	{ "5sec", -1 }, { "1.5h", -1 }, { "5M", -1 }, { "3651d", -1 },
	{ "99999999999999999999s", -1 }, { "5w", -1 },
	/* Units in decreasing order, as eh_duration_format writes them. */
	{ "2m4s", 124000 }, { "90h44m6s", 326646000 }, { "1d2h", 93600000 },
	{ "1s500ms", 1500 }, { "3650d", 3650LL * 86400000 },
	{ "4s2m", -1 }, { "1m1m", -1 }, { "2m4", -1 }, { "5ms3s", -1 },
	{ "3650d1s", -1 }, { "1h ", -1 }, { "1hm", -1 },
};

/* eh_duration_format's text, and eh_duration_parse reading it back. */
static void
duration_format(void)
{
	static const struct {
		int64_t ms;
		const char *text;
	} rows[] = {
		{ 120000, "2m" }, { 124000, "2m4s" }, { 912000, "15m12s" },
		{ 326646000, "90h44m6s" }, { 3600000, "1h" }, { 1500, "1500ms" },
		{ 5000, "5s" }, { 604800000, "168h" },
	};
	char buf[32];
	int64_t ms;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		eh_duration_format(buf, sizeof(buf), rows[i].ms);
		T_EQ_STR(buf, rows[i].text);
		ms = -1;
		T_EQ_INT(eh_duration_parse(buf, &ms), EH_OK);
		T_EQ_INT(ms, rows[i].ms);
	}
}

static void
duration_table(void)
{
	int64_t ms;
	size_t i;

	for (i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		ms = -7;
		if (durations[i].ms < 0) {
			T_EQ_INT(eh_duration_parse(durations[i].in, &ms),
			    EH_ERR_CONFIG);
			T_EQ_INT(ms, -7);
		} else {
			T_EQ_INT(eh_duration_parse(durations[i].in, &ms), EH_OK);
			T_EQ_INT(ms, durations[i].ms);
		}
	}
}

static void
defaults(void)
{
	struct eh_ctl_config c;

	eh_ctl_config_init(&c);
	T_EQ_INT(c.keep_done_ms, 7 * 86400000LL);
	T_EQ_INT(c.seen_keep_ms, 30 * 86400000LL);
	T_EQ_INT(c.exec_timeout_ms, 60000);
	T_EQ_INT(c.forward_timeout_ms, 30000);
	T_EQ_INT(c.schedule_n, 9);
	T_EQ_INT(c.schedule_ms[0], 5000);
	T_EQ_INT(c.schedule_ms[8], 86400000);
	T_CHECK(c.exec == NULL && c.forward_url == NULL &&
	    c.download_dir == NULL && c.register_key == NULL);
	T_EQ_STR(eh_ctl_onespan_api(&c), "https://apps.esignlive.com/api");
	eh_ctl_config_free(&c);
	eh_ctl_config_free(&c);
}

static void
apply_all(void)
{
	/* "whsec_" + base64("0123456789abcdef0123456789abcdef") */
	struct t_kv kv[] = {
		{ "ESIGNHOOK_KEEP_DONE", "0" },
		{ "ESIGNHOOK_SEEN_KEEP", "2d" },
		{ "ESIGNHOOK_RETRY_SCHEDULE", " 250ms, 1s ,2m" },
		{ "ESIGNHOOK_EXEC", "/usr/local/bin/handle --quiet" },
		{ "ESIGNHOOK_EXEC_EVENTS", "PACKAGE_COMPLETE, transaction" },
		{ "ESIGNHOOK_EXEC_TIMEOUT", "5s" },
		{ "ESIGNHOOK_FORWARD_URL", "https://hooks.example.com/in/" },
		{ "ESIGNHOOK_FORWARD_SECRET",
		    "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" },
		{ "ESIGNHOOK_FORWARD_TIMEOUT", "250ms" },
		{ "ESIGNHOOK_CA_FILE", "/etc/ssl/private-ca.pem" },
		{ "ESIGNHOOK_DOWNLOAD_DIR", "/srv/signed" },
		{ "ESIGNHOOK_DOWNLOAD_EVIDENCE", "on" },
		{ "ESIGNHOOK_ONESPAN_API", "https://sandbox.esignlive.com/api//" },
		{ "ESIGNHOOK_ONESPAN_API_KEY", "apikey123" },
		{ "ESIGNHOOK_ONESPAN_KEYS", " , first-key ,second" },
		{ NULL, NULL }
	};
	struct eh_ctl_config c;
	const char *bad;

	eh_ctl_config_init(&c);
	T_EQ_INT(eh_ctl_config_apply(&c, t_kv_lookup, kv, &bad), EH_OK);
	T_CHECK(bad == NULL);
	T_EQ_INT(c.keep_done_ms, 0);
	T_EQ_INT(c.seen_keep_ms, 2 * 86400000LL);
	T_EQ_INT(c.schedule_n, 3);
	T_EQ_INT(c.schedule_ms[0], 250);
	T_EQ_INT(c.schedule_ms[1], 1000);
	T_EQ_INT(c.schedule_ms[2], 120000);
	T_EQ_STR(c.exec, "/usr/local/bin/handle --quiet");
	T_EQ_STR(c.exec_events, "PACKAGE_COMPLETE,transaction");
	T_EQ_INT(c.exec_timeout_ms, 5000);
	T_EQ_STR(c.forward_url, "https://hooks.example.com/in/");
	T_EQ_INT(c.forward_key_len, 32);
	T_CHECK(memcmp(c.forward_key, "0123456789abcdef0123456789abcdef",
	    32) == 0);
	T_EQ_INT(c.forward_timeout_ms, 250);
	T_EQ_STR(c.ca_file, "/etc/ssl/private-ca.pem");
	T_EQ_STR(c.download_dir, "/srv/signed");
	T_EQ_INT(c.download_evidence, 1);
	T_EQ_STR(eh_ctl_onespan_api(&c), "https://sandbox.esignlive.com/api");
	T_EQ_STR(c.onespan_api_key, "apikey123");
	T_EQ_STR(c.register_key, "first-key");
	eh_ctl_config_free(&c);
	T_CHECK(c.register_key == NULL && c.forward_key_len == 0);
}

static const struct {
	const char *key, *value;
} invalid[] = {
	{ "ESIGNHOOK_KEEP_DONE", "a week" },
	{ "ESIGNHOOK_RETRY_SCHEDULE", "5s,,5m" },
	{ "ESIGNHOOK_RETRY_SCHEDULE", "5s,x" },
	{ "ESIGNHOOK_RETRY_SCHEDULE", "1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,"
	    "1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s" },
	{ "ESIGNHOOK_EXEC_TIMEOUT", "0" },
	{ "ESIGNHOOK_EXEC_EVENTS", "" },
	{ "ESIGNHOOK_EXEC_EVENTS", " , " },
	{ "ESIGNHOOK_EXEC_EVENTS", "PACKAGE COMPLETE" },
	{ "ESIGNHOOK_EXEC", "two\nlines" },
	{ "ESIGNHOOK_FORWARD_URL", "ftp://example.com/" },
	{ "ESIGNHOOK_FORWARD_URL", "https://" },
	{ "ESIGNHOOK_FORWARD_URL", "example.com/hook" },
	{ "ESIGNHOOK_FORWARD_URL", "https://example.com/a b" },
	{ "ESIGNHOOK_FORWARD_SECRET", "MDEyMzQ1Njc4OWFiY2RlZg==" },
	{ "ESIGNHOOK_FORWARD_SECRET", "whsec_" },
	{ "ESIGNHOOK_FORWARD_SECRET", "whsec_not*base64" },
	{ "ESIGNHOOK_DOWNLOAD_DIR", "relative" },
	{ "ESIGNHOOK_DOWNLOAD_EVIDENCE", "maybe" },
	{ "ESIGNHOOK_CA_FILE", "ca.pem" },
	{ "ESIGNHOOK_ONESPAN_TOKEN_URL", "apps.esignlive.com/oauth2/token" },
};

static void
invalid_values(void)
{
	struct eh_ctl_config c;
	const char *bad;
	struct t_kv kv[2];
	size_t i;

	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		kv[0].k = invalid[i].key;
		kv[0].v = invalid[i].value;
		kv[1].k = kv[1].v = NULL;
		eh_ctl_config_init(&c);
		T_EQ_INT(eh_ctl_config_apply(&c, t_kv_lookup, kv, &bad),
		    EH_ERR_CONFIG);
		T_EQ_STR(bad, invalid[i].key);
		eh_ctl_config_free(&c);
	}
}

static void
events_match(void)
{
	T_CHECK(eh_events_match("*", "PACKAGE_COMPLETE"));
	T_CHECK(eh_events_match("A,PACKAGE_COMPLETE", "PACKAGE_COMPLETE"));
	T_CHECK(eh_events_match("PACKAGE_COMPLETE,A", "PACKAGE_COMPLETE"));
	T_CHECK(!eh_events_match("PACKAGE_COMPLETE", "PACKAGE_COMPLET"));
	T_CHECK(!eh_events_match("PACKAGE_COMPLET", "PACKAGE_COMPLETE"));
	T_CHECK(!eh_events_match("A,B", "transaction"));
	T_CHECK(eh_events_match("A,*", "anything"));
	T_CHECK(!eh_events_match(NULL, "A"));
	T_CHECK(!eh_events_match("A", NULL));
}

/* eh_list_next: the items, '|' after each ("" for an empty one). */
static void
list_items(void)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{ "", "|" }, { "a", "a|" }, { "a,b", "a|b|" }, { "a,", "a||" },
		{ ",a", "|a|" }, { ",,", "|||" }, { " a , b\t", "a|b|" },
		{ " \t ", "|" }, { "a b, c", "a b|c|" }, { "a\r", "a\r|" },
	};
	const char *cur, *item;
	char got[64];
	size_t i, len, n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cur = t[i].in;
		n = 0;
		while (eh_list_next(&cur, &item, &len) &&
		    n + len + 1 < sizeof(got)) {
			memcpy(got + n, item, len);
			n += len;
			got[n++] = '|';
		}
		got[n] = '\0';
		T_EQ_STR(got, t[i].want);
		T_CHECK(cur == NULL);
		T_EQ_INT(eh_list_next(&cur, &item, &len), 0);
	}
}

static char *
write_file(const char *dir, const char *text)
{
	char *path = malloc(strlen(dir) + 16);
	int fd;

	snprintf(path, strlen(dir) + 16, "%s/conf", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	T_CHECK(fd >= 0 && write(fd, text, strlen(text)) ==
	    (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* One file serves both programs; the environment overrides it. */
static void
load_file_then_env(void)
{
	struct t_kv env[] = {
		{ "ESIGNHOOK_EXEC_TIMEOUT", "2s" },
		{ "ESIGNHOOK_MAX_BODY", "1k" },
		{ NULL, NULL }
	};
	struct t_kv badenv[] = {
		{ "ESIGNHOOK_FORWARD_TIMEOUT", "soon" },
		{ NULL, NULL }
	};
	struct eh_config r;
	struct eh_ctl_config c;
	char *dir = t_tmpdir(), *path, msg[256];

	path = write_file(dir, "ESIGNHOOK_SPOOL=/var/spool/esignhook\n"
	    "ESIGNHOOK_ONESPAN_KEYS=secret-callback-key\n"
	    "ESIGNHOOK_EXEC=\"cat > /dev/null\"\n"
	    "ESIGNHOOK_EXEC_TIMEOUT=9s\n"
	    "ESIGNHOOK_FORWARD_SECRET=whsec_c2VjcmV0\n");
	T_EQ_INT(eh_config_load(&r, &c, path, t_kv_lookup, env, msg,
	    sizeof(msg)), EH_OK);
	T_EQ_STR(r.spool, "/var/spool/esignhook");
	T_EQ_INT(r.onespan.n, 1);
	T_EQ_INT(r.max_body, 1024);
	T_EQ_STR(c.exec, "cat > /dev/null");
	T_EQ_INT(c.exec_timeout_ms, 2000);
	T_EQ_STR(c.register_key, "secret-callback-key");
	eh_config_free(&r);
	eh_ctl_config_free(&c);

	/* The receiver loads the same file, ignoring the tool's keys. */
	T_EQ_INT(eh_config_load(&r, NULL, path, t_kv_lookup, env, msg,
	    sizeof(msg)), EH_OK);
	T_EQ_STR(r.spool, "/var/spool/esignhook");
	eh_config_free(&r);

	/* A bad value names the key, never the value. */
	T_EQ_INT(eh_config_load(&r, &c, path, t_kv_lookup, badenv, msg,
	    sizeof(msg)), EH_ERR_CONFIG);
	T_EQ_STR(msg, "environment: invalid value for "
	    "ESIGNHOOK_FORWARD_TIMEOUT");
	eh_config_free(&r);
	eh_ctl_config_free(&c);
	free(path);

	path = write_file(dir, "ESIGNHOOK_FORWARD_SECRET=plain-secret\n");
	T_EQ_INT(eh_config_load(&r, &c, path, t_kv_lookup, env, msg,
	    sizeof(msg)), EH_ERR_CONFIG);
	T_CHECK(strstr(msg, "invalid value for ESIGNHOOK_FORWARD_SECRET") !=
	    NULL);
	T_CHECK(strstr(msg, "plain-secret") == NULL);
	eh_config_free(&r);
	eh_ctl_config_free(&c);
	free(path);

	path = write_file(dir, "ESIGNHOOK_SPOOL=/x\nESIGNHOOK_EXECC=1\n");
	T_EQ_INT(eh_config_load(&r, &c, path, t_kv_lookup, env, msg,
	    sizeof(msg)), EH_ERR_CONFIG);
	T_CHECK(strstr(msg, ":2: ") != NULL);
	eh_config_free(&r);
	eh_ctl_config_free(&c);
	free(path);

	T_EQ_INT(eh_config_load(&r, &c, "/nonexistent/esignhook.conf",
	    t_kv_lookup, env, msg, sizeof(msg)), EH_ERR_CONFIG);
	T_EQ_STR(msg, "cannot read /nonexistent/esignhook.conf: "
	    "No such file or directory");
	eh_config_free(&r);
	eh_ctl_config_free(&c);
	t_rmtree(dir);
	free(dir);
}

const struct t_case t_ctlconfig[] = {
	{ "durations (table)", duration_table },
	{ "durations written as they are read", duration_format },
	{ "defaults", defaults },
	{ "every key applied", apply_all },
	{ "invalid values refused, naming the key", invalid_values },
	{ "event lists", events_match },
	{ "list items: trimmed, empty ones kept", list_items },
	{ "one file for both programs, then the environment",
	    load_file_then_env },
	{ NULL, NULL }
};
