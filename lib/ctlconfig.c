/*
 * The operator tool's keys (esignhookctl): retries, pruning and the
 * actions.  They live in the same file and environment as the
 * receiver's (eh_config_load reads both); the receiver ignores them.
 * Secrets here are kept in plaintext, since the tool must send them;
 * they are wiped when freed and never printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "esignhook.h"
#include "extern.h"

const char *const eh_ctl_config_keys[] = {
	"ESIGNHOOK_KEEP_DONE", "ESIGNHOOK_SEEN_KEEP",
	"ESIGNHOOK_RETRY_SCHEDULE",
	"ESIGNHOOK_EXEC", "ESIGNHOOK_EXEC_EVENTS", "ESIGNHOOK_EXEC_TIMEOUT",
	"ESIGNHOOK_FORWARD_URL", "ESIGNHOOK_FORWARD_EVENTS",
	"ESIGNHOOK_FORWARD_SECRET", "ESIGNHOOK_FORWARD_TIMEOUT",
	"ESIGNHOOK_CA_FILE",
	"ESIGNHOOK_DOWNLOAD_DIR", "ESIGNHOOK_DOWNLOAD_EVENTS",
	"ESIGNHOOK_DOWNLOAD_EVIDENCE",
	"ESIGNHOOK_ONESPAN_API", "ESIGNHOOK_ONESPAN_API_KEY",
	"ESIGNHOOK_ONESPAN_CLIENT_ID", "ESIGNHOOK_ONESPAN_CLIENT_SECRET",
	"ESIGNHOOK_ONESPAN_TOKEN_URL",
	"ESIGNHOOK_NATS_URL", "ESIGNHOOK_NATS_EVENTS", "ESIGNHOOK_NATS_SUBJECT",
	"ESIGNHOOK_NATS_STREAM", "ESIGNHOOK_NATS_CREDS", "ESIGNHOOK_NATS_TOKEN",
	"ESIGNHOOK_NATS_USER", "ESIGNHOOK_NATS_PASSWORD", "ESIGNHOOK_NATS_CA",
	"ESIGNHOOK_NATS_TIMEOUT",
	NULL
};

#define DAY_MS (24LL * 3600 * 1000)
#define DURATION_MAX_MS (3650 * DAY_MS)
#define STRING_MAX 4000
#define FORWARD_KEY_MAX 256

/* The Standard Webhooks example schedule: about three days in all. */
static const char default_schedule[] = "5s,5m,30m,2h,5h,10h,14h,20h,24h";

/*
 * "250ms", "30s", "5m", "1h", "7d", a bare number of seconds, or units
 * in decreasing order, each once ("2m4s", "90h44m6s": what
 * eh_duration_format writes).
 */
enum eh_err
eh_duration_parse(const char *s, int64_t *ms)
{
	static const struct {
		const char *name;
		int64_t ms;
	} units[] = {
		{ "d", DAY_MS }, { "h", 3600 * 1000 }, { "m", 60 * 1000 },
		{ "s", 1000 }, { "ms", 1 },
	};
	int64_t v, total = 0;
	size_t k, n, next = 0;
	const char *p = s;

	do {
		if (*p < '0' || *p > '9')
			return EH_ERR_CONFIG;
		for (v = 0; *p >= '0' && *p <= '9'; p++) {
			if (v > (DURATION_MAX_MS - (*p - '0')) / 10)
				return EH_ERR_CONFIG;
			v = v * 10 + (*p - '0');
		}
		if (*p == '\0' && p == s + strspn(s, "0123456789")) {
			k = 3;          /* a bare number: seconds */
		} else {
			for (k = next; k < sizeof(units) / sizeof(units[0]);
			    k++) {
				n = strlen(units[k].name);
				if (strncmp(p, units[k].name, n) == 0 &&
				    (p[n] < 'a' || p[n] > 'z'))
					break;
			}
			if (k == sizeof(units) / sizeof(units[0]))
				return EH_ERR_CONFIG;
			p += strlen(units[k].name);
		}
		if (v > (DURATION_MAX_MS - total) / units[k].ms)
			return EH_ERR_CONFIG;
		total += v * units[k].ms;
		next = k + 1;
	} while (*p != '\0');
	*ms = total;
	return EH_OK;
}

