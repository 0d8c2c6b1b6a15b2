/*
 * lib/handler.c: every row of the request table, as data.  The handler
 * is pure, so these need no server, no spool and no clock.
 */
#include <stdlib.h>

#include <jansson.h>
#include <sodium.h>

#include "../lib/esignhook.h"
#include "t.h"

#define KEY "onespan-key-1"
#define TOK "at-token-0123456789"
#define PKG "{\"name\":\"PACKAGE_COMPLETE\",\"packageId\":\"p1\"}"
#define FORM "TransID=1234567890&TXStatus=4&EventType=transaction&ps_securitytoken=g"

static void
config(struct eh_config *c, int with_secrets)
{
	const char *text = with_secrets ?
	    "ESIGNHOOK_SPOOL=/nonexistent/spool\n"
	    "ESIGNHOOK_ONESPAN_KEYS=other-key," KEY "\n"
	    "ESIGNHOOK_ALPHATRUST_TOKENS=" TOK "\n"
	    "ESIGNHOOK_RESPONSE_TEXT=RECEIVED\n"
	    "ESIGNHOOK_MAX_BODY=1000\n" :
	    "ESIGNHOOK_SPOOL=/nonexistent/spool\n";
	struct eh_conffile cf;
	size_t line;

	eh_config_init(c);
	T_EQ_INT(eh_conffile_parse(&cf, text, strlen(text), &line), EH_OK);
	T_EQ_INT(eh_config_apply(c, eh_conffile_lookup, &cf, NULL), EH_OK);
	eh_conffile_free(&cf);
}

/* A POST of body with the given type, URI and Authorization (or NULL). */
static void
post(struct eh_request *req, const char *uri, const char *ctype,
    const char *auth, const char *body)
{
	memset(req, 0, sizeof(*req));
	req->method = "POST";
	req->request_uri = uri;
	req->content_type = ctype;
	req->authorization = auth;
	req->body = body;
	req->body_len = strlen(body);
}

/* With want NULL: whether ev has no problem; else whether one holds
 * want. */
static int
has_problem(const struct eh_event *ev, const char *want)
{
	size_t i;

	if (want == NULL)
		return ev->problems.n == 0 && ev->problems.dropped == 0;
	for (i = 0; i < ev->problems.n; i++)
		if (strstr(ev->problems.line[i], want) != NULL)
			return 1;
	fprintf(stderr, "  no problem like \"%s\" (first: \"%s\")\n", want,
	    ev->problems.n > 0 ? ev->problems.line[0] : "");
	return 0;
}

struct row {
	const char *what;
	const char *method, *uri, *query, *ctype, *clen, *auth, *body;
	enum eh_body_state state;
	int status;
	enum eh_action action;
	enum eh_err err;
	const char *problem;  /* stored: a substring of a problem; NULL none */
};

