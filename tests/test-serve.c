/* lib/serve.c: decision plus spool, as the receiver runs it. */
#include <stdlib.h>
#include <unistd.h>

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
	memset(sp, 0, sizeof(*sp));
	sp->dirfd = sp->tmpfd = sp->newfd = sp->seenfd = -1;
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
serve(struct eh_outcome *out, const struct eh_request *req,
    const struct eh_config *cfg, struct eh_spool *sp)
{
	struct eh_decision d;
	int status;

	eh_serve(&d, out, req, cfg, sp);
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

const struct t_case t_serve[] = {
	{ "store, dedupe, health", store_and_health },
	{ "spool failures answer 503 and recover", spool_failures },
	{ "rejected requests never reach the spool", rejected_touches_nothing },
	{ NULL, NULL }
};
