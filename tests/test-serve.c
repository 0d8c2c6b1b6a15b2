/* lib/serve.c: decision plus spool, as the receiver runs it. */
#include <sys/stat.h>

#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "../lib/esignhook.h"
#include "t.h"

#define KEY "k-0123456789"
#define PKG "{\"name\":\"PACKAGE_COMPLETE\",\"packageId\":\"p1\"}"

static void
setup(struct eh_config *cfg, struct eh_spool *sp, const char *dir)
{
	char text[512];
	struct eh_conffile cf;
	size_t line;

	snprintf(text, sizeof(text), "ESIGNHOOK_SPOOL=%s\n"
	    "ESIGNHOOK_ONESPAN_KEYS=" KEY "\nESIGNHOOK_SPOOL_MIN_FREE=0\n", dir);
	eh_config_init(cfg);
	T_EQ_INT(eh_conffile_parse(&cf, text, strlen(text), &line), EH_OK);
	T_EQ_INT(eh_config_apply(cfg, eh_conffile_lookup, &cf, NULL), EH_OK);
	eh_conffile_free(&cf);
	eh_spool_init(sp);
}

static void
post(struct eh_request *req, const char *body)
{
	memset(req, 0, sizeof(*req));
	req->method = "POST";
	req->request_uri = "/hook";
	req->content_type = "application/json";
	req->authorization = "Basic " KEY;
	req->remote_addr = "127.0.0.1";
	req->body = body;
	req->body_len = strlen(body);
}

static int
serve(struct eh_outcome *out, struct eh_request *req,
    const struct eh_config *cfg, struct eh_spool *sp)
{
	struct eh_decision d;
	int status;

	eh_serve(&d, out, req, cfg, sp, NULL, NULL);
	status = d.resp.status;
	if (status == 503)
		T_EQ_STR(d.resp.retry_after, "300");
	eh_decision_free(&d);
	return status;
}

static void
store_and_health(void)
{
	struct eh_config cfg;
	struct eh_spool sp;
	struct eh_request req;
	struct eh_outcome out;
	char *dir = t_tmpdir(), newdir[256];

	snprintf(newdir, sizeof(newdir), "%s/new", dir);
	setup(&cfg, &sp, dir);
	post(&req, PKG);
	T_EQ_INT(serve(&out, &req, &cfg, &sp), 200);
	T_EQ_STR(out.provider, "onespan");
	T_EQ_STR(out.event, "PACKAGE_COMPLETE");
	T_EQ_INT(strlen(out.id), EH_ID_LEN);
	T_EQ_INT(out.duplicate, 0);
	T_EQ_INT(t_count_files(newdir), 1);
	T_EQ_INT(serve(&out, &req, &cfg, &sp), 200);
	T_EQ_INT(out.duplicate, 1);
	T_EQ_INT(t_count_files(newdir), 1);

	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.query = "";
	T_EQ_INT(serve(&out, &req, &cfg, &sp), 200);
	cfg.min_free = 1ULL << 50;
	T_EQ_INT(serve(&out, &req, &cfg, &sp), 503);
	T_EQ_INT(out.err, EH_ERR_SPOOL_FULL);
	eh_spool_close(&sp);
	eh_config_free(&cfg);
	t_rmtree(dir);
	free(dir);
}