static const struct row rows[] = {
	/* OneSpan */
	{ "onespan accepted", "POST", "/hook", "", "application/json", NULL,
	  "Basic " KEY, PKG, EH_BODY_OK, 200, EH_ACT_STORE, EH_OK, NULL },
	{ "second configured key", "POST", "/hook", "", "application/json",
	  NULL, "Basic other-key", PKG, EH_BODY_OK, 200, EH_ACT_STORE, EH_OK, NULL },
	{ "scheme case-insensitive", "POST", "/hook", "", "application/json",
	  NULL, "bAsIc   " KEY, PKG, EH_BODY_OK, 200, EH_ACT_STORE, EH_OK, NULL },
	{ "charset parameter", "POST", "/hook", "",
	  "Application/JSON; charset=UTF-8", NULL, "Basic " KEY, PKG,
	  EH_BODY_OK, 200, EH_ACT_STORE, EH_OK, NULL },
	{ "onespan key as URL path token", "POST", "/esignhook/" KEY, "",
	  "application/json", NULL, NULL, PKG, EH_BODY_OK, 200, EH_ACT_STORE,
	  EH_OK, NULL },
	{ "onespan key as ?token=", "POST", "/h?token=" KEY, "token=" KEY,
	  "application/json", NULL, NULL, PKG, EH_BODY_OK, 200, EH_ACT_STORE,
	  EH_OK, NULL },
	{ "wrong key", "POST", "/hook", "", "application/json", NULL,
	  "Basic nope", PKG, EH_BODY_OK, 401, EH_ACT_REPLY, EH_ERR_AUTH_WRONG, NULL },
	{ "key differing in case", "POST", "/hook", "", "application/json",
	  NULL, "Basic ONESPAN-KEY-1", PKG, EH_BODY_OK, 401, EH_ACT_REPLY,
	  EH_ERR_AUTH_WRONG, NULL },
	{ "key prefix", "POST", "/hook", "", "application/json", NULL,
	  "Basic onespan-key-", PKG, EH_BODY_OK, 401, EH_ACT_REPLY,
	  EH_ERR_AUTH_WRONG, NULL },
	{ "key with suffix", "POST", "/hook", "", "application/json", NULL,
	  "Basic " KEY "1", PKG, EH_BODY_OK, 401, EH_ACT_REPLY,
	  EH_ERR_AUTH_WRONG, NULL },
	{ "no Authorization", "POST", "/", "", "application/json", NULL,
	  NULL, PKG, EH_BODY_OK, 401, EH_ACT_REPLY, EH_ERR_AUTH_MISSING, NULL },
	{ "no Authorization, a path", "POST", "/esignhook/onespan", "",
	  "application/json", NULL, NULL, PKG, EH_BODY_OK, 401, EH_ACT_REPLY,
	  EH_ERR_AUTH_MISSING, NULL },
	{ "wrong ?token= is a credential sent", "POST", "/h?token=x", "token=x",
	  "application/json", NULL, NULL, PKG, EH_BODY_OK, 401, EH_ACT_REPLY,
	  EH_ERR_AUTH_WRONG, NULL },
	/* A Bearer token needs an OAuth client (none here): fail closed. */
	{ "Bearer scheme", "POST", "/", "", "application/json", NULL,
	  "Bearer " KEY, PKG, EH_BODY_OK, 401, EH_ACT_REPLY,
	  EH_ERR_OAUTH_NONE, NULL },
	{ "empty Basic", "POST", "/", "", "application/json", NULL,
	  "Basic ", PKG, EH_BODY_OK, 401, EH_ACT_REPLY, EH_ERR_AUTH_MISSING, NULL },
	{ "alphatrust token does not admit onespan", "POST", "/h/" TOK, "",
	  "application/json", NULL, "Basic " TOK, PKG, EH_BODY_OK, 401,
	  EH_ACT_REPLY, EH_ERR_AUTH_WRONG, NULL },
	{ "wrong secret checked before the body", "POST", "/hook", "",
	  "application/json", NULL, "Basic nope", "{", EH_BODY_OK, 401,
	  EH_ACT_REPLY, EH_ERR_AUTH_WRONG, NULL },
	/* Authenticated: what does not fit is stored with its problems. */
	{ "malformed JSON: stored raw", "POST", "/hook", "",
	  "application/json", NULL, "Basic " KEY, "{\"name\":", EH_BODY_OK,
	  200, EH_ACT_STORE, EH_OK, "malformed JSON at byte 8" },
	{ "JSON array: stored raw", "POST", "/hook", "", "application/json",
	  NULL, "Basic " KEY, "[1]", EH_BODY_OK, 200, EH_ACT_STORE, EH_OK,
	  "the JSON body is an array, not an object" },
	{ "missing packageId: stored", "POST", "/hook", "", "application/json",
	  NULL, "Basic " KEY, "{\"name\":\"X\"}", EH_BODY_OK, 200,
	  EH_ACT_STORE, EH_OK, "packageId is missing" },
	{ "mistyped field: stored", "POST", "/hook", "", "application/json",
	  NULL, "Basic " KEY, "{\"name\":\"X\",\"packageId\":1}", EH_BODY_OK,
	  200, EH_ACT_STORE, EH_OK, "packageId is a number, not a string" },
	/* Senders' quirks, the bytes real client stacks send. */
	{ "JSON after a byte order mark (.NET StreamWriter)", "POST", "/hook",
	  "", "application/json; charset=utf-8", NULL, "Basic " KEY,
	  "\xef\xbb\xbf" PKG, EH_BODY_OK, 200, EH_ACT_STORE, EH_OK, NULL },
	{ "a OneSpan key with Java's default form type", "POST",
	  "/esignhook/onespan", "", "application/x-www-form-urlencoded", NULL,
	  "Basic " KEY, PKG, EH_BODY_OK, 200, EH_ACT_STORE, EH_OK, NULL },
	{ "a wrong key with a form type stays AlphaTrust's", "POST",
	  "/esignhook/onespan", "", "application/x-www-form-urlencoded", NULL,
	  "Basic nope", PKG, EH_BODY_OK, 401, EH_ACT_REPLY, EH_ERR_AUTH_WRONG, NULL },
	{ "a form ending in CR LF", "POST", "/a/" TOK, "",
	  "application/x-www-form-urlencoded", NULL, NULL,
	  "TransID=1234567890&EventType=transaction\r\n", EH_BODY_OK, 200,
	  EH_ACT_STORE, EH_OK, NULL },
	{ "a form after a byte order mark", "POST", "/a/" TOK, "",
	  "application/x-www-form-urlencoded", NULL, NULL, "\xef\xbb\xbf" FORM,
	  EH_BODY_OK, 200, EH_ACT_STORE, EH_OK, NULL },
	{ "empty pairs skipped", "POST", "/a/" TOK, "",
	  "application/x-www-form-urlencoded", NULL, NULL,
	  "&TransID=1&&EventType=transaction&", EH_BODY_OK, 200, EH_ACT_STORE,
	  EH_OK, NULL },
	{ "a second ? after ?token=", "GET",
	  "/a?token=" TOK "?EventType=transaction&TransID=1",
	  "token=" TOK "?EventType=transaction&TransID=1", NULL, NULL, NULL,
	  NULL, EH_BODY_OK, 200, EH_ACT_STORE, EH_OK, NULL },
	{ "a second ? before &token=", "GET",
	  "/a?EventType=transaction?TransID=1&token=" TOK,
	  "EventType=transaction?TransID=1&token=" TOK, NULL, NULL, NULL, NULL,
	  EH_BODY_OK, 200, EH_ACT_STORE, EH_OK, NULL },
	{ "a wrong token before a second ?", "GET", "/a?token=x?token=" TOK,
	  "token=x?token=" TOK, NULL, NULL, NULL, NULL, EH_BODY_OK, 401,
	  EH_ACT_REPLY, EH_ERR_AUTH_WRONG, NULL },
	/* AlphaTrust */
	{ "alphatrust POST, path token", "POST", "/esignhook/alphatrust/" TOK,
	  "", "application/x-www-form-urlencoded", NULL, NULL, FORM,
	  EH_BODY_OK, 200, EH_ACT_STORE, EH_OK, NULL },
	{ "alphatrust POST, ?token=", "POST", "/a?token=" TOK, "token=" TOK,
	  "application/x-www-form-urlencoded; charset=utf-8", NULL, NULL,
	  FORM, EH_BODY_OK, 200, EH_ACT_STORE, EH_OK, NULL },
	{ "alphatrust GET", "GET", "/a?" FORM "&token=" TOK, FORM "&token="
	  TOK, NULL, NULL, NULL, NULL, EH_BODY_OK, 200, EH_ACT_STORE, EH_OK, NULL },
	{ "alphatrust GET, path token", "GET", "/a/" TOK "?" FORM, FORM, NULL,
	  NULL, NULL, NULL, EH_BODY_OK, 200, EH_ACT_STORE, EH_OK, NULL },
	{ "alphatrust no token", "POST", "/", "",
	  "application/x-www-form-urlencoded", NULL, NULL, FORM, EH_BODY_OK,
	  401, EH_ACT_REPLY, EH_ERR_AUTH_MISSING, NULL },
	{ "alphatrust wrong token", "POST", "/a/wrong", "",
	  "application/x-www-form-urlencoded", NULL, NULL, FORM, EH_BODY_OK,
	  401, EH_ACT_REPLY, EH_ERR_AUTH_WRONG, NULL },
	{ "ps_securitytoken is no credential", "POST", "/", "",
	  "application/x-www-form-urlencoded", NULL, NULL,
	  "TransID=1&EventType=transaction&ps_securitytoken=" TOK, EH_BODY_OK,
	  401, EH_ACT_REPLY, EH_ERR_AUTH_MISSING, NULL },
	{ "onespan key in the path does not admit alphatrust", "POST",
	  "/a/" KEY, "", "application/x-www-form-urlencoded", NULL, NULL, FORM,
	  EH_BODY_OK, 401, EH_ACT_REPLY, EH_ERR_AUTH_WRONG, NULL },
	{ "onespan key as ?token= does not admit alphatrust", "GET", "/a",
	  FORM "&token=" KEY, NULL, NULL, "Basic " KEY, NULL, EH_BODY_OK, 401,
	  EH_ACT_REPLY, EH_ERR_AUTH_WRONG, NULL },
	/* A valid OneSpan key in Authorization: OneSpan's (a form body is
	 * then no JSON, stored raw). */
	{ "onespan key in Authorization: OneSpan's", "POST", "/a/" KEY, "",
	  "application/x-www-form-urlencoded", NULL, "Basic " KEY, FORM,
	  EH_BODY_OK, 200, EH_ACT_STORE, EH_OK, "malformed JSON" },
	{ "alphatrust token as Basic does not admit a form", "POST", "/a", "",
	  "application/x-www-form-urlencoded", NULL, "Basic " TOK, FORM,
	  EH_BODY_OK, 401, EH_ACT_REPLY, EH_ERR_AUTH_WRONG, NULL },
	{ "token in the body is not a URL token", "POST", "/", "",
	  "application/x-www-form-urlencoded", NULL, NULL,
	  FORM "&token=" TOK, EH_BODY_OK, 401, EH_ACT_REPLY,
	  EH_ERR_AUTH_MISSING, NULL },
	{ "bad escape: stored raw", "POST", "/a/" TOK, "",
	  "application/x-www-form-urlencoded", NULL, NULL, FORM "&x=%zz",
	  EH_BODY_OK, 200, EH_ACT_STORE, EH_OK, "form field 5: bad %-escape" },
	{ "%00: stored raw", "POST", "/a/" TOK, "",
	  "application/x-www-form-urlencoded", NULL, NULL, FORM "&x=%00",
	  EH_BODY_OK, 200, EH_ACT_STORE, EH_OK, "form field 5: a NUL byte" },
	{ "invalid UTF-8: stored raw", "POST", "/a/" TOK, "",
	  "application/x-www-form-urlencoded", NULL, NULL, FORM "&x=%c3",
	  EH_BODY_OK, 200, EH_ACT_STORE, EH_OK,
	  "form field 5: invalid UTF-8" },
	{ "field twice: first kept", "POST", "/a/" TOK, "",
	  "application/x-www-form-urlencoded", NULL, NULL, FORM "&TransID=2",
	  EH_BODY_OK, 200, EH_ACT_STORE, EH_OK,
	  "form field TransID given twice: the first value kept" },
	{ "missing EventType: stored", "GET", "/a/" TOK, "TransID=1", NULL,
	  NULL, NULL, NULL, EH_BODY_OK, 200, EH_ACT_STORE, EH_OK,
	  "EventType is missing" },
	{ "TransID not digits: stored", "GET", "/a/" TOK,
	  "TransID=12a&EventType=transaction", NULL, NULL, NULL, NULL,
	  EH_BODY_OK, 200, EH_ACT_STORE, EH_OK, "TransID is not 1 to 20 digits" },
	{ "query not decodable: stored raw", "GET", "/a/" TOK,
	  "TransID=1&EventType=transaction&x=%zz", NULL, NULL, NULL, NULL,
	  EH_BODY_OK, 200, EH_ACT_STORE, EH_OK, "query field 3: bad %-escape" },
	{ "unnamed field: skipped", "GET", "/a/" TOK,
	  "TransID=1&EventType=transaction&=x", NULL, NULL, NULL, NULL,
	  EH_BODY_OK, 200, EH_ACT_STORE, EH_OK,
	  "query field 3 has no name: skipped" },
	/* Methods, health, media types, bodies */
	{ "health", "GET", "/esignhook/alphatrust/" TOK, "", NULL, NULL, NULL,
	  NULL, EH_BODY_OK, 200, EH_ACT_HEALTH, EH_OK, NULL },
	{ "health, no query at all", "GET", "/", NULL, NULL, NULL, NULL, NULL,
	  EH_BODY_OK, 200, EH_ACT_HEALTH, EH_OK, NULL },
	{ "PUT", "PUT", "/", "", "application/json", NULL, "Basic " KEY, PKG,
	  EH_BODY_OK, 405, EH_ACT_REPLY, EH_ERR_METHOD, NULL },
	{ "HEAD", "HEAD", "/", "", NULL, NULL, NULL, NULL, EH_BODY_OK, 405,
	  EH_ACT_REPLY, EH_ERR_METHOD, NULL },
	{ "lower-case post", "post", "/", "", "application/json", NULL,
	  "Basic " KEY, PKG, EH_BODY_OK, 405, EH_ACT_REPLY, EH_ERR_METHOD, NULL },
	{ "no method", NULL, "/", "", NULL, NULL, NULL, NULL, EH_BODY_OK, 405,
	  EH_ACT_REPLY, EH_ERR_METHOD, NULL },
	{ "text/plain", "POST", "/", "", "text/plain", NULL, "Basic " KEY,
	  PKG, EH_BODY_OK, 415, EH_ACT_REPLY, EH_ERR_MEDIA_TYPE, NULL },
	{ "no content type", "POST", "/", "", NULL, NULL, "Basic " KEY, PKG,
	  EH_BODY_OK, 415, EH_ACT_REPLY, EH_ERR_MEDIA_TYPE, NULL },
	{ "application/jsonx", "POST", "/", "", "application/jsonx", NULL,
	  "Basic " KEY, PKG, EH_BODY_OK, 415, EH_ACT_REPLY,
	  EH_ERR_MEDIA_TYPE, NULL },
	{ "declared length over the limit", "POST", "/", "",
	  "application/json", "1001", "Basic " KEY, NULL, EH_BODY_UNREAD, 413,
	  EH_ACT_REPLY, EH_ERR_TOO_LARGE, NULL },
	{ "413 before 415", "POST", "/", "", "text/plain", "5000", NULL, NULL,
	  EH_BODY_UNREAD, 413, EH_ACT_REPLY, EH_ERR_TOO_LARGE, NULL },
	{ "undeclared body over the limit", "POST", "/", "",
	  "application/json", NULL, "Basic " KEY, "", EH_BODY_OVER, 413,
	  EH_ACT_REPLY, EH_ERR_TOO_LARGE, NULL },
	{ "CONTENT_LENGTH not decimal", "POST", "/", "", "application/json",
	  "+5", "Basic " KEY, NULL, EH_BODY_UNREAD, 400, EH_ACT_REPLY,
	  EH_ERR_CLEN, NULL },
	{ "CONTENT_LENGTH overflows", "POST", "/", "", "application/json",
	  "184467440737095516160", "Basic " KEY, NULL, EH_BODY_UNREAD, 400,
	  EH_ACT_REPLY, EH_ERR_CLEN, NULL },
	{ "short body", "POST", "/", "", "application/json", "50",
	  "Basic " KEY, "{}", EH_BODY_SHORT, 400, EH_ACT_REPLY,
	  EH_ERR_SHORT_BODY, NULL },
	{ "read error: temporary", "POST", "/", "", "application/json", NULL,
	  "Basic " KEY, "", EH_BODY_IOERR, 503, EH_ACT_REPLY, EH_ERR_READ, NULL },
	/* Nothing parses a query before its sender is authenticated. */
	{ "unauthenticated bad query: 401", "GET", "/a/wrong", "a=%zz", NULL,
	  NULL, NULL, NULL, EH_BODY_OK, 401, EH_ACT_REPLY, EH_ERR_AUTH_WRONG, NULL },
	{ "unauthenticated dup query: 401", "GET", "/a", "a=1&a=2", NULL,
	  NULL, NULL, NULL, EH_BODY_OK, 401, EH_ACT_REPLY,
	  EH_ERR_AUTH_WRONG, NULL },
	{ "onespan ignores a bad query once authenticated", "POST", "/h",
	  "a=%zz", "application/json", NULL, "Basic " KEY, PKG, EH_BODY_OK,
	  200, EH_ACT_STORE, EH_OK, NULL },
	{ "token twice: authenticated, then a problem", "GET", "/a",
	  FORM "&token=" TOK "&token=" TOK, NULL, NULL, NULL, NULL,
	  EH_BODY_OK, 200, EH_ACT_STORE, EH_OK,
	  "query field token given twice: the first value kept" },
	{ "?token= not first", "GET", "/a", FORM "&token=" TOK, NULL, NULL,
	  NULL, NULL, EH_BODY_OK, 200, EH_ACT_STORE, EH_OK, NULL },
	{ "xtoken= is not token=", "GET", "/a", FORM "&xtoken=" TOK, NULL,
	  NULL, NULL, NULL, EH_BODY_OK, 401, EH_ACT_REPLY, EH_ERR_AUTH_WRONG, NULL },
};

