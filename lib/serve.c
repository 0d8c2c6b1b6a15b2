/*
 * One request, start to end: the handler's decision, then the spool
 * (store, or check health), and what happened, for the log line.  The
 * only lib/ code that both decides and does I/O.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "esignhook.h"
#include "extern.h"

/* Open sp on cfg->spool unless it is open there already. */
static enum eh_err
spool_ready(struct eh_spool *sp, const struct eh_config *cfg)
{
	if (cfg->spool == NULL)
		return EH_ERR_SPOOL_CONFIG;
	/* One stat per request: reopen when the spool was removed, or moved
	 * and replaced (mv spool spool.old; mkdir spool), under us, before
	 * an event lands where no reader looks (every thread keeps its own
	 * handle: each would otherwise fail once).  A sandboxed worker
	 * cannot reach the new directory: its reopen fails as "open spool",
	 * which the receiver answers 503 and restarts on. */
	if (sp->path != NULL && strcmp(sp->path, cfg->spool) == 0 &&
	    eh_spool_alive(sp))
		return EH_OK;
	/* Keeps the handle's count_sample (CGI) and its id clock. */
	return eh_spool_reopen(sp, cfg->spool);
}

/* The event's problems, "; " between them, for the log line. */
static void
problems_line(char *out, size_t cap, const struct eh_event *ev)
{
	size_t i, n = 0;
	int k;

	out[0] = '\0';
	for (i = 0; i < ev->problems.n && n < cap - 1; i++) {
		k = snprintf(out + n, cap - n, "%s%s", i > 0 ? "; " : "",
		    ev->problems.line[i]);
		if (k < 0)
			break;
		n += (size_t)k < cap - n ? (size_t)k : cap - 1 - n;
	}
	if (ev->problems.dropped > 0 && n < cap - 1)
		(void)snprintf(out + n, cap - n, "; %zu more",
		    ev->problems.dropped);
}

void
eh_serve(struct eh_decision *d, struct eh_outcome *out,
    struct eh_request *req, const struct eh_config *cfg,
    struct eh_spool *sp, eh_read_fn rd, void *rctx)
{
	enum eh_err err;

	memset(out, 0, sizeof(*out));
	(void)eh_handle_head(d, req, cfg);
	/* Authenticated: only now is the body read (an unauthenticated
	 * sender, however slow, holds nothing past its headers). */
	if (d->action == EH_ACT_READ) {
		if (rd != NULL && eh_read_body(req, &d->body, d->read_max > 0 ?
		    d->read_max : cfg->max_body, rd, rctx) != EH_OK)
			req->body_state = EH_BODY_IOERR;
		d->body_len = d->body != NULL ? req->body_len : 0;
		/* The randomness of a token to mint: only a token request
		 * draws any. */
		if (d->token_endpoint)
			randombytes_buf(req->nonce, sizeof(req->nonce));
		(void)eh_handle_body(d, req, cfg);
		if (d->token_endpoint)
			sodium_memzero(req->nonce, sizeof(req->nonce));
	}
	out->auth = d->auth;
	out->provider = d->provider == EH_PROVIDER_AUTO ? "-" :
	    eh_provider_name(d->provider);
	if (d->event.name != NULL)
		snprintf(out->event, sizeof(out->event), "%s", d->event.name);
	problems_line(out->problems, sizeof(out->problems), &d->event);
	/* A reply alone, a token request's always: the spool is not
	 * even opened. */
	if (d->action == EH_ACT_REPLY) {
		out->err = d->err;
		return;
	}
	err = spool_ready(sp, cfg);
	if (err == EH_OK) {
		if (d->action == EH_ACT_HEALTH) {
			err = eh_spool_health(sp, cfg);
		} else {
			err = eh_spool_admit(sp, cfg);
			if (err == EH_OK)
				err = eh_spool_put(sp, &d->event,
				    req->remote_addr, out->id,
				    &out->duplicate);
		}
	}
	if (err == EH_OK)
		return;
	out->err = err;
	out->sys_errno = sp->sys_errno;
	out->sys_op = sp->sys_op;
	/* An I/O error may mean the spool was deleted or remounted: start
	 * afresh on the next request instead of failing until restart. */
	if (err == EH_ERR_SPOOL_IO)
		eh_spool_close(sp);
	(void)eh_decision_fail(d, err);
}
