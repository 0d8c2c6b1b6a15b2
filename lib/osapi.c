/*
 * OneSpan Sign's REST API: who we are to it.  An account authenticates
 * with its API key, sent as "Authorization: Basic <key>" -- the raw key,
 * OneSpan's convention, not base64 of user:password -- or, once its API
 * is switched to OAuth 2.0, with a client-credentials token (RFC 6749
 * 4.4) sent as "Authorization: Bearer <token>".  The handle caches the
 * token, so a drain pass fetches it once, not once per event.
 *
 * Secrets (the key, the client secret, the token) go into one header
 * string at a time, wiped as soon as the request is done; no error
 * written here quotes them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "esignhook.h"
#include "extern.h"

#define TOKEN_TIMEOUT_MS (30 * 1000)
#define TOKEN_BODY_MAX (64 * 1024)
#define TOKEN_MAX 8192          /* longest access_token we keep */
#define RENEW_BEFORE_S 300      /* renew in a token's last five minutes */
#define EXPIRES_MAX_S (3650LL * 24 * 3600)
#define HEADERS_MAX 16          /* the caller's headers, before ours */

struct eh_onespan {
	const struct eh_ctl_config *cfg;
	struct eh_http *http;
	char *token_url;        /* owned */
	char *token;            /* cached access token (owned, wiped) or NULL */
	int64_t token_until;    /* monotonic ms: use it until then */
	int token_once;         /* expires_in <= 300: use once, then renew */
	char *url;              /* the last call's URL; req->url points here */
};