static void
run_rows(void)
{
	struct eh_config cfg;
	struct eh_request req;
	struct eh_decision d;
	size_t i;
	int bad;

	config(&cfg, 1);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];

		memset(&req, 0, sizeof(req));
		req.method = r->method;
		req.request_uri = r->uri;
		req.query = r->query;
		req.content_type = r->ctype;
		req.content_length = r->clen;
		req.authorization = r->auth;
		req.body = r->body;
		req.body_len = r->body ? strlen(r->body) : 0;
		req.body_state = r->state;
		eh_handle(&d, &req, &cfg);
		bad = t_failed;
		T_EQ_INT(d.resp.status, r->status);
		T_EQ_INT(d.action, r->action);
		T_EQ_INT(d.err, r->err);
		T_CHECK(d.resp.content_type != NULL);
		T_CHECK(d.resp.body_len > 0 &&
		    d.resp.body_len == strlen(d.resp.body));
		if (r->status >= 400) {
			/* One line of reason, text/plain, nothing to store. */
			T_CHECK(strncmp(d.resp.content_type, "text/plain", 10) == 0);
			T_CHECK(strchr(d.resp.body, '\n') ==
			    d.resp.body + d.resp.body_len - 1);
			T_CHECK(d.event.name == NULL && d.event.data == NULL &&
			    d.event.raw == NULL);
		}
		if (r->action == EH_ACT_STORE) {
			/* Data or raw; problems exactly when expected. */
			T_CHECK((d.event.data != NULL) != (d.event.raw != NULL));
			T_CHECK(strlen(d.event.dedupe_key) == 64);
			T_CHECK(has_problem(&d.event, r->problem));
			if (r->problem != NULL)
				T_EQ_INT(d.event.known, 0);
		}
		T_CHECK(strstr(d.resp.body, KEY) == NULL);
		T_CHECK(strstr(d.resp.body, TOK) == NULL);
		if (r->status == 405)
			T_EQ_STR(d.resp.allow, "GET, POST");
		if (r->status == 401 && r->auth != NULL &&
		    strncmp(r->auth, "Bearer", 6) == 0)
			T_EQ_STR(d.resp.www_authenticate,
			    "Bearer error=\"invalid_token\"");
		else if (r->status == 401)
			T_EQ_STR(d.resp.www_authenticate,
			    "Basic realm=\"esignhook\"");
		else
			T_CHECK(d.resp.www_authenticate == NULL);
		if (t_failed != bad)
			fprintf(stderr, "  row: %s\n", r->what);
		eh_decision_free(&d);
		eh_decision_free(&d);
	}
	eh_config_free(&cfg);
}

static void
replies(void)
{
	struct eh_config cfg;
	struct eh_request req;
	struct eh_decision d;

	config(&cfg, 1);
	post(&req, "/x", "application/json", "Basic " KEY, PKG);
	T_EQ_INT(eh_handle(&d, &req, &cfg), EH_OK);
	T_EQ_STR(d.resp.body, "{\"success\":true}");
	T_EQ_STR(d.resp.content_type, "application/json");
	T_EQ_INT(d.provider, EH_PROVIDER_ONESPAN);
	T_EQ_STR(d.event.name, "PACKAGE_COMPLETE");
	eh_decision_free(&d);

	/* The OneSpan header stays: it must not matter to AlphaTrust. */
	post(&req, "/a/" TOK, "application/x-www-form-urlencoded",
	    "Basic " KEY, FORM);
	T_EQ_INT(eh_handle(&d, &req, &cfg), EH_OK);
	/* AlphaTrust's required-response-text: exactly, as text/plain. */
	T_EQ_STR(d.resp.body, "RECEIVED");
	T_EQ_STR(d.resp.content_type, "text/plain");
	T_EQ_STR(d.event.name, "transaction");
	T_CHECK(strstr(d.event.data, TOK) == NULL);
	eh_decision_free(&d);
	eh_config_free(&cfg);

	config(&cfg, 1);
	free(cfg.response_text);
	cfg.response_text = NULL;
	T_EQ_INT(eh_handle(&d, &req, &cfg), EH_OK);
	T_EQ_STR(d.resp.body, "OK");
	eh_decision_free(&d);
	eh_config_free(&cfg);
}