void
eh_duration_format(char *buf, size_t sz, int64_t ms)
{
	int64_t sec = ms / 1000;
	size_t len = 0;

	if (ms % 1000 != 0 || ms <= 0) {
		snprintf(buf, sz, "%lldms", (long long)ms);
		return;
	}
	/* "2m", "15m12s", "90h44m6s": eh_duration_parse reads them back. */
	buf[0] = '\0';
	if (sec >= 3600) {
		snprintf(buf, sz, "%lldh", (long long)(sec / 3600));
		len = strlen(buf);
	}
	if (sec % 3600 >= 60 && len + 1 < sz) {
		snprintf(buf + len, sz - len, "%lldm",
		    (long long)(sec % 3600 / 60));
		len += strlen(buf + len);
	}
	if (sec % 60 != 0 && len + 1 < sz)
		snprintf(buf + len, sz - len, "%llds", (long long)(sec % 60));
}

void
eh_ctl_config_init(struct eh_ctl_config *c)
{
	memset(c, 0, sizeof(*c));
	c->keep_done_ms = 7 * DAY_MS;
	c->seen_keep_ms = 30 * DAY_MS;
	(void)eh_schedule_parse(c, default_schedule);
	c->exec_timeout_ms = 60 * 1000;
	c->forward_timeout_ms = 30 * 1000;
	c->nats_timeout_ms = 5 * 1000;
}

void
eh_ctl_config_free(struct eh_ctl_config *c)
{
	free(c->exec);
	free(c->exec_events);
	free(c->forward_url);
	free(c->forward_events);
	free(c->ca_file);
	free(c->download_dir);
	free(c->download_events);
	free(c->onespan_api);
	free(c->onespan_client_id);
	free(c->onespan_token_url);
	eh__wipe_free(&c->onespan_api_key);
	eh__wipe_free(&c->onespan_client_secret);
	eh__wipe_free(&c->register_key);
	/* A URL may carry "user:password@" as NATS URLs can. */
	eh__wipe_free(&c->nats_url);
	free(c->nats_events);
	free(c->nats_subject);
	free(c->nats_stream);
	free(c->nats_creds);
	free(c->nats_user);
	free(c->nats_ca);
	eh__wipe_free(&c->nats_token);
	eh__wipe_free(&c->nats_password);
	sodium_memzero(c->forward_key, sizeof(c->forward_key));
	eh_ctl_config_init(c);
}

enum eh_err
eh_schedule_parse(struct eh_ctl_config *c, const char *s)
{
	int64_t sched[EH_SCHEDULE_MAX];
	const char *cur = s, *p;
	char one[32];
	size_t n = 0, len;

	while (eh_list_next(&cur, &p, &len)) {
		if (len == 0 && cur == NULL && n == 0)
			break;          /* "": no retries at all */
		if (len == 0 || len >= sizeof(one) || n == EH_SCHEDULE_MAX)
			return EH_ERR_CONFIG;
		memcpy(one, p, len);
		one[len] = '\0';
		if (eh_duration_parse(one, &sched[n]) != EH_OK)
			return EH_ERR_CONFIG;
		n++;
	}
	memcpy(c->schedule_ms, sched, n * sizeof(sched[0]));
	c->schedule_n = n;
	return EH_OK;
}

/* An event name as the providers spell them: letters, digits, '-', '_'. */
static int
event_name_ok(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((p[i] >= 'A' && p[i] <= 'Z') ||
		    (p[i] >= 'a' && p[i] <= 'z') ||
		    (p[i] >= '0' && p[i] <= '9') || p[i] == '-' || p[i] == '_'))
			return 0;
	return 1;
}

/*
 * "A, B,C" or "*": kept as "A,B,C" (blanks gone) for eh_events_match.
 * An empty list is refused: it would switch the action on for nothing.
 */
static enum eh_err
set_events(char **dst, const char *v)
{
	const char *cur = v, *p;
	char *out;
	size_t n = 0, len;

	out = malloc(strlen(v) + 1);
	if (out == NULL)
		return EH_ERR_NOMEM;
	while (eh_list_next(&cur, &p, &len)) {
		if (len == 0)
			continue;
		if (!(len == 1 && *p == '*') && !event_name_ok(p, len)) {
			free(out);
			return EH_ERR_CONFIG;
		}
		if (n > 0)
			out[n++] = ',';
		memcpy(out + n, p, len);
		n += len;
	}
	out[n] = '\0';
	if (n == 0) {
		free(out);
		return EH_ERR_CONFIG;
	}
	free(*dst);
	*dst = out;
	return EH_OK;
}

