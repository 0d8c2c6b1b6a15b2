/*
 * The request handler: a pure function from a request description and
 * a configuration to a decision (reply now, store an event then reply,
 * or check health then reply).  Every rule of the README's request
 * table is here, so every rule is a unit test.  It decides in two
 * steps: the head (method, URL, headers) authenticates, and only an
 * authenticated POST's body is then read and looked at; once
 * authenticated, what does not fit the documents is stored with its
 * problems rather than refused (a refused callback is a lost one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "esignhook.h"
#include "extern.h"

#define ONESPAN_OK "{\"success\":true}"

static void
set_body(struct eh_response *r, const char *text, const char *suffix)
{
	int n;

	n = snprintf(r->body, sizeof(r->body), "%s%s", text, suffix);
	r->body_len = n < 0 ? 0 : (size_t)n >= sizeof(r->body) ?
	    sizeof(r->body) - 1 : (size_t)n;
}

enum eh_err
eh_decision_fail(struct eh_decision *d, enum eh_err err)
{
	struct eh_response *r = &d->resp;

	eh_event_free(&d->event);
	d->action = EH_ACT_REPLY;
	d->err = err;
	memset(r, 0, sizeof(*r));
	r->status = eh_err_status(err);
	r->content_type = "text/plain; charset=utf-8";
	if (r->status == 405)
		r->allow = "GET, POST";
	/* RFC 9110 15.5.2: a 401 names the scheme it wants. */
	if (r->status == 401)
		r->www_authenticate = "Basic realm=\"esignhook\"";
	if (r->status == 503)
		r->retry_after = "300";
	set_body(r, eh_strerror(err), "\n");
	return err;
}

void
eh_decision_free(struct eh_decision *d)
{
	eh_event_free(&d->event);
	/* A token request's body may hold the client secret. */
	if (d->body != NULL && d->token_endpoint)
		sodium_memzero(d->body, d->body_len);
	free(d->body);
	d->body = NULL;
}

/*
 * RFC 3875 4.1.2: CONTENT_LENGTH is 1*digit.  Absent or empty means
 * "read to the end" (Apache passes chunked bodies that way).
 */
enum eh_err
eh_content_length(const char *s, size_t max_body, size_t *declared,
    int *known)
{
	size_t v = 0;
	const char *p;

	*declared = 0;
	*known = 0;
	if (s == NULL || *s == '\0')
		return EH_OK;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return EH_ERR_CLEN;
		if (v > ((size_t)-1 - (size_t)(*p - '0')) / 10)
			return EH_ERR_CLEN;
		v = v * 10 + (size_t)(*p - '0');
	}
	*declared = v;
	*known = 1;
	return v > max_body ? EH_ERR_TOO_LARGE : EH_OK;
}

/* Whether a candidate matches any secret, in time that depends on
 * neither the candidate's content nor its length: both sides are
 * SHA-256 digests, compared with sodium_memcmp, all of them. */
static int
secret_match(const struct eh_secrets *s, const char *cand, size_t n)
{
	unsigned char d[crypto_hash_sha256_BYTES];
	size_t i;
	int ok = 0;

	crypto_hash_sha256(d, (const unsigned char *)cand,
	    (unsigned long long)n);
	for (i = 0; i < s->n; i++)
		ok |= sodium_memcmp(d, s->digest[i], sizeof(d)) == 0;
	sodium_memzero(d, sizeof(d));
	return ok;
}

/* The key in "Basic <key>" (scheme case-insensitive), or NULL. */
static const char *
basic_key(const char *h, size_t *n)
{
	const char *e;

	if (h == NULL)
		return NULL;
	while (*h == ' ' || *h == '\t')
		h++;
	if (!eh__strncaseeq(h, "basic", 5) || (h[5] != ' ' && h[5] != '\t'))
		return NULL;
	h += 5;
	e = h + strlen(h);
	eh__trim(&h, &e, 0);
	*n = (size_t)(e - h);
	return *n > 0 ? h : NULL;
}