static void
fail_closed(void)
{
	struct eh_config cfg;
	struct eh_request req;
	struct eh_decision d;

	config(&cfg, 0);
	post(&req, "/a/" TOK, "application/json", "Basic " KEY, PKG);
	eh_handle(&d, &req, &cfg);
	T_EQ_INT(d.resp.status, 401);
	T_EQ_INT(d.err, EH_ERR_AUTH_NONE);
	eh_decision_free(&d);
	req.method = "GET";
	req.query = FORM;
	eh_handle(&d, &req, &cfg);
	T_EQ_INT(d.resp.status, 401);
	T_EQ_INT(d.err, EH_ERR_AUTH_NONE);
	eh_decision_free(&d);
	eh_config_free(&cfg);
}

static void
forced_provider(void)
{
	struct eh_config cfg;
	struct eh_request req;
	struct eh_decision d;

	config(&cfg, 1);
	cfg.provider = EH_PROVIDER_ONESPAN;
	post(&req, "/a/" TOK, "application/x-www-form-urlencoded", NULL, FORM);
	eh_handle(&d, &req, &cfg);
	T_EQ_INT(d.resp.status, 415);
	eh_decision_free(&d);
	req.method = "GET";
	req.query = FORM;
	eh_handle(&d, &req, &cfg);
	T_EQ_INT(d.resp.status, 400);
	T_EQ_INT(d.err, EH_ERR_PROVIDER);
	eh_decision_free(&d);
	cfg.provider = EH_PROVIDER_ALPHATRUST;
	eh_handle(&d, &req, &cfg);
	T_EQ_INT(d.resp.status, 200);
	eh_decision_free(&d);
	eh_config_free(&cfg);
}

static void
path_info_fallback(void)
{
	struct eh_config cfg;
	struct eh_request req;
	struct eh_decision d;

	config(&cfg, 1);
	post(&req, NULL, "application/x-www-form-urlencoded", NULL, FORM);
	req.path_info = "/alphatrust/" TOK;
	eh_handle(&d, &req, &cfg);
	T_EQ_INT(d.resp.status, 200);
	eh_decision_free(&d);
	/* REQUEST_URI, when there, is what counts. */
	req.request_uri = "/esignhook/alphatrust/wrong";
	eh_handle(&d, &req, &cfg);
	T_EQ_INT(d.resp.status, 401);
	eh_decision_free(&d);
	eh_config_free(&cfg);
}

static void
fail_replaces(void)
{
	struct eh_decision d;

	memset(&d, 0, sizeof(d));
	eh_decision_fail(&d, EH_ERR_SPOOL_FULL);
	T_EQ_INT(d.resp.status, 503);
	T_EQ_STR(d.resp.retry_after, "300");
	T_EQ_STR(d.resp.body, "spool disk full\n");
	eh_decision_free(&d);
}

/* Handle req and return d's value of data field name (a copy). */
static char *
field(const struct eh_request *req, const struct eh_config *cfg,
    const char *name, struct eh_decision *d)
{
	json_t *data;
	const char *v;
	char *out = NULL;

	eh_handle(d, req, cfg);
	if (d->event.data == NULL)
		return NULL;
	data = json_loads(d->event.data, 0, NULL);
	v = json_string_value(json_object_get(data, name));
	if (v != NULL)
		out = strdup(v);
	json_decref(data);
	return out;
}

/*
 * What real client stacks send, byte for byte: each reaches data as
 * the sender meant it.
 */
static void
senders_quirks(void)
{
	struct eh_config cfg;
	struct eh_request req;
	struct eh_decision d;
	char *v;

	config(&cfg, 1);
	/* A form body ending in CR LF: not part of ps_securitytoken. */
	post(&req, "/a/" TOK, "application/x-www-form-urlencoded", NULL,
	    "TransID=1234567890&TXStatus=4&EventType=transaction&"
	    "ps_securitytoken=abc\r\n");
	v = field(&req, &cfg, "ps_securitytoken", &d);
	T_EQ_STR(v, "abc");
	T_CHECK(has_problem(&d.event, NULL));
	free(v);
	eh_decision_free(&d);
	/* ... nor of a TransID that ends the form. */
	post(&req, "/a/" TOK, "application/x-www-form-urlencoded", NULL,
	    "EventType=transaction&TransID=1234567890\r\n");
	v = field(&req, &cfg, "TransID", &d);
	T_EQ_STR(v, "1234567890");
	T_EQ_STR(d.event.transaction_id, "1234567890");
	T_EQ_INT(d.event.known, 1);
	free(v);
	eh_decision_free(&d);
	/* A byte order mark: not in data, not in a name. */
	post(&req, "/hook", "application/json", "Basic " KEY,
	    "\xef\xbb\xbf" PKG);
	eh_handle(&d, &req, &cfg);
	T_EQ_STR(d.event.data, PKG);
	T_EQ_INT(d.event.known, 1);
	eh_decision_free(&d);
	post(&req, "/a/" TOK, "application/x-www-form-urlencoded", NULL,
	    "\xef\xbb\xbf" "TransID=1&EventType=transaction");
	v = field(&req, &cfg, "TransID", &d);
	T_EQ_STR(v, "1");
	free(v);
	eh_decision_free(&d);
	/* Java's HttpURLConnection: form type, OneSpan key, JSON body. */
	post(&req, "/esignhook/onespan", "application/x-www-form-urlencoded",
	    "Basic " KEY, PKG);
	eh_handle(&d, &req, &cfg);
	T_EQ_INT(d.provider, EH_PROVIDER_ONESPAN);
	T_EQ_STR(d.resp.body, "{\"success\":true}");
	T_EQ_STR(d.event.name, "PACKAGE_COMPLETE");
	T_CHECK(has_problem(&d.event, NULL));
	eh_decision_free(&d);
	/* ... unless told the receiver serves AlphaTrust only. */
	cfg.provider = EH_PROVIDER_ALPHATRUST;
	eh_handle(&d, &req, &cfg);
	T_EQ_INT(d.resp.status, 401);
	eh_decision_free(&d);
	cfg.provider = EH_PROVIDER_ONESPAN;
	eh_handle(&d, &req, &cfg);
	T_EQ_INT(d.resp.status, 200);
	T_EQ_INT(d.provider, EH_PROVIDER_ONESPAN);
	eh_decision_free(&d);
	req.authorization = "Basic nope";
	eh_handle(&d, &req, &cfg);
	T_EQ_INT(d.resp.status, 415);
	eh_decision_free(&d);
	cfg.provider = EH_PROVIDER_AUTO;
	/* A second '?': "&", and the token is not in data. */
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.request_uri = "/a?token=" TOK "?EventType=transaction&TransID=1";
	req.query = "token=" TOK "?EventType=transaction&TransID=1";
	v = field(&req, &cfg, "EventType", &d);
	T_EQ_STR(v, "transaction");
	T_EQ_STR(d.event.transaction_id, "1");
	T_CHECK(strstr(d.event.data, TOK) == NULL);
	free(v);
	eh_decision_free(&d);
	/* Empty pairs. */
	req.query = "&&TransID=1&&EventType=transaction&token=" TOK "&";
	v = field(&req, &cfg, "TransID", &d);
	T_EQ_STR(v, "1");
	T_CHECK(has_problem(&d.event, NULL));
	free(v);
	eh_decision_free(&d);
	eh_config_free(&cfg);
}

/*
 * The head decides alone; only EH_ACT_READ leads to the body, and the
 * body step then decides as eh_handle does.
 */