int
eh_events_match(const char *list, const char *event)
{
	const char *cur = list, *p;
	size_t n, len;

	if (list == NULL || event == NULL)
		return list != NULL && strcmp(list, "*") == 0;
	n = strlen(event);
	while (eh_list_next(&cur, &p, &len))
		if ((len == 1 && *p == '*') ||
		    (len == n && memcmp(p, event, n) == 0))
			return 1;
	return 0;
}

static enum eh_err
set_string(char **dst, const char *v)
{
	char *copy;

	if (strlen(v) > STRING_MAX || !eh__printable(v, strlen(v)))
		return EH_ERR_CONFIG;
	copy = NULL;
	if (*v != '\0') {
		copy = eh__strndup(v, strlen(v));
		if (copy == NULL)
			return EH_ERR_NOMEM;
	}
	eh__wipe_free(dst);
	*dst = copy;
	return EH_OK;
}

/* http:// or https:// and a host after it; with strip, trailing '/'
 * dropped (the API's base, to which paths are appended; a forwarding
 * target's URL is sent as it is).  "" unsets the key. */
static enum eh_err
set_url(char **dst, const char *v, int strip)
{
	const char *rest;
	char *copy;
	size_t n;

	if (*v == '\0')
		return set_string(dst, v);
	if (strncmp(v, "http://", 7) == 0)
		rest = v + 7;
	else if (strncmp(v, "https://", 8) == 0)
		rest = v + 8;
	else
		return EH_ERR_CONFIG;
	if (*rest == '\0' || *rest == '/' || strpbrk(v, " \t") != NULL ||
	    strlen(v) > STRING_MAX || !eh__printable(v, strlen(v)))
		return EH_ERR_CONFIG;
	n = strlen(v);
	while (strip && v[n - 1] == '/')
		n--;
	copy = eh__strndup(v, n);
	if (copy == NULL)
		return EH_ERR_NOMEM;
	free(*dst);
	*dst = copy;
	return EH_OK;
}