/* The last segment of REQUEST_URI's path, or NULL. */
static const char *
path_token(const char *uri, size_t *n)
{
	const char *q, *slash;

	if (uri == NULL)
		return NULL;
	q = strchr(uri, '?');
	if (q == NULL)
		q = uri + strlen(uri);
	for (slash = q; slash > uri && slash[-1] != '/'; slash--)
		continue;
	*n = (size_t)(q - slash);
	return *n > 0 ? slash : NULL;
}

/*
 * The raw value of the first "token=" field of a query string, or NULL:
 * found without decoding, so that nothing parses a query before its
 * sender is authenticated (URL tokens are unreserved characters only).
 * A second '?' separates as '&' does: a sender appending "?Fields..."
 * to a URL that already holds "?token=" must not bury the token.
 */
static const char *
query_token(const char *qs, size_t *n)
{
	const char *p = qs, *sep;

	while (p != NULL && *p != '\0') {
		sep = p + strcspn(p, "&?");
		if ((size_t)(sep - p) >= 6 && strncmp(p, "token=", 6) == 0) {
			p += 6;
			*n = (size_t)(sep - p);
			return *n > 0 ? p : NULL;
		}
		p = *sep != '\0' ? sep + 1 : NULL;
	}
	return NULL;
}

/*
 * Authenticate against the provider's secrets: OneSpan by its Basic
 * key, either by our URL token (last path segment or ?token=).  *how
 * says which matched, for the log: "basic" or "token".
 */
static enum eh_err
authenticate(const struct eh_secrets *s, const struct eh_request *req,
    int basic, const char **how)
{
	const char *c;
	size_t n;
	int any = 0, ok = 0, by_basic = 0, m;

	*how = NULL;
	if (s->n == 0)
		return EH_ERR_AUTH_NONE;
	c = basic ? basic_key(req->authorization, &n) : NULL;
	if (c != NULL) {
		any = 1;
		by_basic = secret_match(s, c, n);
		ok |= by_basic;
	}
	/* A matched key decides, whatever the URL holds: its tokens go
	 * unhashed.  That takes less time tells only what the 200 says;
	 * each comparison is still over every secret. */
	if (by_basic) {
		*how = "basic";
		return EH_OK;
	}
	/* RFC 3875 has no REQUEST_URI; every server we ship for sets it,
	 * and PATH_INFO serves where one does not. */
	c = path_token(req->request_uri != NULL ? req->request_uri :
	    req->path_info, &n);
	if (c != NULL) {
		m = secret_match(s, c, n);
		ok |= m;
		/* Every URL has a last segment: for OneSpan, whose credential
		 * is the header, one that is no key is no credential sent
		 * (so Apache hiding Authorization reads "missing"). */
		if (!basic || m)
			any = 1;
	}
	c = req->query != NULL ? query_token(req->query, &n) : NULL;
	if (c != NULL) {
		any = 1;
		ok |= secret_match(s, c, n);
	}
	if (ok) {
		*how = by_basic ? "basic" : "token";
		return EH_OK;
	}
	return any ? EH_ERR_AUTH_WRONG : EH_ERR_AUTH_MISSING;
}

/*
 * The token in "Bearer <token>" (RFC 6750 2.1; scheme
 * case-insensitive), blanks around it cut, or NULL when Authorization
 * is of another scheme.  An empty token is returned too (n == 0): a
 * Bearer credential sent, and malformed.
 */
static const char *
bearer_token(const char *h, size_t *n)
{
	const char *e;

	if (h == NULL)
		return NULL;
	while (*h == ' ' || *h == '\t')
		h++;
	if (!eh__strncaseeq(h, "bearer", 6) || (h[6] != ' ' &&
	    h[6] != '\t' && h[6] != '\0'))
		return NULL;
	h += 6;
	e = h + strlen(h);
	eh__trim(&h, &e, 0);
	*n = (size_t)(e - h);
	return h;
}

/*
 * A OneSpan callback's Bearer token, minted by our token endpoint:
 * EH_OK, or why not (eh_oauth_verify's causes); EH_ERR_AUTH_MISSING
 * when Authorization is no Bearer credential at all.
 */