static void
two_steps(void)
{
	struct eh_config cfg;
	struct eh_request req;
	struct eh_decision d;

	config(&cfg, 1);
	post(&req, "/hook", "application/json", "Basic " KEY, PKG);
	req.body = NULL;
	req.body_len = 0;
	req.body_state = EH_BODY_UNREAD;
	T_EQ_INT(eh_handle_head(&d, &req, &cfg), EH_OK);
	T_EQ_INT(d.action, EH_ACT_READ);
	T_EQ_INT(d.provider, EH_PROVIDER_ONESPAN);
	req.body = PKG;
	req.body_len = strlen(PKG);
	req.body_state = EH_BODY_OK;
	T_EQ_INT(eh_handle_body(&d, &req, &cfg), EH_OK);
	T_EQ_INT(d.action, EH_ACT_STORE);
	T_EQ_STR(d.event.name, "PACKAGE_COMPLETE");
	eh_decision_free(&d);
	/* Refused from the head: the body step changes nothing. */
	req.authorization = "Basic nope";
	T_EQ_INT(eh_handle_head(&d, &req, &cfg), EH_ERR_AUTH_WRONG);
	T_EQ_INT(d.action, EH_ACT_REPLY);
	T_EQ_INT(eh_handle_body(&d, &req, &cfg), EH_ERR_AUTH_WRONG);
	T_EQ_INT(d.resp.status, 401);
	T_CHECK(d.event.data == NULL);
	eh_decision_free(&d);
	/* Authenticated, then the body is cut: 400, nothing stored. */
	req.authorization = "Basic " KEY;
	req.content_length = "500";
	T_EQ_INT(eh_handle_head(&d, &req, &cfg), EH_OK);
	req.body_state = EH_BODY_SHORT;
	T_EQ_INT(eh_handle_body(&d, &req, &cfg), EH_ERR_SHORT_BODY);
	T_EQ_INT(d.resp.status, 400);
	eh_decision_free(&d);
	/* A GET is whole in its head. */
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.request_uri = "/a/" TOK;
	req.query = FORM;
	T_EQ_INT(eh_handle_head(&d, &req, &cfg), EH_OK);
	T_EQ_INT(d.action, EH_ACT_STORE);
	eh_decision_free(&d);
	eh_config_free(&cfg);
}

/* A query that cannot be decoded is kept without its token. */
static void
raw_query_without_token(void)
{
	struct eh_config cfg;
	struct eh_request req;
	struct eh_decision d;

	config(&cfg, 1);
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.request_uri = "/a";
	req.query = "TransID=1&token=" TOK "?x=%zz&token=two&EventType=t";
	eh_handle(&d, &req, &cfg);
	T_EQ_INT(d.resp.status, 200);
	T_CHECK(d.event.data == NULL);
	T_EQ_STR(d.event.raw, "TransID=1?x=%zz&EventType=t");
	T_CHECK(has_problem(&d.event, "query field 3: bad %-escape"));
	eh_decision_free(&d);
	req.query = "token=" TOK "&x=%zz";
	eh_handle(&d, &req, &cfg);
	T_EQ_STR(d.event.raw, "x=%zz");
	eh_decision_free(&d);
	eh_config_free(&cfg);
}


/* ---- OAuth 2.0: the token endpoint and Bearer tokens ---- */

#define CID "onespan-client"
#define SEC_A "secret-A-0123456789abcdef"
#define SEC_B "secret-B-fedcba9876543210"
#define NOW 1800000000LL
#define TOKEN_URI "/esignhook/oauth/token"
#define GRANT "grant_type=client_credentials"
#define FORM_CT "application/x-www-form-urlencoded"

/*
 * cfg->oauth built by hand, as config.c builds it: each secret's
 * SHA-256 digest and its eh_oauth_derive key, in order.
 */
static void
oauth_set(struct eh_config *c, const char *const *secrets, size_t n)
{
	size_t i;

	free(c->oauth.client_id);
	free(c->oauth.secrets.digest);
	free(c->oauth.mac_key);
	c->oauth.client_id = n > 0 ? strdup(CID) : NULL;
	c->oauth.secrets.n = n;
	c->oauth.secrets.digest = n > 0 ? calloc(n, 32) : NULL;
	c->oauth.mac_key = n > 0 ? calloc(n, 32) : NULL;
	for (i = 0; i < n; i++) {
		crypto_hash_sha256(c->oauth.secrets.digest[i],
		    (const unsigned char *)secrets[i], strlen(secrets[i]));
		eh_oauth_derive(c->oauth.mac_key[i], secrets[i],
		    strlen(secrets[i]));
	}
	c->oauth.ttl_s = EH_OAUTH_DEFAULT_TTL;
}

/* A token as our endpoint mints it: under secret, expiring at exp. */
static void
mint(char out[EH_OAUTH_TOKEN_MAX], const char *secret, int64_t exp)
{
	unsigned char key[32], nonce[EH_OAUTH_NONCE_LEN];

	eh_oauth_derive(key, secret, strlen(secret));
	randombytes_buf(nonce, sizeof(nonce));
	T_EQ_INT(eh_oauth_mint(out, key, exp, nonce), EH_OK);
}

/* "Basic " base64(id ":" secret) into out. */
static void
basic(char *out, size_t cap, const char *id, const char *secret)
{
	char pair[256];
	int n;

	n = snprintf(pair, sizeof(pair), "%s:%s", id, secret);
	memcpy(out, "Basic ", 6);
	sodium_bin2base64(out + 6, cap - 6, (const unsigned char *)pair,
	    (size_t)n, sodium_base64_VARIANT_ORIGINAL);
}

/* The access_token of a token response, or "" (out: its copy). */
static void
access_token(const struct eh_response *r, char out[EH_OAUTH_TOKEN_MAX])
{
	json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
	const char *t = json_string_value(json_object_get(j, "access_token"));

	snprintf(out, EH_OAUTH_TOKEN_MAX, "%s", t != NULL ? t : "");
	json_decref(j);
}

/* The "error" member of an RFC 6749 5.2 body, or "". */
static const char *
oauth_error(const struct eh_response *r)
{
	static char e[64];
	json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
	const char *v = json_string_value(json_object_get(j, "error"));

	snprintf(e, sizeof(e), "%s", v != NULL ? v : "");
	json_decref(j);
	return e;
}

static void
token_req(struct eh_request *req, const char *method, const char *ctype,
    const char *auth, const char *body)
{
	post(req, TOKEN_URI, ctype, auth, body);
	req->method = method;
	req->now = NOW;
	req->body_state = EH_BODY_OK;
	memset(req->nonce, 0x5a, sizeof(req->nonce));
}

#define MP_CT "multipart/form-data; boundary=XyZ"
#define MP(name, value) "--XyZ\r\nContent-Disposition: form-data; " \
	"name=\"" name "\"\r\n\r\n" value "\r\n"

