/*
 * lib/handler.c: every row of the request table, as data.  The handler
 * is pure, so these need no server, no spool and no clock.
 */
#include <stdlib.h>

#include <jansson.h>

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
	{ "Bearer scheme", "POST", "/", "", "application/json", NULL,
	  "Bearer " KEY, PKG, EH_BODY_OK, 401, EH_ACT_REPLY,
	  EH_ERR_AUTH_MISSING, NULL },
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
		if (r->status == 401)
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
	{ NULL, NULL }
};
