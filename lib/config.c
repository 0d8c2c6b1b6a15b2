/*
 * Configuration: defaults, then a KEY=value file, then the process
 * environment, then per-request FastCGI params or the CGI environment,
 * each applied through one lookup interface (eh_config_apply).
 * Secrets are hashed on arrival and their plaintext wiped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "esignhook.h"
#include "extern.h"

const char *const eh_config_keys[] = {
	"ESIGNHOOK_SPOOL", "ESIGNHOOK_ONESPAN_KEYS",
	"ESIGNHOOK_ALPHATRUST_TOKENS", "ESIGNHOOK_RESPONSE_TEXT",
	"ESIGNHOOK_MAX_BODY", "ESIGNHOOK_SPOOL_MAX_EVENTS",
	"ESIGNHOOK_SPOOL_MIN_FREE", "ESIGNHOOK_PROVIDER", "ESIGNHOOK_LOG",
	"ESIGNHOOK_THREADS", "ESIGNHOOK_ALLOW_ROOT", "ESIGNHOOK_SANDBOX",
	"ESIGNHOOK_READ_TIMEOUT", "ESIGNHOOK_OAUTH_CLIENT_ID",
	"ESIGNHOOK_OAUTH_CLIENT_SECRETS", "ESIGNHOOK_OAUTH_TOKEN_TTL",
	"ESIGNHOOK_SPOOL_COMMIT", NULL
};

#define RESPONSE_TEXT_MAX 255
#define MAX_BODY_LIMIT (64UL * 1024 * 1024)
#define THREADS_MAX 256
#define SECRETS_MAX 16
/* A longer wait is no bound: an hour, as milliseconds. */
#define READ_TIMEOUT_MAX_MS (3600LL * 1000)
/* A client id is no secret but goes into Basic credentials and logs of
 * check-config: printable and short. */
#define CLIENT_ID_MAX 255

void
eh_config_init(struct eh_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_body = EH_DEFAULT_MAX_BODY;
	cfg->max_events = EH_DEFAULT_MAX_EVENTS;
	cfg->min_free = EH_DEFAULT_MIN_FREE;
	cfg->provider = EH_PROVIDER_AUTO;
	cfg->log = EH_LOG_STDERR;
	cfg->threads = EH_DEFAULT_THREADS;
	cfg->sandbox = 1;
	cfg->read_timeout_ms = EH_DEFAULT_READ_TIMEOUT_MS;
	cfg->oauth.ttl_s = EH_OAUTH_DEFAULT_TTL;
}

static void
secrets_free(struct eh_secrets *s)
{
	if (s->digest != NULL)
		sodium_memzero(s->digest, s->n * sizeof(*s->digest));
	free(s->digest);
	s->digest = NULL;
	s->n = 0;
}

/* The OAuth client's secrets: their digests and their signing keys. */
static void
oauth_secrets_free(struct eh_oauth *o)
{
	if (o->mac_key != NULL)
		sodium_memzero(o->mac_key, o->secrets.n * sizeof(*o->mac_key));
	free(o->mac_key);
	o->mac_key = NULL;
	secrets_free(&o->secrets);
}

void
eh_config_free(struct eh_config *cfg)
{
	free(cfg->spool);
	free(cfg->response_text);
	secrets_free(&cfg->onespan);
	secrets_free(&cfg->alphatrust);
	free(cfg->oauth.client_id);
	oauth_secrets_free(&cfg->oauth);
	eh_config_init(cfg);
}

static enum eh_err
strdup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return EH_OK;
	*dst = eh__strndup(src, strlen(src));
	if (*dst == NULL)
		return EH_ERR_NOMEM;
	return EH_OK;
}

static enum eh_err
secrets_copy(struct eh_secrets *dst, const struct eh_secrets *src)
{
	dst->n = 0;
	dst->digest = NULL;
	if (src->n == 0)
		return EH_OK;
	dst->digest = malloc(src->n * sizeof(*src->digest));
	if (dst->digest == NULL)
		return EH_ERR_NOMEM;
	memcpy(dst->digest, src->digest, src->n * sizeof(*src->digest));
	dst->n = src->n;
	return EH_OK;
}