static void
spool_failures(void)
{
	struct eh_config cfg;
	struct eh_spool sp;
	struct eh_request req;
	struct eh_outcome out;
	char *dir = t_tmpdir(), spool[256], newdir[256];

	/* The spool's parent is a file: cannot be created. */
	snprintf(spool, sizeof(spool), "%s/file/spool", dir);
	snprintf(newdir, sizeof(newdir), "%s/file", dir);
	fclose(fopen(newdir, "w"));
	setup(&cfg, &sp, spool);
	post(&req, PKG);
	T_EQ_INT(serve(&out, &req, &cfg, &sp), 503);
	T_EQ_INT(out.err, EH_ERR_SPOOL_IO);
	T_EQ_STR(out.sys_op, "open spool");
	T_CHECK(out.sys_errno != 0);
	T_EQ_STR(out.id, "");
	eh_config_free(&cfg);

	/* Deleted while running: noticed before use, recreated at once. */
	snprintf(spool, sizeof(spool), "%s/spool", dir);
	snprintf(newdir, sizeof(newdir), "%s/spool/new", dir);
	setup(&cfg, &sp, spool);
	T_EQ_INT(serve(&out, &req, &cfg, &sp), 200);
	t_rmtree(spool);
	post(&req, "{\"name\":\"X\",\"packageId\":\"p2\"}");
	T_EQ_INT(serve(&out, &req, &cfg, &sp), 200);
	T_EQ_INT(t_count_files(newdir), 1);

	/* Backlog. */
	cfg.max_events = 1;
	post(&req, "{\"name\":\"X\",\"packageId\":\"p3\"}");
	T_EQ_INT(serve(&out, &req, &cfg, &sp), 503);
	T_EQ_INT(out.err, EH_ERR_SPOOL_BACKLOG);
	T_EQ_INT(t_count_files(newdir), 1);

	/* No spool configured. */
	free(cfg.spool);
	cfg.spool = NULL;
	T_EQ_INT(serve(&out, &req, &cfg, &sp), 503);
	T_EQ_INT(out.err, EH_ERR_SPOOL_CONFIG);
	eh_spool_close(&sp);
	eh_config_free(&cfg);
	t_rmtree(dir);
	free(dir);
}

static void
rejected_touches_nothing(void)
{
	struct eh_config cfg;
	struct eh_spool sp;
	struct eh_request req;
	struct eh_outcome out;
	char *dir = t_tmpdir(), spool[256];

	snprintf(spool, sizeof(spool), "%s/spool", dir);
	setup(&cfg, &sp, spool);
	post(&req, PKG);
	req.authorization = "Basic wrong";
	T_EQ_INT(serve(&out, &req, &cfg, &sp), 401);
	T_EQ_INT(out.err, EH_ERR_AUTH_WRONG);
	/* Refused before the spool is even opened. */
	T_CHECK(access(spool, F_OK) != 0);
	T_EQ_INT(sp.dirfd, -1);
	eh_spool_close(&sp);
	eh_config_free(&cfg);
	t_rmtree(dir);
	free(dir);
}

/* A body source that counts what is asked of it. */
struct counted {
	const char *data;
	size_t len, pos;
	unsigned calls;
};

static long
counted_read(void *ctx, char *buf, size_t len)
{
	struct counted *c = ctx;
	size_t n = c->len - c->pos;

	c->calls++;
	if (n > len)
		n = len;
	memcpy(buf, c->data + c->pos, n);
	c->pos += n;
	return (long)n;
}

/*
 * The body is read only once the request is authenticated: a caller
 * without the secret (or refused for its method, size or type) never
 * gets a read, however slow it is; an authenticated one is read whole.
 */
static void
body_after_auth(void)
{
	static const struct {
		const char *what, *method, *ctype, *clen, *auth;
		int status;
	} refused[] = {
		{ "wrong key", "POST", "application/json", "44", "Basic no",
		  401 },
		{ "no key", "POST", "application/json", "44", NULL, 401 },
		{ "no CONTENT_LENGTH, wrong key", "POST", "application/json",
		  NULL, "Basic no", 401 },
		{ "form, no token", "POST",
		  "application/x-www-form-urlencoded", "44", NULL, 401 },
		{ "text/plain", "POST", "text/plain", "44", "Basic " KEY, 415 },
		{ "declared over the limit", "POST", "application/json",
		  "99999", "Basic " KEY, 413 },
		{ "CONTENT_LENGTH not decimal", "POST", "application/json",
		  "+44", "Basic " KEY, 400 },
		{ "PUT", "PUT", "application/json", "44", "Basic " KEY, 405 },
	};
	struct eh_config cfg;
	struct eh_spool sp;
	struct eh_request req;
	struct eh_decision d;
	struct eh_outcome out;
	struct counted c;
	char *dir = t_tmpdir(), newdir[256];
	size_t i;

	snprintf(newdir, sizeof(newdir), "%s/new", dir);
	setup(&cfg, &sp, dir);
	cfg.max_body = 1000;
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		post(&req, "");
		req.body = NULL;
		req.body_state = EH_BODY_UNREAD;
		req.method = refused[i].method;
		req.content_type = refused[i].ctype;
		req.content_length = refused[i].clen;
		req.authorization = refused[i].auth;
		memset(&c, 0, sizeof(c));
		c.data = PKG;
		c.len = strlen(PKG);
		eh_serve(&d, &out, &req, &cfg, &sp, counted_read, &c);
		T_EQ_INT(d.resp.status, refused[i].status);
		T_EQ_INT(c.calls, 0);
		T_CHECK(d.body == NULL);
		T_EQ_INT(req.body_state, EH_BODY_UNREAD);
		if (c.calls != 0 || d.resp.status != refused[i].status)
			fprintf(stderr, "  case %s\n", refused[i].what);
		eh_decision_free(&d);
	}
	T_EQ_INT(t_count_files(newdir), 0);
	post(&req, "");
	req.body = NULL;
	req.content_length = "44";
	memset(&c, 0, sizeof(c));
	c.data = PKG;
	c.len = strlen(PKG);
	eh_serve(&d, &out, &req, &cfg, &sp, counted_read, &c);
	T_EQ_INT(d.resp.status, 200);
	T_CHECK(c.calls > 0);
	T_EQ_INT(c.pos, strlen(PKG));
	T_EQ_INT(req.body_len, strlen(PKG));
	T_CHECK(d.body != NULL && req.body == d.body);
	T_EQ_INT(t_count_files(newdir), 1);
	eh_decision_free(&d);
	eh_decision_free(&d);
	eh_spool_close(&sp);
	eh_config_free(&cfg);
	t_rmtree(dir);
	free(dir);
}

