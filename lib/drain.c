/*
 * The drainer: claim each due event, run its actions in order, and move
 * it where eh_queue_next says.  The actions share one interface (struct
 * eh_action_def); adding one is a row in eh_actions[], not a branch here.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "esignhook.h"
#include "extern.h"

static const char *
download_events(const struct eh_ctl_config *cfg)
{
	if (cfg->download_dir == NULL)
		return NULL;
	return cfg->download_events != NULL ? cfg->download_events :
	    "PACKAGE_COMPLETE";
}

static const char *
exec_events(const struct eh_ctl_config *cfg)
{
	if (cfg->exec == NULL)
		return NULL;
	return cfg->exec_events != NULL ? cfg->exec_events : "*";
}

static const char *
forward_events(const struct eh_ctl_config *cfg)
{
	if (cfg->forward_url == NULL)
		return NULL;
	return cfg->forward_events != NULL ? cfg->forward_events : "*";
}

static const char *
publish_events(const struct eh_ctl_config *cfg)
{
	if (cfg->nats_url == NULL)
		return NULL;
	return cfg->nats_events != NULL ? cfg->nats_events : "*";
}

/* The order is the issue's: the zip exists before a script or a
 * forwarding target hears of the event; publishing comes last, so
 * that a consumer never sees an event the local actions still owe.
 * A new row goes at the end: actions_done's bits are these indexes. */
const struct eh_action_def eh_actions[] = {
	{ "download", download_events, eh_download_run },
	{ "exec", exec_events, eh_exec_run },
	{ "forward", forward_events, eh_forward_run },
	{ "publish", publish_events, eh_publish_run },
	{ NULL, NULL, NULL }
};

/* In [0.8, 1.2]: spreads the retries of events that failed together. */
static double
jitter(void)
{
	return 0.8 + (double)randombytes_uniform(400001) / 1000000.0;
}

/*
 * Run the actions an attempt still owes on a readable record; the
 * first failure ends it.  Returns the attempt's result; *action names
 * the failing (or last) action.
 */
static enum eh_result
run_actions(struct eh_drain *d, struct eh_claim *c,
    const struct eh_record *rec, struct eh_job *job, const char **action)
{
	const char *list;
	char *dl = NULL;
	enum eh_result r = EH_RES_OK;
	size_t k;

	for (k = 0; eh_actions[k].name != NULL; k++) {
		list = eh_actions[k].events(d->cfg);
		if (list == NULL || !eh_events_match(list, rec->event))
			continue;
		*action = eh_actions[k].name;
		if (!(c->st.actions_done & (1u << k))) {
			job->error[0] = '\0';
			job->retry_after_ms = 0;
			r = eh_actions[k].run(job);
			if (r != EH_RES_OK)
				break;
			c->st.actions_done |= 1u << k;
			/* A drainer killed now must not run it again. */
			if (eh_actions[k + 1].name != NULL)
				(void)eh_queue_save(d->q, c);
		}
		if (strcmp(eh_actions[k].name, "download") == 0 &&
		    rec->transaction_id != NULL && dl == NULL) {
			dl = eh_download_path(d->cfg, rec->transaction_id);
			job->download_path = dl;
		}
	}
	job->download_path = NULL;
	free(dl);
	return r;
}

/*
 * Claim one event and see it through; 1 processed, 0 not ours.  An
 * event sent to retry/ brings *next_due forward to its next attempt,
 * so that a follower wakes for it.
 */