static enum eh_err
oauth_copy(struct eh_oauth *dst, const struct eh_oauth *src)
{
	dst->client_id = NULL;
	dst->mac_key = NULL;
	if (secrets_copy(&dst->secrets, &src->secrets) != EH_OK ||
	    strdup_opt(&dst->client_id, src->client_id) != EH_OK)
		return EH_ERR_NOMEM;
	if (src->secrets.n == 0)
		return EH_OK;
	dst->mac_key = malloc(src->secrets.n * sizeof(*src->mac_key));
	if (dst->mac_key == NULL)
		return EH_ERR_NOMEM;
	memcpy(dst->mac_key, src->mac_key, src->secrets.n *
	    sizeof(*src->mac_key));
	return EH_OK;
}

enum eh_err
eh_config_copy(struct eh_config *dst, const struct eh_config *src)
{
	*dst = *src;
	dst->spool = dst->response_text = NULL;
	dst->onespan.digest = dst->alphatrust.digest = NULL;
	dst->onespan.n = dst->alphatrust.n = 0;
	dst->oauth.client_id = NULL;
	dst->oauth.secrets.digest = NULL;
	dst->oauth.secrets.n = 0;
	dst->oauth.mac_key = NULL;
	if (strdup_opt(&dst->spool, src->spool) != EH_OK ||
	    strdup_opt(&dst->response_text, src->response_text) != EH_OK ||
	    secrets_copy(&dst->onespan, &src->onespan) != EH_OK ||
	    secrets_copy(&dst->alphatrust, &src->alphatrust) != EH_OK ||
	    oauth_copy(&dst->oauth, &src->oauth) != EH_OK) {
		eh_config_free(dst);
		return EH_ERR_NOMEM;
	}
	return EH_OK;
}

/*
 * A size or count: plain decimal, an optional K, M or G (powers of
 * 1024), no sign or blanks, nothing over max.
 */
