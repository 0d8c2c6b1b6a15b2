/*
 * One request, start to end: the handler's decision, then the spool
 * (store, or check health), and what happened, for the log line.  The
 * only lib/ code that both decides and does I/O.
 */
#include <stdio.h>
#include <string.h>

#include "esignhook.h"
#include "extern.h"

/* Open sp on cfg->spool unless it is open there already. */
static enum eh_err
spool_ready(struct eh_spool *sp, const struct eh_config *cfg)
{
	if (cfg->spool == NULL)
		return EH_ERR_SPOOL_CONFIG;
	/* Reopen when the spool was removed under us (every thread keeps
	 * its own handle: each would otherwise fail once). */
	struct timespec last = sp->last;
	enum eh_err err;

	if (sp->path != NULL && strcmp(sp->path, cfg->spool) == 0 &&
	    eh_spool_alive(sp))
		return EH_OK;
	eh_spool_close(sp);
	err = eh_spool_open(sp, cfg->spool);
	/* Ids keep increasing across a reopen, whatever the clock did. */
	sp->last = last;
	return err;
}

void
eh_serve(struct eh_decision *d, struct eh_outcome *out,
    const struct eh_request *req, const struct eh_config *cfg,
    struct eh_spool *sp)
{
	enum eh_err err;

	memset(out, 0, sizeof(*out));
	(void)eh_handle(d, req, cfg);
	out->provider = d->provider == EH_PROVIDER_AUTO ? "-" :
	    eh_provider_name(d->provider);
	if (d->event.name != NULL)
		snprintf(out->event, sizeof(out->event), "%s", d->event.name);
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