/* Both client authentications, both body types: a token, 200. */
static void
token_endpoint_ok(void)
{
	static const char *const secrets[] = { SEC_A, SEC_B };
	struct eh_config cfg;
	struct eh_request req;
	struct eh_decision d;
	char auth[256], tok[EH_OAUTH_TOKEN_MAX];
	struct {
		const char *what, *ctype, *body;
		int hdr;
		const char *secret;
	} ok[] = {
		{ "Basic, urlencoded", FORM_CT, GRANT, 1, SEC_A },
		{ "Basic, the second secret", FORM_CT, GRANT, 1, SEC_B },
		{ "body credentials, urlencoded", FORM_CT, GRANT
		  "&client_id=" CID "&client_secret=" SEC_A, 0, NULL },
		{ "Basic, multipart", MP_CT, MP("grant_type",
		  "client_credentials") "--XyZ--\r\n", 1, SEC_A },
		{ "body credentials, multipart", MP_CT, MP("grant_type",
		  "client_credentials") MP("client_id", CID)
		  MP("client_secret", SEC_A) "--XyZ--\r\n", 0, NULL },
		{ "a scope asked for", FORM_CT, GRANT "&scope=callbacks", 1,
		  SEC_A },
	};
	size_t i;
	int bad;

	config(&cfg, 1);
	oauth_set(&cfg, secrets, 2);
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		bad = t_failed;
		if (ok[i].hdr)
			basic(auth, sizeof(auth), CID, ok[i].secret);
		token_req(&req, "POST", ok[i].ctype, ok[i].hdr ? auth : NULL,
		    ok[i].body);
		T_EQ_INT(eh_handle_head(&d, &req, &cfg), EH_OK);
		T_EQ_INT(d.action, EH_ACT_READ);
		T_EQ_INT(d.token_endpoint, 1);
		T_EQ_INT(d.read_max, 1000); /* ESIGNHOOK_MAX_BODY=1000 */
		T_EQ_INT(eh_handle_body(&d, &req, &cfg), EH_OK);
		T_EQ_INT(d.resp.status, 200);
		T_EQ_INT(d.action, EH_ACT_REPLY);
		T_EQ_INT(d.err, EH_OK);
		T_EQ_STR(d.auth, "client");
		T_EQ_INT(d.resp.no_cache, 1);
		T_EQ_STR(d.resp.content_type, "application/json");
		T_CHECK(d.event.data == NULL && d.event.raw == NULL);
		access_token(&d.resp, tok);
		/* Good with the secrets configured. */
		T_EQ_INT(eh_oauth_verify(&cfg.oauth, tok, strlen(tok), NOW),
		    EH_OK);
		T_CHECK(strstr(d.resp.body, SEC_A) == NULL &&
		    strstr(d.resp.body, SEC_B) == NULL);
		if (t_failed != bad)
			fprintf(stderr, "  case %s\n", ok[i].what);
		eh_decision_free(&d);
	}
	/* With the default ESIGNHOOK_MAX_BODY the bound is the endpoint's. */
	cfg.max_body = EH_DEFAULT_MAX_BODY;
	basic(auth, sizeof(auth), CID, SEC_A);
	token_req(&req, "POST", FORM_CT, auth, GRANT);
	T_EQ_INT(eh_handle_head(&d, &req, &cfg), EH_OK);
	T_EQ_INT(d.read_max, EH_OAUTH_MAX_BODY);
	eh_decision_free(&d);
	/* PATH_INFO serves without REQUEST_URI. */
	req.request_uri = NULL;
	req.path_info = "/oauth/token";
	T_EQ_INT(eh_handle(&d, &req, &cfg), EH_OK);
	T_EQ_INT(d.resp.status, 200);
	eh_decision_free(&d);
	eh_config_free(&cfg);
}

/* Every refusal of the token endpoint: its status, its JSON, no event. */
static void
token_endpoint_errors(void)
{
	static const char *const secrets[] = { SEC_A };
	struct eh_config cfg;
	struct eh_request req;
	struct eh_decision d;
	char good[256], wrong[256], other[256];
	struct {
		const char *what, *method, *uri, *ctype, *clen, *auth, *body;
		int status;
		enum eh_err err;
		const char *error;    /* the JSON "error", or NULL: text */
	} trows[] = {
		{ "GET", "GET", TOKEN_URI, NULL, NULL, NULL, "", 405,
		  EH_ERR_METHOD, NULL },
		{ "GET with a query", "GET", TOKEN_URI "?" GRANT, NULL, NULL,
		  NULL, "", 405, EH_ERR_METHOD, NULL },
		{ "PUT", "PUT", TOKEN_URI, FORM_CT, NULL, good, GRANT, 405,
		  EH_ERR_METHOD, NULL },
		{ "no method", NULL, TOKEN_URI, FORM_CT, NULL, good, GRANT, 405,
		  EH_ERR_METHOD, NULL },
		{ "declared over ESIGNHOOK_MAX_BODY (1000)", "POST", TOKEN_URI,
		  FORM_CT, "1001", good, GRANT, 413, EH_ERR_TOO_LARGE, NULL },
		{ "CONTENT_LENGTH not decimal", "POST", TOKEN_URI, FORM_CT,
		  "-1", good, GRANT, 400, EH_ERR_CLEN, NULL },
		{ "JSON body", "POST", TOKEN_URI, "application/json", NULL,
		  good, "{}", 400, EH_ERR_OAUTH_REQUEST, "invalid_request" },
		{ "no content type", "POST", TOKEN_URI, NULL, NULL, good, GRANT,
		  400, EH_ERR_OAUTH_REQUEST, "invalid_request" },
		{ "no grant_type", "POST", TOKEN_URI, FORM_CT, NULL, good,
		  "scope=x", 400, EH_ERR_OAUTH_REQUEST, "invalid_request" },
		{ "grant_type twice", "POST", TOKEN_URI, FORM_CT, NULL, good,
		  GRANT "&" GRANT, 400, 0,
		  "invalid_request" },
		{ "both client authentications", "POST", TOKEN_URI, FORM_CT,
		  NULL, good, GRANT "&client_id=" CID "&client_secret=" SEC_A,
		  400, EH_ERR_OAUTH_REQUEST, "invalid_request" },
		{ "password grant", "POST", TOKEN_URI, FORM_CT, NULL, good,
		  "grant_type=password", 400, EH_ERR_OAUTH_GRANT,
		  "unsupported_grant_type" },
		{ "wrong secret", "POST", TOKEN_URI, FORM_CT, NULL, wrong,
		  GRANT, 401, EH_ERR_OAUTH_SECRET, "invalid_client" },
		{ "unknown client", "POST", TOKEN_URI, FORM_CT, NULL, other,
		  GRANT, 401, EH_ERR_OAUTH_CLIENT, "invalid_client" },
		{ "wrong secret in the body", "POST", TOKEN_URI, FORM_CT, NULL,
		  NULL, GRANT "&client_id=" CID "&client_secret=nope", 401,
		  EH_ERR_OAUTH_SECRET, "invalid_client" },
		{ "a OneSpan key is no client secret", "POST", TOKEN_URI,
		  FORM_CT, NULL, "Basic " KEY, GRANT, 401, 0, "invalid_client" },
		{ "multipart without its boundary", "POST", TOKEN_URI,
		  "multipart/form-data", NULL, good, MP("grant_type",
		  "client_credentials") "--XyZ--\r\n", 400, 0,
		  "invalid_request" },
		{ "multipart with a file part", "POST", TOKEN_URI, MP_CT, NULL,
		  good, "--XyZ\r\nContent-Disposition: form-data; "
		  "name=\"grant_type\"; filename=\"g\"\r\n\r\n"
		  "client_credentials\r\n--XyZ--\r\n", 400, 0,
		  "invalid_request" },
	};
	size_t i;
	int bad;

	config(&cfg, 1);
	oauth_set(&cfg, secrets, 1);
	basic(good, sizeof(good), CID, SEC_A);
	basic(wrong, sizeof(wrong), CID, SEC_B);
	basic(other, sizeof(other), "someone-else", SEC_A);
	for (i = 0; i < sizeof(trows) / sizeof(trows[0]); i++) {
		bad = t_failed;
		token_req(&req, trows[i].method, trows[i].ctype, trows[i].auth,
		    trows[i].body);
		req.request_uri = trows[i].uri;
		req.content_length = trows[i].clen;
		if (trows[i].clen != NULL)
			req.body_state = EH_BODY_UNREAD;
		eh_handle(&d, &req, &cfg);
		T_EQ_INT(d.resp.status, trows[i].status);
		if (trows[i].err != 0)
			T_EQ_INT(d.err, trows[i].err);
		T_EQ_INT(d.action, EH_ACT_REPLY);
		T_EQ_INT(d.token_endpoint, 1);
		T_CHECK(d.auth == NULL);
		T_EQ_INT(d.resp.no_cache, 1);
		T_CHECK(d.event.data == NULL && d.event.raw == NULL);
		T_CHECK(d.resp.body_len > 0 &&
		    d.resp.body_len == strlen(d.resp.body));
		if (trows[i].error != NULL) {
			T_EQ_STR(d.resp.content_type, "application/json");
			T_EQ_STR(oauth_error(&d.resp), trows[i].error);
		}
		if (trows[i].status == 405)
			T_EQ_STR(d.resp.allow, "POST");
		else
			T_CHECK(d.resp.allow == NULL);
		if (trows[i].status == 401)
			T_EQ_STR(d.resp.www_authenticate,
			    "Basic realm=\"esignhook\"");
		T_CHECK(strstr(d.resp.body, "access_token") == NULL);
		T_CHECK(strstr(d.resp.body, SEC_A) == NULL);
		if (t_failed != bad)
			fprintf(stderr, "  row %s\n", trows[i].what);
		eh_decision_free(&d);
	}
	/* No client configured: every token request refused (fail closed). */
	oauth_set(&cfg, NULL, 0);
	token_req(&req, "POST", FORM_CT, good, GRANT);
	eh_handle(&d, &req, &cfg);
	T_EQ_INT(d.resp.status, 401);
	T_EQ_STR(oauth_error(&d.resp), "invalid_client");
	T_EQ_INT(d.err, EH_ERR_OAUTH_NONE);
	eh_decision_free(&d);
	eh_config_free(&cfg);
}