static int
parse_number(const char *s, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0, mult = 1;
	const char *p;

	if (*s < '0' || *s > '9')
		return -1;
	for (p = s; *p >= '0' && *p <= '9'; p++) {
		if (v > (max - (unsigned)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned)(*p - '0');
	}
	switch (*p) {
	case '\0':
		break;
	case 'k': case 'K':
		mult = 1ULL << 10;
		p++;
		break;
	case 'm': case 'M':
		mult = 1ULL << 20;
		p++;
		break;
	case 'g': case 'G':
		mult = 1ULL << 30;
		p++;
		break;
	default:
		return -1;
	}
	if (*p != '\0' || (v != 0 && mult > max / v))
		return -1;
	*out = v * mult;
	return 0;
}

/* URL tokens travel in a path segment or a query: unreserved chars only
 * (RFC 3986 2.3), so there is one spelling to compare. */
static int
url_safe(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789-._~", s[i]) == NULL || s[i] == '\0')
			return 0;
	return 1;
}

/* set_key's name for eh__printable. */
static int
printable(const char *s, size_t n)
{
	return eh__printable(s, n);
}

/* A printable text of at most max bytes into *dst; "" is NULL (unset). */
static enum eh_err
set_text(char **dst, const char *v, size_t max)
{
	char *copy = NULL;

	if (strlen(v) > max || !printable(v, strlen(v)))
		return EH_ERR_CONFIG;
	if (*v != '\0') {
		copy = eh__strndup(v, strlen(v));
		if (copy == NULL)
			return EH_ERR_NOMEM;
	}
	free(*dst);
	*dst = copy;
	return EH_OK;
}

/*
 * "a, b,c": comma-separated, blanks around each trimmed, empty entries
 * skipped.  Each secret is hashed; only digests are kept, and, with
 * keys, each one's token-signing key (eh_oauth_derive) in the same
 * order: *keys is then replaced by a new array (NULL for no secret).
 */
static enum eh_err
parse_secrets(struct eh_secrets *out, const char *s, int url_token,
    unsigned char (**keys)[32])
{
	struct eh_secrets set = { 0, NULL };
	unsigned char (*k)[32] = NULL;
	const char *cur = s, *p;
	size_t cnt = 0, n;

	while (eh_list_next(&cur, &p, &n)) {
		if (n == 0)
			continue;
		if ((url_token && !url_safe(p, n)) || !eh__printable(p, n) ||
		    cnt == SECRETS_MAX)
			goto bad;
		if (set.digest == NULL) {
			set.digest = calloc(SECRETS_MAX, sizeof(*set.digest));
			if (set.digest == NULL)
				goto nomem;
			if (keys != NULL) {
				k = calloc(SECRETS_MAX, sizeof(*k));
				if (k == NULL)
					goto nomem;
			}
		}
		crypto_hash_sha256(set.digest[cnt], (const unsigned char *)p,
		    (unsigned long long)n);
		if (k != NULL)
			eh_oauth_derive(k[cnt], p, n);
		set.n = ++cnt;
	}
	if (keys != NULL) {
		if (*keys != NULL)
			sodium_memzero(*keys, out->n * sizeof(**keys));
		free(*keys);
		*keys = k;
	}
	secrets_free(out);
	*out = set;
	return EH_OK;
bad:
	if (k != NULL)
		sodium_memzero(k, SECRETS_MAX * sizeof(*k));
	free(k);
	secrets_free(&set);
	return EH_ERR_CONFIG;
nomem:
	free(k);
	secrets_free(&set);
	return EH_ERR_NOMEM;
}

static enum eh_err
parse_bool(const char *v, int *out)
{
	if (strcmp(v, "1") == 0 || strcmp(v, "yes") == 0 ||
	    strcmp(v, "on") == 0)
		*out = 1;
	else if (strcmp(v, "0") == 0 || strcmp(v, "no") == 0 ||
	    strcmp(v, "off") == 0)
		*out = 0;
	else
		return EH_ERR_CONFIG;
	return EH_OK;
}

static enum eh_err
set_key(struct eh_config *cfg, const char *key, const char *v)
{
	unsigned long long n;
	int64_t ms;
	char *copy;

	if (strcmp(key, "ESIGNHOOK_SPOOL") == 0) {
		if (*v != '/' || strlen(v) > 4000)
			return EH_ERR_CONFIG;
		copy = eh__strndup(v, strlen(v));
		if (copy == NULL)
			return EH_ERR_NOMEM;
		free(cfg->spool);
		cfg->spool = copy;
	} else if (strcmp(key, "ESIGNHOOK_ONESPAN_KEYS") == 0) {
		return parse_secrets(&cfg->onespan, v, 0, NULL);
	} else if (strcmp(key, "ESIGNHOOK_ALPHATRUST_TOKENS") == 0) {
		return parse_secrets(&cfg->alphatrust, v, 1, NULL);
	} else if (strcmp(key, "ESIGNHOOK_RESPONSE_TEXT") == 0) {
		return set_text(&cfg->response_text, v, RESPONSE_TEXT_MAX);
	} else if (strcmp(key, "ESIGNHOOK_MAX_BODY") == 0) {
		if (parse_number(v, MAX_BODY_LIMIT, &n) != 0 || n == 0)
			return EH_ERR_CONFIG;
		cfg->max_body = (size_t)n;
	} else if (strcmp(key, "ESIGNHOOK_SPOOL_MAX_EVENTS") == 0) {
		if (parse_number(v, 1000000000ULL, &n) != 0)
			return EH_ERR_CONFIG;
		cfg->max_events = (unsigned long)n;
	} else if (strcmp(key, "ESIGNHOOK_SPOOL_MIN_FREE") == 0) {
		if (parse_number(v, 1ULL << 50, &n) != 0)
			return EH_ERR_CONFIG;
		cfg->min_free = n;
	} else if (strcmp(key, "ESIGNHOOK_PROVIDER") == 0) {
		if (strcmp(v, "auto") == 0)
			cfg->provider = EH_PROVIDER_AUTO;
		else if (strcmp(v, "onespan") == 0)
			cfg->provider = EH_PROVIDER_ONESPAN;
		else if (strcmp(v, "alphatrust") == 0)
			cfg->provider = EH_PROVIDER_ALPHATRUST;
		else
			return EH_ERR_CONFIG;
	} else if (strcmp(key, "ESIGNHOOK_LOG") == 0) {
		if (strcmp(v, "stderr") == 0)
			cfg->log = EH_LOG_STDERR;
		else if (strcmp(v, "syslog") == 0)
			cfg->log = EH_LOG_SYSLOG;
		else
			return EH_ERR_CONFIG;
	} else if (strcmp(key, "ESIGNHOOK_THREADS") == 0) {
		if (parse_number(v, THREADS_MAX, &n) != 0 || n == 0)
			return EH_ERR_CONFIG;
		cfg->threads = (unsigned)n;
	} else if (strcmp(key, "ESIGNHOOK_ALLOW_ROOT") == 0) {
		return parse_bool(v, &cfg->allow_root);
	} else if (strcmp(key, "ESIGNHOOK_SPOOL_COMMIT") == 0) {
		if (strcmp(v, "file") == 0)
			cfg->commit = EH_COMMIT_FILE;
		else if (strcmp(v, "group") == 0)
			cfg->commit = EH_COMMIT_GROUP;
		else
			return EH_ERR_CONFIG;
	} else if (strcmp(key, "ESIGNHOOK_SANDBOX") == 0) {
		return parse_bool(v, &cfg->sandbox);
	} else if (strcmp(key, "ESIGNHOOK_READ_TIMEOUT") == 0) {
		/* As the operator tool's durations ("500ms", "10s", a bare
		 * number is seconds); 0 would be no bound at all. */
		if (eh_duration_parse(v, &ms) != EH_OK || ms == 0 ||
		    ms > READ_TIMEOUT_MAX_MS)
			return EH_ERR_CONFIG;
		cfg->read_timeout_ms = ms;
	} else if (strcmp(key, "ESIGNHOOK_OAUTH_CLIENT_ID") == 0) {
		/* Empty: no client (a per-request override can close it). */
		return set_text(&cfg->oauth.client_id, v, CLIENT_ID_MAX);
	} else if (strcmp(key, "ESIGNHOOK_OAUTH_CLIENT_SECRETS") == 0) {
		return parse_secrets(&cfg->oauth.secrets, v, 0,
		    &cfg->oauth.mac_key);
	} else if (strcmp(key, "ESIGNHOOK_OAUTH_TOKEN_TTL") == 0) {
		/* A duration as ESIGNHOOK_READ_TIMEOUT's, in whole seconds:
		 * the token says its expiry in seconds. */
		if (eh_duration_parse(v, &ms) != EH_OK || ms % 1000 != 0 ||
		    ms < 1000 || ms > EH_OAUTH_MAX_TTL * 1000LL)
			return EH_ERR_CONFIG;
		cfg->oauth.ttl_s = ms / 1000;
	} else
		return EH_ERR_CONFIG;
	return EH_OK;
}

enum eh_err
eh_config_check(const struct eh_config *cfg, const char **badkey)
{
	if (badkey != NULL)
		*badkey = NULL;
	/* Half a client is a mistake, not "OAuth off": say so. */
	if (cfg->oauth.client_id != NULL && cfg->oauth.secrets.n == 0) {
		if (badkey != NULL)
			*badkey = "ESIGNHOOK_OAUTH_CLIENT_SECRETS";
		return EH_ERR_CONFIG;
	}
	if (cfg->oauth.client_id == NULL && cfg->oauth.secrets.n > 0) {
		if (badkey != NULL)
			*badkey = "ESIGNHOOK_OAUTH_CLIENT_ID";
		return EH_ERR_CONFIG;
	}
	return EH_OK;
}

enum eh_err
eh_config_apply(struct eh_config *cfg, eh_lookup_fn lookup, void *ctx,
    const char **badkey)
{
	const char *v;
	enum eh_err err;
	size_t i;

	if (badkey != NULL)
		*badkey = NULL;
	for (i = 0; eh_config_keys[i] != NULL; i++) {
		v = lookup(ctx, eh_config_keys[i]);
		if (v == NULL)
			continue;
		err = set_key(cfg, eh_config_keys[i], v);
		if (err != EH_OK) {
			if (badkey != NULL)
				*badkey = eh_config_keys[i];
			return err;
		}
	}
	return EH_OK;
}

int
eh_config_any(eh_lookup_fn lookup, void *ctx)
{
	size_t i;

	for (i = 0; eh_config_keys[i] != NULL; i++)
		if (lookup(ctx, eh_config_keys[i]) != NULL)
			return 1;
	return 0;
}

/* ---- the configuration file ---- */

static int
in_table(const char *const *keys, const char *k, size_t n)
{
	size_t i;

	for (i = 0; keys[i] != NULL; i++)
		if (strlen(keys[i]) == n && memcmp(keys[i], k, n) == 0)
			return 1;
	return 0;
}

/* One file serves the receiver and the operator tool: both key sets. */
static int
known_key(const char *k, size_t n)
{
	return in_table(eh_config_keys, k, n) ||
	    in_table(eh_ctl_config_keys, k, n);
}

enum eh_err
eh_conffile_parse(struct eh_conffile *cf, const char *buf, size_t len,
    size_t *line)
{
	const char *p, *end, *nl, *le, *eq, *k, *ke, *v, *ve;
	size_t i, ln = 0;
	char **nk, **nv;

	memset(cf, 0, sizeof(*cf));
	*line = 0;
	end = buf + len;
	for (p = buf; p < end; p = nl + 1) {
		ln++;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		/* The line less its blanks: empty, a comment or KEY=value
		 * (KEY and value each less theirs). */
		k = p;
		le = nl;
		eh__trim(&k, &le, 1);
		if (k == le || *k == '#')
			continue;
		eq = memchr(k, '=', (size_t)(le - k));
		if (eq == NULL)
			goto bad;
		ke = eq;
		eh__trim(&k, &ke, 1);
		v = eq + 1;
		ve = le;
		eh__trim(&v, &ve, 1);
		/* Quotes, as a shell or systemd's EnvironmentFile= writes them. */
		if (ve - v >= 2 && (*v == '"' || *v == '\'') && ve[-1] == *v) {
			v++;
			ve--;
		}
		if (!known_key(k, (size_t)(ke - k)) ||
		    memchr(v, '\0', (size_t)(ve - v)) != NULL)
			goto bad;
		for (i = 0; i < cf->n; i++)
			if (strlen(cf->key[i]) == (size_t)(ke - k) &&
			    memcmp(cf->key[i], k, (size_t)(ke - k)) == 0)
				goto bad;
		nk = realloc(cf->key, (cf->n + 1) * sizeof(*nk));
		if (nk == NULL)
			goto nomem;
		cf->key = nk;
		nv = realloc(cf->value, (cf->n + 1) * sizeof(*nv));
		if (nv == NULL)
			goto nomem;
		cf->value = nv;
		cf->key[cf->n] = eh__strndup(k, (size_t)(ke - k));
		cf->value[cf->n] = eh__strndup(v, (size_t)(ve - v));
		if (cf->key[cf->n] == NULL || cf->value[cf->n] == NULL) {
			free(cf->key[cf->n]);
			free(cf->value[cf->n]);
			goto nomem;
		}
		cf->n++;
		if (nl == end)
			break;
	}
	return EH_OK;
bad:
	*line = ln;
	eh_conffile_free(cf);
	return EH_ERR_CONFIG;
nomem:
	eh_conffile_free(cf);
	return EH_ERR_NOMEM;
}

const char *
eh_conffile_lookup(void *ctx, const char *key)
{
	const struct eh_conffile *cf = ctx;
	size_t i;

	for (i = 0; i < cf->n; i++)
		if (strcmp(cf->key[i], key) == 0)
			return cf->value[i];
	return NULL;
}

void
eh_conffile_free(struct eh_conffile *cf)
{
	size_t i;

	for (i = 0; i < cf->n; i++) {
		sodium_memzero(cf->value[i], strlen(cf->value[i]));
		free(cf->key[i]);
		free(cf->value[i]);
	}
	free(cf->key);
	free(cf->value);
	memset(cf, 0, sizeof(*cf));
}

/* ---- loading: the file, then the environment ---- */

#define CONFIG_FILE_MAX (64 * 1024)

/*
 * Read all of path (at most CONFIG_FILE_MAX bytes) into *buf: 0, or -1
 * with errno, nothing of the file left in memory (it holds secrets).
 */
static int
slurp(const char *path, char **buf, size_t *len)
{
	return eh__read_file(AT_FDCWD, path, 0, CONFIG_FILE_MAX, buf, len);
}

/* Apply one source to both configurations. */
static enum eh_err
apply_both(struct eh_config *cfg, struct eh_ctl_config *ctl,
    eh_lookup_fn lookup, void *ctx, const char **badkey)
{
	enum eh_err err;

	err = eh_config_apply(cfg, lookup, ctx, badkey);
	if (err == EH_OK && ctl != NULL)
		err = eh_ctl_config_apply(ctl, lookup, ctx, badkey);
	return err;
}

enum eh_err
eh_config_load(struct eh_config *cfg, struct eh_ctl_config *ctl,
    const char *path, eh_lookup_fn env, void *envctx, char *msg,
    size_t msgsz)
{
	struct eh_conffile cf;
	const char *badkey;
	char *buf;
	size_t len, line;
	enum eh_err err;

	eh_config_init(cfg);
	if (ctl != NULL)
		eh_ctl_config_init(ctl);
	msg[0] = '\0';
	if (path != NULL && *path != '\0') {
		if (slurp(path, &buf, &len) != 0) {
			snprintf(msg, msgsz, "cannot read %s: %s", path,
			    eh_errno_str(errno));
			return EH_ERR_CONFIG;
		}
		err = eh_conffile_parse(&cf, buf, len, &line);
		sodium_memzero(buf, len);
		free(buf);
		if (err != EH_OK) {
			snprintf(msg, msgsz, "%s:%zu: %s", path, line,
			    err == EH_ERR_CONFIG ? "not KEY=value with a known "
			    "ESIGNHOOK_ key given once" : eh_strerror(err));
			return err;
		}
		err = apply_both(cfg, ctl, eh_conffile_lookup, &cf, &badkey);
		eh_conffile_free(&cf);
		if (err != EH_OK) {
			snprintf(msg, msgsz, "%s: invalid value for %s", path,
			    badkey != NULL ? badkey : "?");
			return err;
		}
	}
	err = apply_both(cfg, ctl, env, envctx, &badkey);
	if (err != EH_OK) {
		snprintf(msg, msgsz, "environment: invalid value for %s",
		    badkey != NULL ? badkey : "?");
		return err;
	}
	/* Once every source is in: one may name the id, another the
	 * secrets. */
	err = eh_config_check(cfg, &badkey);
	if (err != EH_OK) {
		snprintf(msg, msgsz, "%s is set without %s",
		    strcmp(badkey, "ESIGNHOOK_OAUTH_CLIENT_ID") == 0 ?
		    "ESIGNHOOK_OAUTH_CLIENT_SECRETS" :
		    "ESIGNHOOK_OAUTH_CLIENT_ID", badkey);
		return err;
	}
	if (ctl != NULL)
		return eh_ctl_config_check(ctl, msg, msgsz);
	return EH_OK;
}