static enum eh_err
bearer_check(const struct eh_request *req, const struct eh_config *cfg)
{
	const char *tok;
	size_t n = 0;

	tok = bearer_token(req->authorization, &n);
	if (tok == NULL)
		return EH_ERR_AUTH_MISSING;
	return eh_oauth_verify(&cfg->oauth, tok, n, req->now);
}

/*
 * OneSpan's JSON callback: a Bearer token, the Basic key or a URL
 * token, any of them valid.  When none is, a Bearer token sent says
 * why (expired, forged, malformed): that is what its sender needs.
 */
static enum eh_err
onespan_auth(struct eh_decision *d, const struct eh_request *req,
    const struct eh_config *cfg)
{
	enum eh_err berr, err;

	berr = bearer_check(req, cfg);
	if (berr == EH_OK) {
		d->auth = "oauth";
		return EH_OK;
	}
	err = authenticate(&cfg->onespan, req, 1, &d->auth);
	if (err == EH_OK || berr == EH_ERR_AUTH_MISSING)
		return err;
	return berr;
}

static enum eh_err
body_error(const struct eh_request *req, const struct eh_config *cfg)
{
	size_t declared;
	int known;
	enum eh_err err;

	switch (req->body_state) {
	case EH_BODY_OK:
		return EH_OK;
	case EH_BODY_OVER:
		return EH_ERR_TOO_LARGE;
	case EH_BODY_SHORT:
		return EH_ERR_SHORT_BODY;
	case EH_BODY_IOERR:
		return EH_ERR_READ;
	case EH_BODY_UNREAD:
	default:
		err = eh_content_length(req->content_length, cfg->max_body,
		    &declared, &known);
		return err != EH_OK ? err : EH_ERR_READ;
	}
}

static enum eh_err
accept_event(struct eh_decision *d, const struct eh_config *cfg)
{
	struct eh_response *r = &d->resp;

	d->action = EH_ACT_STORE;
	r->status = 200;
	if (d->provider == EH_PROVIDER_ONESPAN) {
		r->content_type = "application/json";
		set_body(r, ONESPAN_OK, "");
	} else {
		/* AlphaTrust's required-response-text wants text/plain. */
		r->content_type = "text/plain";
		set_body(r, cfg->response_text != NULL ?
		    cfg->response_text : "OK", "");
	}
	return EH_OK;
}

/* Whether Authorization carries a valid OneSpan key (constant time). */
static int
onespan_key(const struct eh_config *cfg, const struct eh_request *req)
{
	const char *c;
	size_t n;

	c = basic_key(req->authorization, &n);
	return c != NULL && cfg->onespan.n > 0 &&
	    secret_match(&cfg->onespan, c, n);
}

/* Whether the request's path (REQUEST_URI less its query; PATH_INFO
 * without one) ends in "/oauth/token" (or "/oauth/token/", as a URL
 * is often typed): the token endpoint. */
static int
token_path(const struct eh_request *req)
{
	static const char suffix[] = "/oauth/token";
	const char *uri = req->request_uri != NULL ? req->request_uri :
	    req->path_info;
	size_t n, k = sizeof(suffix) - 1;

	if (uri == NULL)
		return 0;
	n = strcspn(uri, "?");
	if (n > 0 && uri[n - 1] == '/')
		n--;
	return n >= k && memcmp(uri + n - k, suffix, k) == 0;
}

/*
 * A form POST is AlphaTrust's, authenticated by its URL token.  Java's
 * HttpURLConnection sends a body it was given no type for as
 * application/x-www-form-urlencoded: a valid OneSpan key in
 * Authorization makes the request OneSpan's instead.  Each provider's
 * credential is tested against its own secrets only (the URL token
 * never against OneSpan keys, the Basic key never against AlphaTrust
 * tokens), so neither admits the other's event; both are tested every
 * time, and a valid token wins.
 */