/* Authenticated but not what the documents say: stored, 200, and the
 * outcome carries the problems for the log line. */
static void
stored_with_problems(void)
{
	struct eh_config cfg;
	struct eh_spool sp;
	struct eh_request req;
	struct eh_outcome out;
	char *dir = t_tmpdir(), newdir[256];

	snprintf(newdir, sizeof(newdir), "%s/new", dir);
	setup(&cfg, &sp, dir);
	post(&req, "{\"name\":\"PACKAGE_COMPLETE\"}");
	T_EQ_INT(serve(&out, &req, &cfg, &sp), 200);
	T_EQ_STR(out.event, "PACKAGE_COMPLETE");
	T_EQ_STR(out.problems, "packageId is missing");
	T_EQ_INT(strlen(out.id), EH_ID_LEN);
	post(&req, "{\"name\":");
	T_EQ_INT(serve(&out, &req, &cfg, &sp), 200);
	T_EQ_STR(out.event, "");
	T_CHECK(strncmp(out.problems, "malformed JSON at byte ", 23) == 0);
	T_EQ_INT(t_count_files(newdir), 2);
	/* The same broken body again: one record (dedupe over the bytes). */
	T_EQ_INT(serve(&out, &req, &cfg, &sp), 200);
	T_EQ_INT(out.duplicate, 1);
	T_EQ_INT(t_count_files(newdir), 2);
	post(&req, PKG);
	T_EQ_INT(serve(&out, &req, &cfg, &sp), 200);
	T_EQ_STR(out.problems, "");
	eh_spool_close(&sp);
	eh_config_free(&cfg);
	t_rmtree(dir);
	free(dir);
}

/*
 * mv spool spool.old; mkdir spool under a running worker: its handle
 * still holds the old directories, writable; the next event must go
 * where readers look, and the health check must judge the new one.
 */
static void
spool_moved(void)
{
	struct eh_config cfg;
	struct eh_spool sp;
	struct eh_request req;
	struct eh_outcome out;
	char *dir = t_tmpdir(), spool[256], old[256], newdir[256],
	    oldnew[256];

	snprintf(spool, sizeof(spool), "%s/spool", dir);
	snprintf(old, sizeof(old), "%s/spool.old", dir);
	snprintf(newdir, sizeof(newdir), "%s/spool/new", dir);
	snprintf(oldnew, sizeof(oldnew), "%s/spool.old/new", dir);
	setup(&cfg, &sp, spool);
	post(&req, PKG);
	T_EQ_INT(serve(&out, &req, &cfg, &sp), 200);
	T_EQ_INT(rename(spool, old), 0);
	T_EQ_INT(mkdir(spool, 0700), 0);
	post(&req, "{\"name\":\"X\",\"packageId\":\"after-mv\"}");
	T_EQ_INT(serve(&out, &req, &cfg, &sp), 200);
	T_EQ_INT(t_count_files(newdir), 1);
	T_EQ_INT(t_count_files(oldnew), 1);
	/* The old spool's dedupe markers stay behind with it. */
	post(&req, PKG);
	T_EQ_INT(serve(&out, &req, &cfg, &sp), 200);
	T_EQ_INT(out.duplicate, 0);
	T_EQ_INT(t_count_files(newdir), 2);
	/* The health check too: a spool moved away and replaced by a
	 * file cannot take events, whatever the old directory could. */
	t_rmtree(spool);
	fclose(fopen(spool, "w"));
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.query = "";
	T_EQ_INT(serve(&out, &req, &cfg, &sp), 503);
	T_EQ_INT(out.err, EH_ERR_SPOOL_IO);
	T_EQ_STR(out.sys_op, "open spool");
	T_EQ_INT(t_count_files(oldnew), 1);
	eh_spool_close(&sp);
	eh_config_free(&cfg);
	t_rmtree(dir);
	free(dir);
}

