/*
 * lib/handler.c: every row of the request table, as data.  The handler
 * is pure, so these need no server, no spool and no clock.
 */
#include <stdlib.h>

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

struct row {
	const char *what;
	const char *method, *uri, *query, *ctype, *clen, *auth, *body;
	enum eh_body_state state;
	int status;
	enum eh_action action;
	enum eh_err err;
};

static const struct row rows[] = {
	/* OneSpan */
	{ "onespan accepted", "POST", "/hook", "", "application/json", NULL,
	  "Basic " KEY, PKG, EH_BODY_OK, 200, EH_ACT_STORE, EH_OK },
	{ "second configured key", "POST", "/hook", "", "application/json",
	  NULL, "Basic other-key", PKG, EH_BODY_OK, 200, EH_ACT_STORE, EH_OK },
	{ "scheme case-insensitive", "POST", "/hook", "", "application/json",
	  NULL, "bAsIc   " KEY, PKG, EH_BODY_OK, 200, EH_ACT_STORE, EH_OK },
	{ "charset parameter", "POST", "/hook", "",
	  "Application/JSON; charset=UTF-8", NULL, "Basic " KEY, PKG,
	  EH_BODY_OK, 200, EH_ACT_STORE, EH_OK },
	{ "onespan key as URL path token", "POST", "/esignhook/" KEY, "",
	  "application/json", NULL, NULL, PKG, EH_BODY_OK, 200, EH_ACT_STORE,
	  EH_OK },
	{ "onespan key as ?token=", "POST", "/h?token=" KEY, "token=" KEY,
	  "application/json", NULL, NULL, PKG, EH_BODY_OK, 200, EH_ACT_STORE,
	  EH_OK },
	{ "wrong key", "POST", "/hook", "", "application/json", NULL,
	  "Basic nope", PKG, EH_BODY_OK, 401, EH_ACT_REPLY, EH_ERR_AUTH_WRONG },
	{ "key differing in case", "POST", "/hook", "", "application/json",
	  NULL, "Basic ONESPAN-KEY-1", PKG, EH_BODY_OK, 401, EH_ACT_REPLY,
	  EH_ERR_AUTH_WRONG },
	{ "key prefix", "POST", "/hook", "", "application/json", NULL,
	  "Basic onespan-key-", PKG, EH_BODY_OK, 401, EH_ACT_REPLY,
	  EH_ERR_AUTH_WRONG },
	{ "key with suffix", "POST", "/hook", "", "application/json", NULL,
	  "Basic " KEY "1", PKG, EH_BODY_OK, 401, EH_ACT_REPLY,
	  EH_ERR_AUTH_WRONG },
	{ "no Authorization", "POST", "/", "", "application/json", NULL,
	  NULL, PKG, EH_BODY_OK, 401, EH_ACT_REPLY, EH_ERR_AUTH_MISSING },
	{ "no Authorization, a path", "POST", "/esignhook/onespan", "",
	  "application/json", NULL, NULL, PKG, EH_BODY_OK, 401, EH_ACT_REPLY,
	  EH_ERR_AUTH_MISSING },
	{ "wrong ?token= is a credential sent", "POST", "/h?token=x", "token=x",
	  "application/json", NULL, NULL, PKG, EH_BODY_OK, 401, EH_ACT_REPLY,
	  EH_ERR_AUTH_WRONG },
	{ "Bearer scheme", "POST", "/", "", "application/json", NULL,
	  "Bearer " KEY, PKG, EH_BODY_OK, 401, EH_ACT_REPLY,
	  EH_ERR_AUTH_MISSING },
	{ "empty Basic", "POST", "/", "", "application/json", NULL,
	  "Basic ", PKG, EH_BODY_OK, 401, EH_ACT_REPLY, EH_ERR_AUTH_MISSING },
	{ "alphatrust token does not admit onespan", "POST", "/h/" TOK, "",
	  "application/json", NULL, "Basic " TOK, PKG, EH_BODY_OK, 401,
	  EH_ACT_REPLY, EH_ERR_AUTH_WRONG },
	{ "wrong secret checked before the body", "POST", "/hook", "",
	  "application/json", NULL, "Basic nope", "{", EH_BODY_OK, 401,
	  EH_ACT_REPLY, EH_ERR_AUTH_WRONG },
	{ "malformed JSON", "POST", "/hook", "", "application/json", NULL,
	  "Basic " KEY, "{\"name\":", EH_BODY_OK, 400, EH_ACT_REPLY,
	  EH_ERR_JSON },
	{ "JSON array", "POST", "/hook", "", "application/json", NULL,
	  "Basic " KEY, "[1]", EH_BODY_OK, 400, EH_ACT_REPLY,
	  EH_ERR_NOT_OBJECT },
	{ "missing packageId", "POST", "/hook", "", "application/json", NULL,
	  "Basic " KEY, "{\"name\":\"X\"}", EH_BODY_OK, 400, EH_ACT_REPLY,
	  EH_ERR_FIELD_MISSING },
	{ "mistyped field", "POST", "/hook", "", "application/json", NULL,
	  "Basic " KEY, "{\"name\":\"X\",\"packageId\":1}", EH_BODY_OK, 400,
	  EH_ACT_REPLY, EH_ERR_FIELD_TYPE },
	/* AlphaTrust */
	{ "alphatrust POST, path token", "POST", "/esignhook/alphatrust/" TOK,
	  "", "application/x-www-form-urlencoded", NULL, NULL, FORM,
	  EH_BODY_OK, 200, EH_ACT_STORE, EH_OK },
	{ "alphatrust POST, ?token=", "POST", "/a?token=" TOK, "token=" TOK,
	  "application/x-www-form-urlencoded; charset=utf-8", NULL, NULL,
	  FORM, EH_BODY_OK, 200, EH_ACT_STORE, EH_OK },
	{ "alphatrust GET", "GET", "/a?" FORM "&token=" TOK, FORM "&token="
	  TOK, NULL, NULL, NULL, NULL, EH_BODY_OK, 200, EH_ACT_STORE, EH_OK },
	{ "alphatrust GET, path token", "GET", "/a/" TOK "?" FORM, FORM, NULL,
	  NULL, NULL, NULL, EH_BODY_OK, 200, EH_ACT_STORE, EH_OK },
	{ "alphatrust no token", "POST", "/", "",
	  "application/x-www-form-urlencoded", NULL, NULL, FORM, EH_BODY_OK,
	  401, EH_ACT_REPLY, EH_ERR_AUTH_MISSING },
	{ "alphatrust wrong token", "POST", "/a/wrong", "",
	  "application/x-www-form-urlencoded", NULL, NULL, FORM, EH_BODY_OK,
	  401, EH_ACT_REPLY, EH_ERR_AUTH_WRONG },
	{ "ps_securitytoken is no credential", "POST", "/", "",
	  "application/x-www-form-urlencoded", NULL, NULL,
	  "TransID=1&EventType=transaction&ps_securitytoken=" TOK, EH_BODY_OK,
	  401, EH_ACT_REPLY, EH_ERR_AUTH_MISSING },
	{ "onespan key does not admit alphatrust", "POST", "/a/" KEY, "",
	  "application/x-www-form-urlencoded", NULL, "Basic " KEY, FORM,
	  EH_BODY_OK, 401, EH_ACT_REPLY, EH_ERR_AUTH_WRONG },
	{ "token in the body is not a URL token", "POST", "/", "",
	  "application/x-www-form-urlencoded", NULL, NULL,
	  FORM "&token=" TOK, EH_BODY_OK, 401, EH_ACT_REPLY,
	  EH_ERR_AUTH_MISSING },
	{ "bad escape", "POST", "/a/" TOK, "",
	  "application/x-www-form-urlencoded", NULL, NULL, FORM "&x=%zz",
	  EH_BODY_OK, 400, EH_ACT_REPLY, EH_ERR_FORM_ESCAPE },
	{ "%00", "POST", "/a/" TOK, "", "application/x-www-form-urlencoded",
	  NULL, NULL, FORM "&x=%00", EH_BODY_OK, 400, EH_ACT_REPLY,
	  EH_ERR_FORM_NUL },
	{ "invalid UTF-8", "POST", "/a/" TOK, "",
	  "application/x-www-form-urlencoded", NULL, NULL, FORM "&x=%c3",
	  EH_BODY_OK, 400, EH_ACT_REPLY, EH_ERR_UTF8 },
	{ "field twice", "POST", "/a/" TOK, "",
	  "application/x-www-form-urlencoded", NULL, NULL, FORM "&TransID=2",
	  EH_BODY_OK, 400, EH_ACT_REPLY, EH_ERR_FIELD_DUP },
	{ "missing EventType", "GET", "/a/" TOK, "TransID=1", NULL, NULL,
	  NULL, NULL, EH_BODY_OK, 400, EH_ACT_REPLY, EH_ERR_FIELD_MISSING },
	{ "TransID not digits", "GET", "/a/" TOK,
	  "TransID=12a&EventType=transaction", NULL, NULL, NULL, NULL,
	  EH_BODY_OK, 400, EH_ACT_REPLY, EH_ERR_FIELD_DIGITS },
	{ "malformed query", "GET", "/a/" TOK, "TransID=1&&x", NULL, NULL,
	  NULL, NULL, EH_BODY_OK, 400, EH_ACT_REPLY, EH_ERR_FORM_ESCAPE },
	/* Methods, health, media types, bodies */
	{ "health", "GET", "/esignhook/alphatrust/" TOK, "", NULL, NULL, NULL,
	  NULL, EH_BODY_OK, 200, EH_ACT_HEALTH, EH_OK },
	{ "health, no query at all", "GET", "/", NULL, NULL, NULL, NULL, NULL,
	  EH_BODY_OK, 200, EH_ACT_HEALTH, EH_OK },
	{ "PUT", "PUT", "/", "", "application/json", NULL, "Basic " KEY, PKG,
	  EH_BODY_OK, 405, EH_ACT_REPLY, EH_ERR_METHOD },
	{ "HEAD", "HEAD", "/", "", NULL, NULL, NULL, NULL, EH_BODY_OK, 405,
	  EH_ACT_REPLY, EH_ERR_METHOD },
	{ "lower-case post", "post", "/", "", "application/json", NULL,
	  "Basic " KEY, PKG, EH_BODY_OK, 405, EH_ACT_REPLY, EH_ERR_METHOD },
	{ "no method", NULL, "/", "", NULL, NULL, NULL, NULL, EH_BODY_OK, 405,
	  EH_ACT_REPLY, EH_ERR_METHOD },
	{ "text/plain", "POST", "/", "", "text/plain", NULL, "Basic " KEY,
	  PKG, EH_BODY_OK, 415, EH_ACT_REPLY, EH_ERR_MEDIA_TYPE },
	{ "no content type", "POST", "/", "", NULL, NULL, "Basic " KEY, PKG,
	  EH_BODY_OK, 415, EH_ACT_REPLY, EH_ERR_MEDIA_TYPE },
	{ "application/jsonx", "POST", "/", "", "application/jsonx", NULL,
	  "Basic " KEY, PKG, EH_BODY_OK, 415, EH_ACT_REPLY,
	  EH_ERR_MEDIA_TYPE },
	{ "declared length over the limit", "POST", "/", "",
	  "application/json", "1001", "Basic " KEY, NULL, EH_BODY_UNREAD, 413,
	  EH_ACT_REPLY, EH_ERR_TOO_LARGE },
	{ "413 before 415", "POST", "/", "", "text/plain", "5000", NULL, NULL,
	  EH_BODY_UNREAD, 413, EH_ACT_REPLY, EH_ERR_TOO_LARGE },
	{ "undeclared body over the limit", "POST", "/", "",
	  "application/json", NULL, "Basic " KEY, "", EH_BODY_OVER, 413,
	  EH_ACT_REPLY, EH_ERR_TOO_LARGE },
	{ "CONTENT_LENGTH not decimal", "POST", "/", "", "application/json",
	  "+5", "Basic " KEY, NULL, EH_BODY_UNREAD, 400, EH_ACT_REPLY,
	  EH_ERR_CLEN },
	{ "CONTENT_LENGTH overflows", "POST", "/", "", "application/json",
	  "184467440737095516160", "Basic " KEY, NULL, EH_BODY_UNREAD, 400,
	  EH_ACT_REPLY, EH_ERR_CLEN },
	{ "short body", "POST", "/", "", "application/json", "50",
	  "Basic " KEY, "{}", EH_BODY_SHORT, 400, EH_ACT_REPLY,
	  EH_ERR_SHORT_BODY },
	{ "read error: temporary", "POST", "/", "", "application/json", NULL,
	  "Basic " KEY, "", EH_BODY_IOERR, 503, EH_ACT_REPLY, EH_ERR_READ },
	/* Nothing parses a query before its sender is authenticated. */
	{ "unauthenticated bad query: 401", "GET", "/a/wrong", "a=%zz", NULL,
	  NULL, NULL, NULL, EH_BODY_OK, 401, EH_ACT_REPLY, EH_ERR_AUTH_WRONG },
	{ "unauthenticated dup query: 401", "GET", "/a", "a=1&a=2", NULL,
	  NULL, NULL, NULL, EH_BODY_OK, 401, EH_ACT_REPLY,
	  EH_ERR_AUTH_WRONG },
	{ "onespan ignores a bad query once authenticated", "POST", "/h",
	  "a=%zz", "application/json", NULL, "Basic " KEY, PKG, EH_BODY_OK,
	  200, EH_ACT_STORE, EH_OK },
	{ "token twice: authenticated, then refused", "GET", "/a",
	  FORM "&token=" TOK "&token=" TOK, NULL, NULL, NULL, NULL,
	  EH_BODY_OK, 400, EH_ACT_REPLY, EH_ERR_FIELD_DUP },
	{ "?token= not first", "GET", "/a", FORM "&token=" TOK, NULL, NULL,
	  NULL, NULL, EH_BODY_OK, 200, EH_ACT_STORE, EH_OK },
	{ "xtoken= is not token=", "GET", "/a", FORM "&xtoken=" TOK, NULL,
	  NULL, NULL, NULL, EH_BODY_OK, 401, EH_ACT_REPLY, EH_ERR_AUTH_WRONG },
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
			T_CHECK(d.event.name == NULL && d.event.data == NULL);
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

const struct t_case t_handler[] = {
	{ "the request table, row by row", run_rows },
	{ "replies for each provider", replies },
	{ "no secret configured: nothing accepted", fail_closed },
	{ "ESIGNHOOK_PROVIDER restricts", forced_provider },
	{ "spool failure replies 503 with Retry-After", fail_replaces },
	{ "PATH_INFO carries the token without REQUEST_URI", path_info_fallback },
	{ NULL, NULL }
};