/* Standard Webhooks: "whsec_" and the key in standard base64. */
static enum eh_err
set_forward_secret(struct eh_ctl_config *c, const char *v)
{
	unsigned char key[FORWARD_KEY_MAX];
	size_t n;

	if (*v == '\0') {
		sodium_memzero(c->forward_key, sizeof(c->forward_key));
		c->forward_key_len = 0;
		return EH_OK;
	}
	if (strncmp(v, "whsec_", 6) != 0 ||
	    sodium_base642bin(key, sizeof(key), v + 6, strlen(v + 6), NULL,
	    &n, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 || n == 0) {
		sodium_memzero(key, sizeof(key));
		return EH_ERR_CONFIG;
	}
	memcpy(c->forward_key, key, n);
	c->forward_key_len = n;
	sodium_memzero(key, sizeof(key));
	return EH_OK;
}

/* The first callback key, in plaintext, for register. */
static enum eh_err
set_register_key(struct eh_ctl_config *c, const char *v)
{
	const char *cur = v, *p;
	size_t len;

	eh__wipe_free(&c->register_key);
	while (eh_list_next(&cur, &p, &len))
		if (len > 0) {
			c->register_key = eh__strndup(p, len);
			return c->register_key != NULL ? EH_OK : EH_ERR_NOMEM;
		}
	return EH_OK;
}

static enum eh_err
set_bool(int *dst, const char *v)
{
	if (strcmp(v, "on") == 0 || strcmp(v, "1") == 0 ||
	    strcmp(v, "yes") == 0)
		*dst = 1;
	else if (strcmp(v, "off") == 0 || strcmp(v, "0") == 0 ||
	    strcmp(v, "no") == 0)
		*dst = 0;
	else
		return EH_ERR_CONFIG;
	return EH_OK;
}

static enum eh_err
set_positive(int64_t *dst, const char *v)
{
	int64_t ms;

	if (eh_duration_parse(v, &ms) != EH_OK || ms == 0)
		return EH_ERR_CONFIG;
	*dst = ms;
	return EH_OK;
}

/*
 * "nats://host:port" or "tls://..." (userinfo allowed, as NATS URLs
 * have it), comma-separated for a cluster; kept with the blanks around
 * items dropped.  "" unsets the key.
 */
static enum eh_err
set_nats_url(char **dst, const char *v)
{
	const char *cur = v, *p, *rest;
	char *out;
	size_t n = 0, len;

	if (*v == '\0')
		return set_string(dst, v);
	if (strlen(v) > STRING_MAX || !eh__printable(v, strlen(v)))
		return EH_ERR_CONFIG;
	out = malloc(strlen(v) + 1);
	if (out == NULL)
		return EH_ERR_NOMEM;
	while (eh_list_next(&cur, &p, &len)) {
		if (len > 7 && strncmp(p, "nats://", 7) == 0)
			rest = p + 7;
		else if (len > 6 && strncmp(p, "tls://", 6) == 0)
			rest = p + 6;
		else
			rest = NULL;
		if (rest == NULL || *rest == '/' || memchr(p, ' ', len) != NULL ||
		    memchr(p, '\t', len) != NULL) {
			sodium_memzero(out, strlen(v) + 1);
			free(out);
			return EH_ERR_CONFIG;
		}
		if (n > 0)
			out[n++] = ',';
		memcpy(out + n, p, len);
		n += len;
	}
	out[n] = '\0';
	eh__wipe_free(dst);
	*dst = out;
	return EH_OK;
}

static enum eh_err
set_nats_subject(char **dst, const char *v)
{
	if (*v != '\0' && !eh__nats_template_ok(v))
		return EH_ERR_CONFIG;
	return set_string(dst, v);
}

static enum eh_err
set_nats_stream(char **dst, const char *v)
{
	if (*v != '\0' && !eh_nats_name_ok(v))
		return EH_ERR_CONFIG;
	return set_string(dst, v);
}

static enum eh_err
set_path(char **dst, const char *v)
{
	if (*v != '\0' && *v != '/')
		return EH_ERR_CONFIG;
	return set_string(dst, v);
}

static enum eh_err
set_ctl_key(struct eh_ctl_config *c, const char *k, const char *v)
{
	if (strcmp(k, "ESIGNHOOK_KEEP_DONE") == 0)
		return eh_duration_parse(v, &c->keep_done_ms);
	if (strcmp(k, "ESIGNHOOK_SEEN_KEEP") == 0)
		return eh_duration_parse(v, &c->seen_keep_ms);
	if (strcmp(k, "ESIGNHOOK_RETRY_SCHEDULE") == 0)
		return eh_schedule_parse(c, v);
	if (strcmp(k, "ESIGNHOOK_EXEC") == 0)
		return set_string(&c->exec, v);
	if (strcmp(k, "ESIGNHOOK_EXEC_EVENTS") == 0)
		return set_events(&c->exec_events, v);
	if (strcmp(k, "ESIGNHOOK_EXEC_TIMEOUT") == 0)
		return set_positive(&c->exec_timeout_ms, v);
	if (strcmp(k, "ESIGNHOOK_FORWARD_URL") == 0)
		return set_url(&c->forward_url, v, 0);
	if (strcmp(k, "ESIGNHOOK_FORWARD_EVENTS") == 0)
		return set_events(&c->forward_events, v);
	if (strcmp(k, "ESIGNHOOK_FORWARD_SECRET") == 0)
		return set_forward_secret(c, v);
	if (strcmp(k, "ESIGNHOOK_FORWARD_TIMEOUT") == 0)
		return set_positive(&c->forward_timeout_ms, v);
	if (strcmp(k, "ESIGNHOOK_CA_FILE") == 0)
		return *v != '\0' && *v != '/' ? EH_ERR_CONFIG :
		    set_string(&c->ca_file, v);
	if (strcmp(k, "ESIGNHOOK_DOWNLOAD_DIR") == 0)
		return *v != '\0' && *v != '/' ? EH_ERR_CONFIG :
		    set_string(&c->download_dir, v);
	if (strcmp(k, "ESIGNHOOK_DOWNLOAD_EVENTS") == 0)
		return set_events(&c->download_events, v);
	if (strcmp(k, "ESIGNHOOK_DOWNLOAD_EVIDENCE") == 0)
		return set_bool(&c->download_evidence, v);
	if (strcmp(k, "ESIGNHOOK_ONESPAN_API") == 0)
		return set_url(&c->onespan_api, v, 1);
	if (strcmp(k, "ESIGNHOOK_ONESPAN_API_KEY") == 0)
		return set_string(&c->onespan_api_key, v);
	if (strcmp(k, "ESIGNHOOK_ONESPAN_CLIENT_ID") == 0)
		return set_string(&c->onespan_client_id, v);
	if (strcmp(k, "ESIGNHOOK_ONESPAN_CLIENT_SECRET") == 0)
		return set_string(&c->onespan_client_secret, v);
	if (strcmp(k, "ESIGNHOOK_ONESPAN_TOKEN_URL") == 0)
		return set_url(&c->onespan_token_url, v, 0);
	if (strcmp(k, "ESIGNHOOK_NATS_URL") == 0)
		return set_nats_url(&c->nats_url, v);
	if (strcmp(k, "ESIGNHOOK_NATS_EVENTS") == 0)
		return set_events(&c->nats_events, v);
	if (strcmp(k, "ESIGNHOOK_NATS_SUBJECT") == 0)
		return set_nats_subject(&c->nats_subject, v);
	if (strcmp(k, "ESIGNHOOK_NATS_STREAM") == 0)
		return set_nats_stream(&c->nats_stream, v);
	if (strcmp(k, "ESIGNHOOK_NATS_CREDS") == 0)
		return set_path(&c->nats_creds, v);
	if (strcmp(k, "ESIGNHOOK_NATS_TOKEN") == 0)
		return set_string(&c->nats_token, v);
	if (strcmp(k, "ESIGNHOOK_NATS_USER") == 0)
		return set_string(&c->nats_user, v);
	if (strcmp(k, "ESIGNHOOK_NATS_PASSWORD") == 0)
		return set_string(&c->nats_password, v);
	if (strcmp(k, "ESIGNHOOK_NATS_CA") == 0)
		return set_path(&c->nats_ca, v);
	if (strcmp(k, "ESIGNHOOK_NATS_TIMEOUT") == 0)
		return set_positive(&c->nats_timeout_ms, v);
	return EH_ERR_CONFIG;
}

enum eh_err
eh_ctl_config_apply(struct eh_ctl_config *c, eh_lookup_fn lookup,
    void *ctx, const char **badkey)
{
	const char *v;
	enum eh_err err;
	size_t i;

	if (badkey != NULL)
		*badkey = NULL;
	for (i = 0; eh_ctl_config_keys[i] != NULL; i++) {
		v = lookup(ctx, eh_ctl_config_keys[i]);
		if (v == NULL)
			continue;
		err = set_ctl_key(c, eh_ctl_config_keys[i], v);
		if (err != EH_OK) {
			if (badkey != NULL)
				*badkey = eh_ctl_config_keys[i];
			return err;
		}
	}
	v = lookup(ctx, "ESIGNHOOK_ONESPAN_KEYS");
	if (v != NULL)
		return set_register_key(c, v);
	return EH_OK;
}

/*
 * What no single key can say: NATS takes one way to authenticate, and a
 * user name goes with a password.  Checked once every source is in.
 */
enum eh_err
eh_ctl_config_check(const struct eh_ctl_config *c, char *msg, size_t msgsz)
{
	int ways;

	msg[0] = '\0';
	if ((c->nats_user != NULL) != (c->nats_password != NULL)) {
		snprintf(msg, msgsz, "%s is set without %s",
		    c->nats_user != NULL ? "ESIGNHOOK_NATS_USER" :
		    "ESIGNHOOK_NATS_PASSWORD", c->nats_user != NULL ?
		    "ESIGNHOOK_NATS_PASSWORD" : "ESIGNHOOK_NATS_USER");
		return EH_ERR_CONFIG;
	}
	ways = (c->nats_creds != NULL) + (c->nats_token != NULL) +
	    (c->nats_user != NULL);
	if (ways > 1) {
		snprintf(msg, msgsz, "set one of ESIGNHOOK_NATS_CREDS, "
		    "ESIGNHOOK_NATS_TOKEN, ESIGNHOOK_NATS_USER (with "
		    "_PASSWORD), not %d", ways);
		return EH_ERR_CONFIG;
	}
	return EH_OK;
}

const char *
eh_ctl_onespan_api(const struct eh_ctl_config *c)
{
	return c->onespan_api != NULL ? c->onespan_api :
	    EH_DEFAULT_ONESPAN_API;
}