/*
 * As the CGI receiver serves: a fresh handle per request with
 * count_sample 16, a limit above 1000, opened by eh_serve itself
 * (lazily) or ahead (the sandbox needs the spool to exist): most
 * deliveries do not read new/.
 */
static void
cgi_sampling(void)
{
	struct eh_config cfg;
	struct eh_spool sp;
	struct eh_request req;
	struct eh_outcome out;
	char *dir = t_tmpdir(), body[128];
	int i, counted = 0;

	setup(&cfg, &sp, dir);
	T_EQ_INT(cfg.max_events, EH_DEFAULT_MAX_EVENTS);
	for (i = 0; i < 64; i++) {
		eh_spool_init(&sp);
		sp.count_sample = 16;
		if (i % 2 == 1)
			T_EQ_INT(eh_spool_reopen(&sp, dir), EH_OK);
		snprintf(body, sizeof(body),
		    "{\"name\":\"X\",\"packageId\":\"cgi-%d\"}", i);
		post(&req, body);
		T_EQ_INT(serve(&out, &req, &cfg, &sp), 200);
		counted += sp.counted;
		eh_spool_close(&sp);
	}
	/* About 4 expected; 32 or more is 1 chance in 10^20. */
	T_CHECK(counted < 32);
	eh_config_free(&cfg);
	t_rmtree(dir);
	free(dir);
}

/* ---- OAuth 2.0 ---- */

#define CID "serve-client"
#define SEC "serve-secret-0123456789"
#define GRANT "grant_type=client_credentials&client_id=" CID \
	"&client_secret=" SEC

static void
oauth_on(struct eh_config *cfg)
{
	struct t_kv kv[] = {
		{ "ESIGNHOOK_OAUTH_CLIENT_ID", CID },
		{ "ESIGNHOOK_OAUTH_CLIENT_SECRETS", SEC },
		{ NULL, NULL }
	};

	T_EQ_INT(eh_config_apply(cfg, t_kv_lookup, kv, NULL), EH_OK);
}

static void
token_post(struct eh_request *req, const char *clen)
{
	memset(req, 0, sizeof(*req));
	req->method = "POST";
	req->request_uri = "/esignhook/oauth/token";
	req->content_type = "application/x-www-form-urlencoded";
	req->content_length = clen;
	req->remote_addr = "127.0.0.1";
	req->now = 1800000000;
	req->body_state = EH_BODY_UNREAD;
}

/* The access_token of d's reply into out ("" when none). */
static void
token_of(const struct eh_decision *d, char out[EH_OAUTH_TOKEN_MAX])
{
	json_t *j = json_loadb(d->resp.body, d->resp.body_len, 0, NULL);
	const char *t = json_string_value(json_object_get(j, "access_token"));

	snprintf(out, EH_OAUTH_TOKEN_MAX, "%s", t != NULL ? t : "");
	json_decref(j);
}

/*
 * A token request: its body read (bounded), a nonce of its own each
 * time, a token that a callback then uses; and the spool never touched,
 * not even opened, whatever the answer.
 */