static int
one(struct eh_drain *d, enum eh_folder from, const char *id,
    struct eh_drain_totals *t, size_t index, size_t total,
    int64_t *next_due)
{
	struct eh_drain_report rep;
	struct eh_record rec;
	struct eh_claim c;
	struct eh_next next;
	struct eh_job job;
	enum eh_result r;
	const char *action = NULL;
	int64_t t0 = eh_mono_ms();
	int rc, readable;

	rc = eh_queue_claim(d->q, from, id, eh_now_ms(), &c);
	if (rc <= 0)
		return rc;
	memset(&rep, 0, sizeof(rep));
	rep.id = id;
	rep.index = index;
	rep.total = total;
	if (rc == 2) {
		/* Not a record at all: the queue moved it to failed/. */
		rep.folder = EH_F_FAILED;
		rep.attempt = 1;
		rep.error = c.st.last_error;
		rep.ms = (long)(eh_mono_ms() - t0);
		t->failed++;
		if (d->report != NULL)
			d->report(d->ctx, &rep);
		return 1;
	}
	memset(&job, 0, sizeof(job));
	readable = eh_record_parse(&rec, c.buf, c.len) == EH_OK &&
	    strcmp(rec.id, c.id) == 0;
	if (!readable) {
		/* Never stop on one bad file, never retry it either. */
		r = EH_RES_PERM;
		snprintf(job.error, sizeof(job.error), "unreadable record");
	} else {
		job.rcfg = d->rcfg;
		job.cfg = d->cfg;
		job.rec = &rec;
		job.record = c.buf;
		job.record_len = c.len;
		job.attempt = c.st.attempts + 1;
		job.http = d->http;
		job.onespan = d->onespan;
		job.nats = d->nats;
		job.base_env = d->base_env;
		r = run_actions(d, &c, &rec, &job, &action);
	}
	eh_queue_next(&next, d->cfg, c.st.attempts, r, eh_now_ms(),
	    job.retry_after_ms, jitter());
	rep.event = readable ? rec.event : NULL;
	rep.action = action;
	rep.attempt = c.st.attempts + 1;
	rep.error = job.error[0] != '\0' ? job.error : NULL;
	c.st.attempts = next.attempts;
	c.st.next_at_ms = next.next_at_ms;
	snprintf(c.st.last_error, sizeof(c.st.last_error), "%s", job.error);
	c.st.updated_at_ms = eh_now_ms();
	rep.folder = next.folder;
	if (eh_queue_finish(d->q, &c, next.folder,
	    next.folder != EH_F_DONE || d->cfg->keep_done_ms > 0) != 0) {
		rep.folder = EH_F_CUR;
		rep.error = d->q->sys_op;
	}
	rep.ms = (long)(eh_mono_ms() - t0);
	if (rep.folder == EH_F_DONE)
		t->done++;
	else if (rep.folder == EH_F_RETRY) {
		t->retry++;
		if (*next_due == 0 || next.next_at_ms < *next_due)
			*next_due = next.next_at_ms;
	} else if (rep.folder == EH_F_FAILED)
		t->failed++;
	else
		t->stuck++;
	if (d->report != NULL)
		d->report(d->ctx, &rep);
	if (readable)
		eh_record_free(&rec);
	return 1;
}

struct todo {
	enum eh_folder from;
	char *id;
};

int
eh_drain_pass(struct eh_drain *d, struct eh_drain_totals *t,
    int64_t *next_due_ms)
{
	static const enum eh_folder order[] = { EH_F_CUR, EH_F_NEW, EH_F_RETRY };
	struct eh_qstate st;
	struct todo *todo = NULL;
	char **ids;
	size_t n, i, k, cnt = 0;
	int64_t now = eh_now_ms();
	int rc = 0;

	*next_due_ms = 0;
	for (k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		if (eh_queue_ids(d->q, order[k], &ids, &n) != EH_OK) {
			rc = -1;
			goto out;
		}
		struct todo *nt = realloc(todo, (cnt + n + 1) * sizeof(*todo));
		if (nt == NULL) {
			eh_ids_free(ids, n);
			rc = -1;
			goto out;
		}
		todo = nt;
		for (i = 0; i < n; i++) {
			if (order[k] == EH_F_RETRY &&
			    eh_queue_state(d->q, EH_F_RETRY, ids[i], &st) ==
			    EH_OK && st.next_at_ms > now) {
				if (*next_due_ms == 0 ||
				    st.next_at_ms < *next_due_ms)
					*next_due_ms = st.next_at_ms;
				free(ids[i]);
				continue;
			}
			todo[cnt].from = order[k];
			todo[cnt++].id = ids[i];
		}
		free(ids);
	}
	for (i = 0; i < cnt; i++) {
		if (d->stop != NULL && d->stop(d->ctx))
			break;
		if (one(d, todo[i].from, todo[i].id, t, i + 1, cnt,
		    next_due_ms) < 0) {
			rc = -1;
			break;
		}
	}
out:
	for (i = 0; i < cnt; i++)
		free(todo[i].id);
	free(todo);
	return rc;
}