static enum eh_err
route_form(struct eh_decision *d, const struct eh_request *req,
    const struct eh_config *cfg)
{
	enum eh_err at = EH_ERR_MEDIA_TYPE, berr = EH_ERR_AUTH_MISSING;
	const char *how = NULL;
	int os = 0;

	if (cfg->provider != EH_PROVIDER_ONESPAN)
		at = authenticate(&cfg->alphatrust, req, 0, &how);
	/* A Bearer token, like the Basic key, is OneSpan's credential:
	 * never one for AlphaTrust's events. */
	if (cfg->provider != EH_PROVIDER_ALPHATRUST) {
		os = onespan_key(cfg, req);
		berr = bearer_check(req, cfg);
	}
	if (at == EH_OK) {
		d->provider = EH_PROVIDER_ALPHATRUST;
		d->auth = how;
		return EH_OK;
	}
	if (os || berr == EH_OK) {
		d->provider = EH_PROVIDER_ONESPAN;
		d->auth = os ? "basic" : "oauth";
		return EH_OK;
	}
	d->provider = cfg->provider == EH_PROVIDER_ONESPAN ?
	    EH_PROVIDER_ONESPAN : EH_PROVIDER_ALPHATRUST;
	return berr != EH_ERR_AUTH_MISSING ? berr : at;
}

/* Whether an event has any problem (then it is no known event). */
static int
has_problems(const struct eh_event *ev)
{
	return ev->problems.n > 0 || ev->problems.dropped > 0;
}

/*
 * The problems of the decoding (first), then ev's own, then extra (the
 * query of a POST), into ev.
 */
static void
merge_problems(struct eh_event *ev, const struct eh_problems *decoding,
    const struct eh_problems *extra)
{
	struct eh_problems all;

	memset(&all, 0, sizeof(all));
	if (decoding != NULL)
		eh__problems_append(&all, decoding, NULL);
	eh__problems_append(&all, &ev->problems, NULL);
	if (extra != NULL)
		eh__problems_append(&all, extra, NULL);
	ev->problems = all;
	if (has_problems(ev))
		ev->known = 0;
}

/*
 * qs without its "token=" fields (split as query_token splits it): what
 * a query that cannot be decoded is kept as, never with our secret.
 * *out is malloc'd.
 */
static enum eh_err
query_without_token(char **out, size_t *outlen, const char *qs)
{
	const char *p = qs, *sep;
	size_t n = 0, len = strlen(qs);
	char *q;

	*out = NULL;
	*outlen = 0;
	q = malloc(len + 1);
	if (q == NULL)
		return EH_ERR_NOMEM;
	while (*p != '\0') {
		sep = p + strcspn(p, "&?");
		if (!((size_t)(sep - p) >= 6 && strncmp(p, "token=", 6) == 0)) {
			/* The separator before a kept field is kept too. */
			if (n > 0 && p > qs)
				q[n++] = p[-1];
			memcpy(q + n, p, (size_t)(sep - p));
			n += (size_t)(sep - p);
		}
		p = *sep != '\0' ? sep + 1 : sep;
	}
	q[n] = '\0';
	*out = q;
	*outlen = n;
	return EH_OK;
}

/* An AlphaTrust GET: the query is the event (head only, no body). */
static enum eh_err
alphatrust_get(struct eh_decision *d, const char *qs)
{
	struct eh_form query;
	struct eh_problems pr;
	enum eh_err err;
	char *raw;
	size_t rawlen;

	memset(&pr, 0, sizeof(pr));
	err = eh_form_read(&query, qs, strlen(qs), EH_FORM_QUERY, &pr);
	if (err == EH_OK) {
		err = eh_alphatrust_read(&d->event, &query, "token");
		eh_form_free(&query);
		if (err == EH_OK)
			merge_problems(&d->event, &pr, NULL);
		return err;
	}
	if (err == EH_ERR_NOMEM)
		return err;
	err = query_without_token(&raw, &rawlen, qs);
	if (err != EH_OK)
		return err;
	err = eh_event_raw(&d->event, EH_PROVIDER_ALPHATRUST, raw, rawlen, &pr);
	free(raw);
	return err;
}

/* An AlphaTrust POST: the body is the event; the query, which should
 * hold nothing but our token, only adds its problems. */