static void
set_error(struct eh_http_resp *resp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_error(struct eh_http_resp *resp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(resp->error, sizeof(resp->error), fmt, ap);
	va_end(ap);
}

static void
resp_reset(struct eh_http_resp *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->retry_after_s = -1;
}

/* The API key wins when both kinds of credentials are configured. */
static int
use_oauth(const struct eh_ctl_config *cfg)
{
	return cfg->onespan_api_key == NULL &&
	    cfg->onespan_client_id != NULL &&
	    cfg->onespan_client_secret != NULL;
}

static int
have_credentials(const struct eh_ctl_config *cfg)
{
	return cfg->onespan_api_key != NULL || use_oauth(cfg);
}

/* scheme://host[:port] of url, then "/oauth2/token"; malloc'd. */
static char *
default_token_url(const char *api)
{
	static const char suffix[] = "/oauth2/token";
	const char *p;
	size_t n;
	char *out;

	p = strstr(api, "://");
	if (p == NULL)
		return NULL;
	p += 3;
	n = (size_t)(p - api) + strcspn(p, "/?#");
	out = malloc(n + sizeof(suffix));
	if (out == NULL)
		return NULL;
	memcpy(out, api, n);
	memcpy(out + n, suffix, sizeof(suffix));
	return out;
}

int
eh_onespan_new(struct eh_onespan **api, const struct eh_ctl_config *cfg,
    struct eh_http *http)
{
	struct eh_onespan *a;

	*api = NULL;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return -1;
	a->cfg = cfg;
	a->http = http;
	if (cfg->onespan_token_url != NULL)
		a->token_url = eh__strndup(cfg->onespan_token_url,
		    strlen(cfg->onespan_token_url));
	else
		a->token_url = default_token_url(eh_ctl_onespan_api(cfg));
	if (a->token_url == NULL) {
		free(a);
		return -1;
	}
	*api = a;
	return 0;
}

static void
drop_token(struct eh_onespan *api)
{
	eh__wipe_free(&api->token);
	api->token_once = 0;
	api->token_until = 0;
}

void
eh_onespan_free(struct eh_onespan *api)
{
	if (api == NULL)
		return;
	drop_token(api);
	free(api->token_url);
	free(api->url);
	free(api);
}

/* "Authorization: <scheme> <secret>", malloc'd; eh__wipe_free it. */
static char *
auth_header(const char *scheme, const char *secret)
{
	size_t n = strlen("Authorization: ") + strlen(scheme) + 1 +
	    strlen(secret) + 1;
	char *h = malloc(n);

	if (h != NULL)
		snprintf(h, n, "Authorization: %s %s", scheme, secret);
	return h;
}

/* Basic base64(id ":" secret) for the token request, RFC 6749 2.3.1. */
static char *
client_header(const struct eh_ctl_config *cfg)
{
	size_t idn = strlen(cfg->onespan_client_id);
	size_t sn = strlen(cfg->onespan_client_secret);
	size_t n = idn + 1 + sn, bn;
	char *plain, *b64, *h = NULL;

	plain = malloc(n);
	bn = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	b64 = malloc(bn);
	if (plain != NULL && b64 != NULL) {
		memcpy(plain, cfg->onespan_client_id, idn);
		plain[idn] = ':';
		memcpy(plain + idn + 1, cfg->onespan_client_secret, sn);
		sodium_bin2base64(b64, bn, (const unsigned char *)plain, n,
		    sodium_base64_VARIANT_ORIGINAL);
		h = auth_header("Basic", b64);
		sodium_memzero(b64, bn);
	}
	if (plain != NULL)
		sodium_memzero(plain, n);
	free(plain);
	free(b64);
	return h;
}

/* A token goes into a header: visible ASCII only, nothing to split it. */
static int
token_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > TOKEN_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

/*
 * expires_in (RFC 6749 5.1: seconds, recommended): a number, or digits
 * in a string as some servers send it; -1 when absent or unreadable.
 */
static long long
expires_in(json_t *v)
{
	const char *s;
	long long n = 0;

	if (json_is_integer(v))
		n = json_integer_value(v);
	else if (json_is_real(v)) {
		if (json_real_value(v) < 0)
			return -1;
		if (json_real_value(v) > (double)EXPIRES_MAX_S)
			return EXPIRES_MAX_S;
		n = (long long)json_real_value(v);
	} else if (json_is_string(v)) {
		s = json_string_value(v);
		if (*s == '\0')
			return -1;
		for (; *s != '\0'; s++) {
			if (*s < '0' || *s > '9')
				return -1;
			if (n <= EXPIRES_MAX_S)
				n = n * 10 + (*s - '0');
		}
	} else
		return -1;
	if (n < 0)
		return -1;
	return n > EXPIRES_MAX_S ? EXPIRES_MAX_S : n;
}

/*
 * Take the token out of a 2xx token reply (wiping jansson's copy too).
 * 0, or -1 with resp->error set.
 */
static int
take_token(struct eh_onespan *api, const char *body, size_t len,
    int64_t asked_at, struct eh_http_resp *resp)
{
	json_t *root, *tok;
	json_error_t jerr;
	long long exp;
	int rc = -1;

	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		set_error(resp, "OneSpan token response: not a JSON object");
		goto out;
	}
	tok = json_object_get(root, "access_token");
	if (!json_is_string(tok) ||
	    !token_ok(json_string_value(tok), json_string_length(tok))) {
		set_error(resp,
		    "OneSpan token response: access_token missing or malformed");
		goto out;
	}
	api->token = eh__strndup(json_string_value(tok),
	    json_string_length(tok));
	if (api->token == NULL) {
		set_error(resp, "OneSpan token: out of memory");
		goto out;
	}
	/*
	 * Renew in the last five minutes, so that a token never expires
	 * between the check and OneSpan's; one that lives no longer than
	 * that (or says nothing) serves one request.
	 */
	exp = expires_in(json_object_get(root, "expires_in"));
	if (exp <= RENEW_BEFORE_S) {
		api->token_once = 1;
		api->token_until = 0;
	} else {
		api->token_once = 0;
		api->token_until = asked_at + (exp - RENEW_BEFORE_S) * 1000;
	}
	rc = 0;
out:
	if (root != NULL) {
		tok = json_object_get(root, "access_token");
		/* jansson frees without wiping: wipe its copy first. */
		if (json_is_string(tok))
			sodium_memzero((char *)json_string_value(tok),
			    json_string_length(tok));
		json_decref(root);
	}
	return rc;
}

/*
 * Fetch a client-credentials token into api->token.  0: got one; 1: the
 * token endpoint answered with an error status (in resp, with
 * resp->error saying so); -1: no usable answer (resp->error).
 */