/*
 * The token endpoint's path is never an event's: its last segment
 * "token" is no URL token (even when it is one configured), a form
 * posted there is no AlphaTrust event, a ?token= no credential.
 */
static void
token_path_is_no_event(void)
{
	static const char *const secrets[] = { SEC_A };
	struct t_kv kv[] = {
		{ "ESIGNHOOK_ALPHATRUST_TOKENS", "token" },
		{ NULL, NULL }
	};
	struct eh_config cfg;
	struct eh_request req;
	struct eh_decision d;

	config(&cfg, 1);
	T_EQ_INT(eh_config_apply(&cfg, t_kv_lookup, kv, NULL), EH_OK);
	oauth_set(&cfg, secrets, 1);
	token_req(&req, "POST", FORM_CT, NULL, FORM);
	eh_handle(&d, &req, &cfg);
	T_EQ_INT(d.resp.status, 400);
	T_EQ_INT(d.action, EH_ACT_REPLY);
	T_CHECK(d.event.data == NULL);
	eh_decision_free(&d);
	req.request_uri = TOKEN_URI "?token=" TOK;
	req.query = "token=" TOK;
	eh_handle(&d, &req, &cfg);
	T_EQ_INT(d.action, EH_ACT_REPLY);
	T_EQ_INT(d.resp.status, 400);
	eh_decision_free(&d);
	/* A GET there is no health check and no AlphaTrust GET either. */
	req.method = "GET";
	req.query = FORM "&token=" TOK;
	eh_handle(&d, &req, &cfg);
	T_EQ_INT(d.resp.status, 405);
	eh_decision_free(&d);
	/* Elsewhere, "token" is that URL token as before. */
	post(&req, "/esignhook/alphatrust/token", FORM_CT, NULL, FORM);
	eh_handle(&d, &req, &cfg);
	T_EQ_INT(d.resp.status, 200);
	T_EQ_INT(d.action, EH_ACT_STORE);
	T_EQ_STR(d.auth, "token");
	eh_decision_free(&d);
	/* Only the path's end counts: /oauth/token/x, /xoauth/token are
	 * no token endpoint. */
	post(&req, "/esignhook/oauth/token/x", FORM_CT, NULL, GRANT);
	eh_handle(&d, &req, &cfg);
	T_EQ_INT(d.token_endpoint, 0);
	T_EQ_INT(d.resp.status, 401);
	eh_decision_free(&d);
	post(&req, "/esignhook/xoauth/token", FORM_CT, NULL, FORM);
	eh_handle(&d, &req, &cfg);
	T_EQ_INT(d.token_endpoint, 0);
	T_EQ_INT(d.action, EH_ACT_STORE); /* the URL token "token" */
	eh_decision_free(&d);
	/* The URL as often typed, with a slash at its end. */
	post(&req, "/esignhook/oauth/token/", FORM_CT, NULL, GRANT);
	eh_handle_head(&d, &req, &cfg);
	T_EQ_INT(d.token_endpoint, 1);
	T_EQ_INT(d.action, EH_ACT_READ);
	eh_decision_free(&d);
	eh_config_free(&cfg);
}

/*
 * With no client configured, or only AlphaTrust served, the token
 * endpoint refuses from the head: no body is read for nothing.
 */
static void
token_refused_unread(void)
{
	static const char *const secrets[] = { SEC_A };
	struct eh_config cfg;
	struct eh_request req;
	struct eh_decision d;

	config(&cfg, 1);
	token_req(&req, "POST", FORM_CT, NULL, FORM);
	eh_handle_head(&d, &req, &cfg);
	T_EQ_INT(d.action, EH_ACT_REPLY);
	T_EQ_INT(d.err, EH_ERR_OAUTH_NONE);
	T_EQ_INT(d.resp.status, 401);
	T_CHECK(strstr(d.resp.body, "invalid_client") != NULL);
	eh_decision_free(&d);
	oauth_set(&cfg, secrets, 1);
	eh_handle_head(&d, &req, &cfg);
	T_EQ_INT(d.action, EH_ACT_READ);
	eh_decision_free(&d);
	cfg.provider = EH_PROVIDER_ALPHATRUST;
	eh_handle_head(&d, &req, &cfg);
	T_EQ_INT(d.action, EH_ACT_REPLY);
	T_EQ_INT(d.err, EH_ERR_OAUTH_NONE);
	eh_decision_free(&d);
	eh_config_free(&cfg);
}