static enum eh_err
alphatrust_post(struct eh_decision *d, const struct eh_request *req)
{
	struct eh_form form;
	struct eh_problems qpr, pr;
	const char *qs = req->query != NULL ? req->query : "";
	enum eh_err err;

	memset(&qpr, 0, sizeof(qpr));
	memset(&pr, 0, sizeof(pr));
	err = eh_form_read(&form, qs, strlen(qs), EH_FORM_QUERY, &qpr);
	eh_form_free(&form);
	if (err == EH_ERR_NOMEM)
		return err;
	err = eh_form_read(&form, req->body, req->body_len, 0, &pr);
	if (err == EH_ERR_NOMEM)
		return err;
	if (err != EH_OK) {
		eh__problems_append(&pr, &qpr, NULL);
		return eh_event_raw(&d->event, EH_PROVIDER_ALPHATRUST,
		    req->body, req->body_len, &pr);
	}
	err = eh_alphatrust_read(&d->event, &form, NULL);
	eh_form_free(&form);
	if (err == EH_OK)
		merge_problems(&d->event, &pr, &qpr);
	return err;
}

/*
 * The token endpoint's head (RFC 6749 3.2: POST only): a small body
 * (EH_OAUTH_MAX_BODY, or less with ESIGNHOOK_MAX_BODY), a form of
 * either kind.  The client authenticates in the body or in
 * Authorization, so the body is read before anyone is authenticated:
 * its bound is what keeps that cheap.
 */
static enum eh_err
token_head(struct eh_decision *d, const struct eh_request *req,
    const struct eh_config *cfg)
{
	size_t declared, max = EH_OAUTH_MAX_BODY < cfg->max_body ?
	    EH_OAUTH_MAX_BODY : cfg->max_body;
	enum eh_err err;
	int known;

	d->token_endpoint = 1;
	if (req->method == NULL || strcmp(req->method, "POST") != 0)
		return EH_ERR_METHOD;
	/* Nothing to read for when no client is configured, or when
	 * only AlphaTrust, which has no use for a token, is served. */
	if (cfg->oauth.client_id == NULL || cfg->oauth.secrets.n == 0 ||
	    cfg->provider == EH_PROVIDER_ALPHATRUST)
		return EH_ERR_OAUTH_NONE;
	err = eh_content_length(req->content_length, max, &declared, &known);
	if (err != EH_OK)
		return err;
	if (!eh__media_type_is(req->content_type,
	    "application/x-www-form-urlencoded") &&
	    !eh__media_type_is(req->content_type, "multipart/form-data"))
		return EH_ERR_OAUTH_REQUEST;
	d->read_max = max;
	d->action = EH_ACT_READ;
	return EH_OK;
}

/*
 * A refusal at the token endpoint: the RFC 6749 5.2 JSON, or the text
 * of a transport error (405 with its Allow, 413, 503 with Retry-After).
 */
static enum eh_err
token_fail(struct eh_decision *d, enum eh_err err)
{
	eh_event_free(&d->event);
	d->action = EH_ACT_REPLY;
	d->err = err;
	d->auth = NULL;
	/* Allow on a 405 and Retry-After on a 503 come with it. */
	eh_oauth_error(&d->resp, err);
	return err;
}

/*
 * A refusal anywhere else.  A 401 to a request that sent a Bearer
 * token challenges for one (RFC 6750 3.1): the sender is an OAuth
 * client, whose token did not do.
 */
static enum eh_err
fail(struct eh_decision *d, const struct eh_request *req, enum eh_err err)
{
	size_t n;

	if (d->token_endpoint)
		return token_fail(d, err);
	d->auth = NULL;
	(void)eh_decision_fail(d, err);
	if (d->resp.status == 401 && bearer_token(req->authorization, &n) !=
	    NULL)
		d->resp.www_authenticate = "Bearer error=\"invalid_token\"";
	return err;
}

/*
 * The head: everything but the body.  Checks run in the README's
 * order: the token endpoint (a path of its own), method, health check,
 * CONTENT_LENGTH and size, content type, credentials.
 */