static int
fetch_token(struct eh_onespan *api, struct eh_http_resp *resp)
{
	static const char form[] = "grant_type=client_credentials";
	const char *hdrs[4];
	struct eh_http_req req;
	struct eh_http_resp tr;
	char *auth;
	int64_t asked_at;
	int rc;

	drop_token(api);
	auth = client_header(api->cfg);
	if (auth == NULL) {
		set_error(resp, "OneSpan token: out of memory");
		return -1;
	}
	hdrs[0] = auth;
	hdrs[1] = "Content-Type: application/x-www-form-urlencoded";
	hdrs[2] = "Accept: application/json";
	hdrs[3] = NULL;
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = api->token_url;
	req.headers = hdrs;
	req.body = form;
	req.body_len = sizeof(form) - 1;
	req.timeout_ms = TOKEN_TIMEOUT_MS;
	req.out_fd = -1;
	req.max_body = TOKEN_BODY_MAX;
	resp_reset(&tr);
	asked_at = eh_mono_ms();
	rc = eh_http_do(api->http, &req, &tr);
	eh__wipe_free(&auth);
	if (rc != 0) {
		resp->transport = tr.transport;
		set_error(resp, "OneSpan token request: %s", tr.error);
		rc = -1;
	} else if (tr.status < 200 || tr.status > 299) {
		resp->status = tr.status;
		resp->retry_after_s = tr.retry_after_s;
		set_error(resp, "OneSpan token request: HTTP %ld", tr.status);
		rc = 1;
	} else
		rc = take_token(api, tr.body != NULL ? tr.body : "",
		    tr.body_len, asked_at, resp);
	if (tr.body != NULL)
		sodium_memzero(tr.body, tr.body_len);
	eh_http_resp_free(&tr);
	return rc;
}

/*
 * The caller's request, with the URL and our Authorization header, up
 * to one retry with a fresh token after a 401.  resp is overwritten;
 * req->url is left pointing into api (valid until the next call) and
 * req->headers is restored.  A retry writing to req->out_fd starts the
 * file over.
 */
int
eh_onespan_call(struct eh_onespan *api, const char *path,
    struct eh_http_req *req, struct eh_http_resp *resp)
{
	const char *const *caller = req->headers;
	const char *hdrs[HEADERS_MAX + 2];
	const char *base;
	char *auth;
	size_t n = 0, bn, pn;
	int oauth, tries, rc;

	resp_reset(resp);
	if (!have_credentials(api->cfg)) {
		set_error(resp, "no OneSpan credentials "
		    "(ESIGNHOOK_ONESPAN_API_KEY or _CLIENT_ID/_CLIENT_SECRET)");
		return -1;
	}
	for (; caller != NULL && caller[n] != NULL; n++) {
		if (n == HEADERS_MAX) {
			set_error(resp, "OneSpan request: too many headers");
			return -1;
		}
		hdrs[n] = caller[n];
	}
	base = eh_ctl_onespan_api(api->cfg);
	bn = strlen(base);
	pn = strlen(path);
	free(api->url);
	api->url = malloc(bn + pn + 1);
	if (api->url == NULL) {
		set_error(resp, "OneSpan request: out of memory");
		return -1;
	}
	memcpy(api->url, base, bn);
	memcpy(api->url + bn, path, pn + 1);
	req->url = api->url;
	oauth = use_oauth(api->cfg);

	for (tries = 0;; tries++) {
		if (oauth && (api->token == NULL ||
		    (!api->token_once && eh_mono_ms() >= api->token_until))) {
			rc = fetch_token(api, resp);
			if (rc != 0)
				return rc > 0 ? 0 : -1;
		}
		if (oauth)
			auth = auth_header("Bearer", api->token);
		else
			auth = auth_header("Basic", api->cfg->onespan_api_key);
		if (auth == NULL) {
			set_error(resp, "OneSpan request: out of memory");
			return -1;
		}
		hdrs[n] = auth;
		hdrs[n + 1] = NULL;
		req->headers = hdrs;
		rc = eh_http_do(api->http, req, resp);
		req->headers = caller;
		eh__wipe_free(&auth);
		if (oauth && api->token_once)
			drop_token(api);
		if (rc != 0 || resp->status != 401 || !oauth || tries > 0)
			return rc;
		/* Revoked or expired early: one fresh token, one more try. */
		drop_token(api);
		eh_http_resp_free(resp);
		resp_reset(resp);
		if (req->out_fd >= 0 && (ftruncate(req->out_fd, 0) != 0 ||
		    lseek(req->out_fd, 0, SEEK_SET) != 0)) {
			set_error(resp, "OneSpan request: truncate: %s",
			    eh_errno_str(errno));
			return -1;
		}
	}
}