/* Whether name is a shard of seen/: two lowercase hex digits. */
static int
seen_shard(const char *name)
{
	size_t i;

	for (i = 0; i < 2; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f')))
			return 0;
	return name[2] == '\0';
}

/*
 * Remove the markers of seen/ made before 'before' (lstat's mtime):
 * those in the shards, seen/<ab>/<key>, and those from before the
 * shards, seen/<key> (depth 0 only).  The shard directories stay: at
 * most 256 of them, and a receiver may be making a marker in one that
 * looks empty.  Dot-files stay too: seen/.lock, removed while a
 * receiver holds it, would let the next one lock a new file instead and
 * store a duplicate.
 */
static unsigned long
prune_seen(int dirfd, time_t before, int depth)
{
	DIR *dir;
	struct dirent *de;
	struct stat st;
	unsigned long n = 0;
	int sub;

	dir = eh__dir_open(dirfd);
	if (dir == NULL)
		return 0;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.' ||
		    fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (depth > 0 || !seen_shard(de->d_name))
				continue;
			sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY |
			    O_CLOEXEC | O_NOFOLLOW);
			if (sub >= 0) {
				n += prune_seen(sub, before, depth + 1);
				close(sub);
			}
			continue;
		}
		if (st.st_mtime < before &&
		    unlinkat(dirfd, de->d_name, 0) == 0)
			n++;
	}
	closedir(dir);
	return n;
}

/* How old a leftover of a crash (a state with no record beside it, a
 * state's temp file) must be before it goes: older than any move. */
#define ORPHAN_SECONDS 3600

/*
 * Remove from folder dirfd the states whose record is gone and the temp
 * files of states, made before 'before': a crash between the two
 * renames of a move leaves them, and nothing else would.
 */
static unsigned long
prune_orphans(int dirfd, time_t before)
{
	DIR *dir;
	struct dirent *de;
	struct stat st;
	char rec[300];
	unsigned long n = 0;
	size_t len;
	int orphan;

	dir = eh__dir_open(dirfd);
	if (dir == NULL)
		return 0;
	while ((de = readdir(dir)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.')
			orphan = strstr(de->d_name, ".state.") != NULL;
		else if (len > 6 && strcmp(de->d_name + len - 6, ".state") == 0) {
			snprintf(rec, sizeof(rec), "%.*s.json", (int)(len - 6),
			    de->d_name);
			orphan = fstatat(dirfd, rec, &st,
			    AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT;
		} else
			continue;
		if (orphan &&
		    fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_mtime < before && unlinkat(dirfd, de->d_name, 0) == 0)
			n++;
	}
	closedir(dir);
	return n;
}

unsigned long
eh_drain_prune(struct eh_drain *d, int64_t now)
{
	struct eh_spool sp;
	struct stat st;
	char **ids, name[EH_ID_LEN + 64];
	size_t n, i;
	unsigned long removed = 0;
	time_t before = (time_t)((now - d->cfg->keep_done_ms) / 1000);

	if (eh_queue_ids(d->q, EH_F_DONE, &ids, &n) == EH_OK) {
		for (i = 0; i < n; i++) {
			snprintf(name, sizeof(name), "%s.json", ids[i]);
			if (fstatat(d->q->fd[EH_F_DONE], name, &st,
			    AT_SYMLINK_NOFOLLOW) == 0 && st.st_ctime < before &&
			    eh_queue_remove(d->q, ids[i], EH_F_DONE) == 1)
				removed++;
		}
		eh_ids_free(ids, n);
	}
	removed += prune_seen(d->q->seenfd,
	    (time_t)((now - d->cfg->seen_keep_ms) / 1000), 0);
	for (i = EH_F_CUR; i < EH_F__MAX; i++)
		removed += prune_orphans(d->q->fd[i],
		    (time_t)(now / 1000) - ORPHAN_SECONDS);
	if (eh_spool_open(&sp, d->q->path) == EH_OK) {
		removed += eh_spool_clean_tmp(&sp, EH_SPOOL_STALE_SECONDS);
		eh_spool_close(&sp);
	}
	return removed;
}