static void
token_requests(void)
{
	struct eh_config cfg;
	struct eh_spool sp;
	struct eh_request req;
	struct eh_decision d;
	struct eh_outcome out;
	struct counted c;
	char *dir = t_tmpdir(), spool[256], newdir[300], clen[16],
	    t1[EH_OAUTH_TOKEN_MAX], t2[EH_OAUTH_TOKEN_MAX],
	    auth[EH_OAUTH_TOKEN_MAX + 8], *big;
	size_t i;

	snprintf(spool, sizeof(spool), "%s/spool", dir);
	snprintf(newdir, sizeof(newdir), "%s/new", spool);
	setup(&cfg, &sp, spool);
	oauth_on(&cfg);
	snprintf(clen, sizeof(clen), "%zu", strlen(GRANT));
	for (i = 0; i < 2; i++) {
		token_post(&req, clen);
		memset(&c, 0, sizeof(c));
		c.data = GRANT;
		c.len = strlen(GRANT);
		eh_serve(&d, &out, &req, &cfg, &sp, counted_read, &c);
		T_EQ_INT(d.resp.status, 200);
		T_EQ_INT(c.pos, strlen(GRANT));
		T_EQ_STR(out.auth, "client");
		T_EQ_INT(out.err, EH_OK);
		T_EQ_STR(out.provider, "-");
		T_EQ_STR(out.id, "");
		token_of(&d, i == 0 ? t1 : t2);
		eh_decision_free(&d);
	}
	/* Each from its own random bytes (eh_serve drew them). */
	T_CHECK(t1[0] != '\0' && t2[0] != '\0' && strcmp(t1, t2) != 0);
	T_CHECK(access(spool, F_OK) != 0);
	T_EQ_INT(sp.dirfd, -1);
	/* Refused ones neither: wrong secret, oversized, GET. */
	token_post(&req, "30");
	memset(&c, 0, sizeof(c));
	c.data = "grant_type=client_credentials";
	c.len = strlen(c.data);
	req.content_length = NULL;
	eh_serve(&d, &out, &req, &cfg, &sp, counted_read, &c);
	T_EQ_INT(d.resp.status, 401);
	T_CHECK(out.auth == NULL);
	eh_decision_free(&d);
	/* No CONTENT_LENGTH, 5000 bytes: read no further than the bound. */
	big = malloc(5001);
	memset(big, 'a', 5000);
	big[5000] = '\0';
	token_post(&req, NULL);
	memset(&c, 0, sizeof(c));
	c.data = big;
	c.len = 5000;
	eh_serve(&d, &out, &req, &cfg, &sp, counted_read, &c);
	T_EQ_INT(d.resp.status, 413);
	T_CHECK(c.pos <= EH_OAUTH_MAX_BODY + 1);
	eh_decision_free(&d);
	/* Declared over the bound: not a byte read. */
	token_post(&req, "4097");
	memset(&c, 0, sizeof(c));
	c.data = big;
	c.len = 4097;
	eh_serve(&d, &out, &req, &cfg, &sp, counted_read, &c);
	T_EQ_INT(d.resp.status, 413);
	T_EQ_INT(c.calls, 0);
	eh_decision_free(&d);
	free(big);
	token_post(&req, NULL);
	req.method = "GET";
	eh_serve(&d, &out, &req, &cfg, &sp, counted_read, &c);
	T_EQ_INT(d.resp.status, 405);
	eh_decision_free(&d);
	T_CHECK(access(spool, F_OK) != 0);
	T_EQ_INT(sp.dirfd, -1);
	/* The token at work: a OneSpan callback stored, auth=oauth. */
	post(&req, PKG);
	snprintf(auth, sizeof(auth), "Bearer %s", t1);
	req.authorization = auth;
	req.now = 1800000000;
	T_EQ_INT(serve(&out, &req, &cfg, &sp), 200);
	T_EQ_STR(out.auth, "oauth");
	T_EQ_INT(strlen(out.id), EH_ID_LEN);
	T_EQ_INT(t_count_files(newdir), 1);
	req.authorization = "Basic " KEY;
	post(&req, "{\"name\":\"X\",\"packageId\":\"basic\"}");
	T_EQ_INT(serve(&out, &req, &cfg, &sp), 200);
	T_EQ_STR(out.auth, "basic");
	eh_spool_close(&sp);
	eh_config_free(&cfg);
	t_rmtree(dir);
	free(dir);
}

const struct t_case t_serve[] = {
	{ "store, dedupe, health", store_and_health },
	{ "spool failures answer 503 and recover", spool_failures },
	{ "rejected requests never reach the spool", rejected_touches_nothing },
	{ "the body is read only after authentication", body_after_auth },
	{ "authenticated problems are stored, 200", stored_with_problems },
	{ "a spool moved and replaced: events and health follow the path", spool_moved },
	{ "CGI handles count new/ on a sample of deliveries", cgi_sampling },
	{ "token requests: bounded, a nonce each, never the spool", token_requests },
	{ NULL, NULL }
};