/* A OneSpan callback with a Bearer token: each case, each reason. */
static void
bearer_callbacks(void)
{
	static const char *const both[] = { SEC_B, SEC_A };
	static const char *const only_b[] = { SEC_B };
	struct eh_config cfg;
	struct eh_request req;
	struct eh_decision d;
	char tok[EH_OAUTH_TOKEN_MAX], auth[EH_OAUTH_TOKEN_MAX + 32],
	    bad_tok[EH_OAUTH_TOKEN_MAX], lng[400];
	size_t i, n;

	config(&cfg, 1);
	oauth_set(&cfg, both, 2);
	mint(tok, SEC_A, NOW + 3600);
	snprintf(auth, sizeof(auth), "Bearer %s", tok);
	post(&req, "/esignhook/onespan", "application/json", auth, PKG);
	req.now = NOW;
	T_EQ_INT(eh_handle(&d, &req, &cfg), EH_OK);
	T_EQ_INT(d.resp.status, 200);
	T_EQ_INT(d.action, EH_ACT_STORE);
	T_EQ_INT(d.provider, EH_PROVIDER_ONESPAN);
	T_EQ_STR(d.auth, "oauth");
	T_CHECK(strstr(d.event.data, tok) == NULL);
	eh_decision_free(&d);
	/* The scheme in any case, blanks around the token. */
	snprintf(auth, sizeof(auth), "bEaReR \t%s  ", tok);
	req.authorization = auth;
	T_EQ_INT(eh_handle(&d, &req, &cfg), EH_OK);
	T_EQ_STR(d.auth, "oauth");
	eh_decision_free(&d);
	/* Within the clock skew after expiry: still good; past it: no. */
	req.now = NOW + 3600 + EH_OAUTH_SKEW;
	T_EQ_INT(eh_handle(&d, &req, &cfg), EH_OK);
	eh_decision_free(&d);
	req.now = NOW + 3600 + EH_OAUTH_SKEW + 1;
	T_EQ_INT(eh_handle(&d, &req, &cfg), EH_ERR_TOKEN_EXPIRED);
	T_EQ_INT(d.resp.status, 401);
	T_EQ_STR(d.resp.www_authenticate, "Bearer error=\"invalid_token\"");
	T_CHECK(d.auth == NULL);
	T_CHECK(strstr(d.resp.body, tok) == NULL);
	eh_decision_free(&d);
	req.now = NOW;
	/* Tampered: every byte of it, one at a time. */
	n = strlen(tok);
	for (i = 0; i < n; i++) {
		memcpy(bad_tok, tok, n + 1);
		bad_tok[i] = bad_tok[i] == 'A' ? 'B' : 'A';
		snprintf(auth, sizeof(auth), "Bearer %s", bad_tok);
		eh_handle(&d, &req, &cfg);
		T_EQ_INT(d.resp.status, 401);
		T_CHECK(d.err == EH_ERR_TOKEN_MAC ||
		    d.err == EH_ERR_TOKEN_MALFORMED ||
		    d.err == EH_ERR_TOKEN_EXPIRED);
		T_EQ_STR(d.resp.www_authenticate,
		    "Bearer error=\"invalid_token\"");
		if (d.resp.status != 401)
			fprintf(stderr, "  byte %zu changed\n", i);
		eh_decision_free(&d);
	}
	/* A forged expiry (the MAC no longer covers it). */
	snprintf(auth, sizeof(auth), "Bearer eh1.%lld%s", NOW + 7200,
	    strchr(tok + 4, '.'));
	T_EQ_INT(eh_handle(&d, &req, &cfg), EH_ERR_TOKEN_MAC);
	eh_decision_free(&d);
	/* Rotated out: minted under A, only B configured. */
	oauth_set(&cfg, only_b, 1);
	snprintf(auth, sizeof(auth), "Bearer %s", tok);
	T_EQ_INT(eh_handle(&d, &req, &cfg), EH_ERR_TOKEN_MAC);
	T_EQ_INT(d.resp.status, 401);
	eh_decision_free(&d);
	/* ... while the Basic key still works beside it. */
	req.authorization = "Basic " KEY;
	T_EQ_INT(eh_handle(&d, &req, &cfg), EH_OK);
	T_EQ_STR(d.auth, "basic");
	eh_decision_free(&d);
	/* A matched key decides (the URL's tokens go unhashed): with a
	 * wrong URL token, or a right one, or both, it is "basic". */
	req.request_uri = "/esignhook/not-a-key?token=nor-this";
	T_EQ_INT(eh_handle(&d, &req, &cfg), EH_OK);
	T_EQ_STR(d.auth, "basic");
	eh_decision_free(&d);
	req.request_uri = "/esignhook/" KEY "?token=" KEY;
	T_EQ_INT(eh_handle(&d, &req, &cfg), EH_OK);
	T_EQ_STR(d.auth, "basic");
	eh_decision_free(&d);
	/* A wrong key: the URL is still looked at. */
	req.authorization = "Basic not-the-key";
	T_EQ_INT(eh_handle(&d, &req, &cfg), EH_OK);
	T_EQ_STR(d.auth, "token");
	eh_decision_free(&d);
	req.request_uri = "/esignhook/onespan?token=nor-this";
	T_EQ_INT(eh_handle(&d, &req, &cfg), EH_ERR_AUTH_WRONG);
	eh_decision_free(&d);
	req.request_uri = "/esignhook/onespan";
	req.authorization = "Basic " KEY;
	/* A bad token, a good URL token: the URL token admits it. */
	req.authorization = auth;
	req.request_uri = "/esignhook/" KEY;
	T_EQ_INT(eh_handle(&d, &req, &cfg), EH_OK);
	T_EQ_STR(d.auth, "token");
	eh_decision_free(&d);
	req.request_uri = "/esignhook/onespan";
	/* Malformed ones: empty, the scheme alone, junk, too long. */
	memset(lng, 'a', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = '\0';
	memcpy(lng, "Bearer ", 7);
	{
		const char *m[] = { "Bearer", "Bearer ", "Bearer \t ",
		    "Bearer eh1", "Bearer eh1...", "Bearer eh2.1.2.3",
		    "Bearer " KEY, lng };
		for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
			req.authorization = m[i];
			eh_handle(&d, &req, &cfg);
			T_EQ_INT(d.resp.status, 401);
			T_EQ_INT(d.err, EH_ERR_TOKEN_MALFORMED);
			T_EQ_STR(d.resp.www_authenticate,
			    "Bearer error=\"invalid_token\"");
			if (d.err != EH_ERR_TOKEN_MALFORMED)
				fprintf(stderr, "  case %zu\n", i);
			eh_decision_free(&d);
		}
	}
	/* "Bearerx" is no Bearer credential: Basic's challenge. */
	req.authorization = "Bearerx abc";
	eh_handle(&d, &req, &cfg);
	T_EQ_INT(d.err, EH_ERR_AUTH_MISSING);
	T_EQ_STR(d.resp.www_authenticate, "Basic realm=\"esignhook\"");
	eh_decision_free(&d);
	/* No client configured: fail closed, said so. */
	oauth_set(&cfg, NULL, 0);
	req.authorization = auth;
	T_EQ_INT(eh_handle(&d, &req, &cfg), EH_ERR_OAUTH_NONE);
	T_EQ_INT(d.resp.status, 401);
	T_EQ_STR(d.resp.www_authenticate, "Bearer error=\"invalid_token\"");
	eh_decision_free(&d);
	/* OneSpan keys unset, OAuth alone: Bearer callbacks still work. */
	oauth_set(&cfg, both, 2);
	free(cfg.onespan.digest);
	cfg.onespan.digest = NULL;
	cfg.onespan.n = 0;
	T_EQ_INT(eh_handle(&d, &req, &cfg), EH_OK);
	T_EQ_STR(d.auth, "oauth");
	eh_decision_free(&d);
	eh_config_free(&cfg);
}

/* A Bearer token admits OneSpan's events only, never AlphaTrust's. */
static void
bearer_onespan_only(void)
{
	static const char *const secrets[] = { SEC_A };
	struct eh_config cfg;
	struct eh_request req;
	struct eh_decision d;
	char tok[EH_OAUTH_TOKEN_MAX], auth[EH_OAUTH_TOKEN_MAX + 8];

	config(&cfg, 1);
	oauth_set(&cfg, secrets, 1);
	mint(tok, SEC_A, NOW + 600);
	snprintf(auth, sizeof(auth), "Bearer %s", tok);
	/* An AlphaTrust GET: its URL token is its only credential. */
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.request_uri = "/esignhook/alphatrust";
	req.query = FORM;
	req.authorization = auth;
	req.now = NOW;
	eh_handle(&d, &req, &cfg);
	T_EQ_INT(d.resp.status, 401);
	T_EQ_STR(d.resp.www_authenticate, "Bearer error=\"invalid_token\"");
	T_CHECK(d.event.data == NULL);
	eh_decision_free(&d);
	/* A form with a Bearer token: OneSpan's quirk (Java's default
	 * type), stored as OneSpan's, never as AlphaTrust's. */
	post(&req, "/esignhook/alphatrust", FORM_CT, auth, PKG);
	req.now = NOW;
	T_EQ_INT(eh_handle(&d, &req, &cfg), EH_OK);
	T_EQ_INT(d.provider, EH_PROVIDER_ONESPAN);
	T_EQ_STR(d.auth, "oauth");
	T_EQ_STR(d.event.name, "PACKAGE_COMPLETE");
	eh_decision_free(&d);
	/* ... refused when the receiver serves AlphaTrust alone. */
	cfg.provider = EH_PROVIDER_ALPHATRUST;
	eh_handle(&d, &req, &cfg);
	T_EQ_INT(d.resp.status, 401);
	T_EQ_STR(d.resp.www_authenticate, "Bearer error=\"invalid_token\"");
	eh_decision_free(&d);
	cfg.provider = EH_PROVIDER_AUTO;
	/* A bad token on a form: the token's reason. */
	req.now = NOW + 601 + EH_OAUTH_SKEW;
	T_EQ_INT(eh_handle(&d, &req, &cfg), EH_ERR_TOKEN_EXPIRED);
	eh_decision_free(&d);
	/* AlphaTrust's own URL token on a form keeps working beside it. */
	post(&req, "/esignhook/alphatrust/" TOK, FORM_CT, auth, FORM);
	req.now = NOW;
	T_EQ_INT(eh_handle(&d, &req, &cfg), EH_OK);
	T_EQ_INT(d.provider, EH_PROVIDER_ALPHATRUST);
	T_EQ_STR(d.auth, "token");
	eh_decision_free(&d);
	eh_config_free(&cfg);
}

const struct t_case t_handler[] = {
	{ "the request table, row by row", run_rows },
	{ "replies for each provider", replies },
	{ "no secret configured: nothing accepted", fail_closed },
	{ "ESIGNHOOK_PROVIDER restricts", forced_provider },
	{ "spool failure replies 503 with Retry-After", fail_replaces },
	{ "PATH_INFO carries the token without REQUEST_URI", path_info_fallback },
	{ "senders' quirks reach data as meant", senders_quirks },
	{ "head, then body: only an authenticated POST is read", two_steps },
	{ "a raw query is kept without its token", raw_query_without_token },
	{ "token endpoint: both client auths, both body types", token_endpoint_ok },
	{ "token endpoint: every refusal, as RFC 6749 5.2 says", token_endpoint_errors },
	{ "token endpoint: its path is never an event's", token_path_is_no_event },
	{ "token endpoint: no client, nothing read", token_refused_unread },
	{ "Bearer callbacks: good, expired, tampered, rotated, malformed", bearer_callbacks },
	{ "a Bearer token admits OneSpan's events only", bearer_onespan_only },
	{ NULL, NULL }
};