static enum eh_err
decide_head(struct eh_decision *d, const struct eh_request *req,
    const struct eh_config *cfg)
{
	const char *method = req->method != NULL ? req->method : "";
	const char *qs = req->query != NULL ? req->query : "";
	enum eh_err err;
	size_t declared;
	int get, known;

	/* Before anything reads the path for a URL token: "token" is
	 * this path's last segment, and never a credential. */
	if (token_path(req))
		return token_head(d, req, cfg);
	if (strcmp(method, "GET") == 0)
		get = 1;
	else if (strcmp(method, "POST") == 0)
		get = 0;
	else
		return EH_ERR_METHOD;

	if (get && *qs == '\0') {
		d->action = EH_ACT_HEALTH;
		d->resp.status = 200;
		d->resp.content_type = "text/plain; charset=utf-8";
		set_body(&d->resp, "OK", "\n");
		return EH_OK;
	}
	if (get) {
		d->provider = EH_PROVIDER_ALPHATRUST;
		if (cfg->provider == EH_PROVIDER_ONESPAN)
			return EH_ERR_PROVIDER;
		err = authenticate(&cfg->alphatrust, req, 0, &d->auth);
		if (err != EH_OK)
			return err;
		err = alphatrust_get(d, qs);
		if (err != EH_OK)
			return err;
		return accept_event(d, cfg);
	}

	/* RFC 3875 4.1.2; a declared length over the limit is refused
	 * before a byte is read. */
	err = eh_content_length(req->content_length, cfg->max_body,
	    &declared, &known);
	if (err != EH_OK)
		return err;
	if (eh__media_type_is(req->content_type,
	    "application/x-www-form-urlencoded")) {
		err = route_form(d, req, cfg);
		if (err != EH_OK)
			return err;
	} else if (eh__media_type_is(req->content_type, "application/json")) {
		d->provider = EH_PROVIDER_ONESPAN;
		if (cfg->provider == EH_PROVIDER_ALPHATRUST)
			return EH_ERR_MEDIA_TYPE;
		err = onespan_auth(d, req, cfg);
		if (err != EH_OK)
			return err;
	} else
		return EH_ERR_MEDIA_TYPE;
	d->action = EH_ACT_READ;
	return EH_OK;
}

/*
 * A token request's body: eh_oauth_token answers it whole (a token, or
 * the RFC 6749 5.2 error); nothing is stored, ever.
 */
static enum eh_err
token_body(struct eh_decision *d, const struct eh_request *req,
    const struct eh_config *cfg)
{
	enum eh_err err;

	err = eh_oauth_token(&d->resp, req, &cfg->oauth);
	d->action = EH_ACT_REPLY;
	d->err = err;
	d->auth = err == EH_OK ? "client" : NULL;
	return err;
}

/* The body of an authenticated POST: stored, whatever it holds. */
static enum eh_err
decide_body(struct eh_decision *d, const struct eh_request *req,
    const struct eh_config *cfg)
{
	enum eh_err err;

	err = body_error(req, cfg);
	if (err != EH_OK)
		return err;
	if (d->token_endpoint)
		return token_body(d, req, cfg);
	if (d->provider == EH_PROVIDER_ONESPAN)
		err = eh_onespan_read(&d->event, req->body, req->body_len);
	else
		err = alphatrust_post(d, req);
	if (err != EH_OK)
		return err;
	return accept_event(d, cfg);
}

enum eh_err
eh_handle_head(struct eh_decision *d, const struct eh_request *req,
    const struct eh_config *cfg)
{
	enum eh_err err;

	memset(d, 0, sizeof(*d));
	err = decide_head(d, req, cfg);
	if (err != EH_OK)
		return fail(d, req, err);
	return EH_OK;
}

enum eh_err
eh_handle_body(struct eh_decision *d, const struct eh_request *req,
    const struct eh_config *cfg)
{
	enum eh_err err;

	if (d->action != EH_ACT_READ)
		return d->err;
	err = decide_body(d, req, cfg);
	/* eh_oauth_token's reply is whole, its refusals included. */
	if (err != EH_OK && d->action == EH_ACT_READ)
		return fail(d, req, err);
	return err;
}

enum eh_err
eh_handle(struct eh_decision *d, const struct eh_request *req,
    const struct eh_config *cfg)
{
	enum eh_err err;

	err = eh_handle_head(d, req, cfg);
	if (err == EH_OK && d->action == EH_ACT_READ)
		err = eh_handle_body(d, req, cfg);
	return err;
}
