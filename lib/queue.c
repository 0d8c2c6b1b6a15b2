/*
 * The queue: the spool's folders as a work queue (README, "Processing").
 *   new/     the receiver's deliveries, oldest first by name
 *   cur/     claimed: each record held flock(2)ed by its drainer
 *   retry/   waiting for a next attempt, <id>.state says when
 *   done/    every action succeeded, pruned after ESIGNHOOK_KEEP_DONE
 *   failed/  dead letters, with their last error
 * A record keeps its name and bytes in every folder; it is moved with
 * rename(2), never rewritten.  Its state is a file of its own beside it,
 * replaced atomically (temp file, fsync, rename).  The one decision,
 * where an event goes after an attempt, is eh_queue_next (pure).
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "esignhook.h"
#include "extern.h"

/* A record this large is not the receiver's (its limit is 64 MiB). */
#define RECORD_MAX (80L * 1024 * 1024)
#define STATE_MAX (64 * 1024)

static const char *const folder_names[EH_F__MAX] = {
	"new", "cur", "retry", "done", "failed"
};

const char *
eh_folder_name(enum eh_folder f)
{
	return f < EH_F__MAX ? folder_names[f] : "?";
}

int
eh_folder_parse(const char *name)
{
	int i;

	for (i = 0; i < EH_F__MAX; i++)
		if (strcmp(name, folder_names[i]) == 0)
			return i;
	return -1;
}

/* ---- the decision ---- */

void
eh_queue_next(struct eh_next *out, const struct eh_ctl_config *cfg,
    unsigned attempts_before, enum eh_result r, int64_t now_ms,
    int64_t retry_after_ms, double jitter)
{
	int64_t delay, longest = 0;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->attempts = attempts_before;
	if (r == EH_RES_OK) {
		out->folder = EH_F_DONE;
		return;
	}
	out->attempts = attempts_before + 1;
	/* schedule_ms[k] is the wait before attempt k + 2: after the
	 * (k + 1)th failure.  None left, or a permanent failure: give up. */
	if (r == EH_RES_PERM || attempts_before >= cfg->schedule_n) {
		out->folder = EH_F_FAILED;
		return;
	}
	if (jitter < 0.8)
		jitter = 0.8;
	if (jitter > 1.2)
		jitter = 1.2;
	delay = (int64_t)((double)cfg->schedule_ms[attempts_before] * jitter);
	if (retry_after_ms > 0) {
		for (i = 0; i < cfg->schedule_n; i++)
			if (cfg->schedule_ms[i] > longest)
				longest = cfg->schedule_ms[i];
		delay = retry_after_ms < longest ? retry_after_ms : longest;
	}
	out->folder = EH_F_RETRY;
	out->next_at_ms = now_ms + delay;
}

/* ---- times ---- */

void
eh_rfc3339(char *buf, size_t bufsz, int64_t ms)
{
	struct tm tm;
	char date[32];
	time_t t = (time_t)(ms / 1000);

	/* Milliseconds, as received_at has them: retries may be that short. */
	gmtime_r(&t, &tm);
	if (strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		date[0] = '\0';
	snprintf(buf, bufsz, "%s.%03dZ", date, (int)(ms % 1000));
}

/* Seconds since the epoch of a UTC broken-down time. */
static int64_t
utc_seconds(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm);
}

static int
digits(const char *s, size_t n, int *out)
{
	size_t i;
	int v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int64_t
eh_id_time_ms(const char *id)
{
	int y, mo, d, h, mi, s, us;

	/* "20261122T113204.123456Z-<16 hex>" (eh_id_make). */
	if (strlen(id) != EH_ID_LEN || id[8] != 'T' || id[15] != '.' ||
	    id[22] != 'Z' || id[23] != '-' ||
	    digits(id, 4, &y) || digits(id + 4, 2, &mo) ||
	    digits(id + 6, 2, &d) || digits(id + 9, 2, &h) ||
	    digits(id + 11, 2, &mi) || digits(id + 13, 2, &s) ||
	    digits(id + 16, 6, &us) || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || s > 60)
		return -1;
	return utc_seconds(y, mo, d, h, mi, s) * 1000 + us / 1000;
}

/* "2026-11-22T11:36:59Z" or "...59.476Z" (UTC) to ms, or -1. */
static int64_t
parse_rfc3339(const char *t)
{
	int y, mo, d, h, mi, s, frac = 0;
	size_t n = strlen(t);

	if (n < 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' ||
	    t[13] != ':' || t[16] != ':' || t[n - 1] != 'Z' ||
	    digits(t, 4, &y) || digits(t + 5, 2, &mo) || digits(t + 8, 2, &d) ||
	    digits(t + 11, 2, &h) || digits(t + 14, 2, &mi) ||
	    digits(t + 17, 2, &s))
		return -1;
	if (n == 24 && (t[19] != '.' || digits(t + 20, 3, &frac)))
		return -1;
	if (n != 20 && n != 24)
		return -1;
	return utc_seconds(y, mo, d, h, mi, s) * 1000 + frac;
}

/* ---- the state file ---- */

enum eh_err
eh_qstate_parse(struct eh_qstate *st, const char *buf, size_t len)
{
	json_t *root, *next = NULL, *err = NULL, *done = NULL, *v;
	json_error_t jerr;
	json_int_t attempts = 0;
	const char *upd = NULL;
	size_t i, k;

	memset(st, 0, sizeof(*st));
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return EH_ERR_JSON;
	if (json_unpack_ex(root, &jerr, 0, "{s:I, s?o, s?o, s?o, s?s}",
	    "attempts", &attempts, "next_attempt_at", &next,
	    "last_error", &err, "actions_done", &done, "updated_at", &upd) != 0 ||
	    attempts < 0 || attempts > 1000000 ||
	    (next != NULL && !json_is_null(next) && !json_is_string(next)) ||
	    (err != NULL && !json_is_null(err) && !json_is_string(err)) ||
	    (done != NULL && !json_is_array(done))) {
		json_decref(root);
		return EH_ERR_FIELD_TYPE;
	}
	st->attempts = (unsigned)attempts;
	if (json_is_string(next))
		st->next_at_ms = parse_rfc3339(json_string_value(next));
	if (st->next_at_ms < 0)
		st->next_at_ms = 0;
	if (json_is_string(err))
		snprintf(st->last_error, sizeof(st->last_error), "%s",
		    json_string_value(err));
	if (upd != NULL && parse_rfc3339(upd) > 0)
		st->updated_at_ms = parse_rfc3339(upd);
	json_array_foreach(done, i, v) {
		if (!json_is_string(v))
			continue;
		/* Names, not bits, on disk: the table may grow. */
		for (k = 0; eh_actions[k].name != NULL && k < 32; k++)
			if (strcmp(eh_actions[k].name, json_string_value(v)) == 0)
				st->actions_done |= 1u << k;
	}
	json_decref(root);
	return EH_OK;
}

enum eh_err
eh_qstate_dump(const struct eh_qstate *st, char **out, size_t *len)
{
	json_t *root, *done;
	char next[32], upd[32], *text;
	size_t k;

	*out = NULL;
	*len = 0;
	done = json_array();
	if (done == NULL)
		return EH_ERR_NOMEM;
	for (k = 0; eh_actions[k].name != NULL && k < 32; k++)
		if (st->actions_done & (1u << k))
			json_array_append_new(done, json_string(eh_actions[k].name));
	eh_rfc3339(next, sizeof(next), st->next_at_ms);
	eh_rfc3339(upd, sizeof(upd), st->updated_at_ms);
	root = json_pack("{s:i, s:s?, s:s?, s:o, s:s}",
	    "attempts", (int)st->attempts,
	    "next_attempt_at", st->next_at_ms > 0 ? next : NULL,
	    "last_error", st->last_error[0] != '\0' ? st->last_error : NULL,
	    "actions_done", done, "updated_at", upd);
	if (root == NULL)
		return EH_ERR_NOMEM;
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (text == NULL)
		return EH_ERR_NOMEM;
	*len = strlen(text);
	*out = realloc(text, *len + 2);
	if (*out == NULL) {
		free(text);
		return EH_ERR_NOMEM;
	}
	(*out)[(*len)++] = '\n';
	(*out)[*len] = '\0';
	return EH_OK;
}

/* ---- opening ---- */

static int
qfail(struct eh_queue *q, const char *op)
{
	q->sys_errno = errno;
	q->sys_op = op;
	return -1;
}

void
eh_queue_init(struct eh_queue *q)
{
	int i;

	memset(q, 0, sizeof(*q));
	q->dirfd = q->tmpfd = q->seenfd = -1;
	for (i = 0; i < EH_F__MAX; i++)
		q->fd[i] = -1;
}

void
eh_queue_close(struct eh_queue *q)
{
	int i;

	for (i = 0; i < EH_F__MAX; i++)
		if (q->fd[i] >= 0)
			close(q->fd[i]);
	if (q->tmpfd >= 0)
		close(q->tmpfd);
	if (q->seenfd >= 0)
		close(q->seenfd);
	if (q->dirfd >= 0)
		close(q->dirfd);
	free(q->path);
	eh_queue_init(q);
}

static int
open_sub(struct eh_queue *q, const char *name, int *created)
{
	if (mkdirat(q->dirfd, name, 0700) == 0)
		*created = 1;
	else if (errno != EEXIST)
		return -1;
	return openat(q->dirfd, name,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
}

enum eh_err
eh_queue_open(struct eh_queue *q, const char *path)
{
	int i, created = 0;

	eh_queue_init(q);
	if (path == NULL || *path != '/')
		return EH_ERR_SPOOL_CONFIG;
	q->path = eh__strndup(path, strlen(path));
	if (q->path == NULL)
		return EH_ERR_NOMEM;
	q->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (q->dirfd < 0)
		goto bad;
	q->tmpfd = open_sub(q, "tmp", &created);
	if (q->tmpfd < 0)
		goto bad;
	q->seenfd = open_sub(q, "seen", &created);
	if (q->seenfd < 0)
		goto bad;
	for (i = 0; i < EH_F__MAX; i++) {
		q->fd[i] = open_sub(q, folder_names[i], &created);
		if (q->fd[i] < 0)
			goto bad;
	}
	if (created && fsync(q->dirfd) != 0)
		goto bad;
	return EH_OK;
bad:
	{
		int e = errno;

		eh_queue_close(q);
		q->sys_errno = e;
		q->sys_op = "open spool";
		return EH_ERR_SPOOL_IO;
	}
}

/* ---- reading ---- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
eh_ids_free(char **ids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

enum eh_err
eh_queue_ids(struct eh_queue *q, enum eh_folder f, char ***ids, size_t *n)
{
	DIR *d;
	struct dirent *de;
	char **v = NULL, **nv;
	size_t cnt = 0, cap = 0, len;

	*ids = NULL;
	*n = 0;
	d = eh__dir_open(q->fd[f]);
	if (d == NULL) {
		qfail(q, "read folder");
		return EH_ERR_SPOOL_IO;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL)
			break;
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len <= 5 ||
		    strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL)
				goto nomem;
			v = nv;
		}
		v[cnt] = eh__strndup(de->d_name, len - 5);
		if (v[cnt] == NULL)
			goto nomem;
		cnt++;
	}
	if (errno != 0) {
		/* A short list would look like an empty queue. */
		qfail(q, "read folder");
		closedir(d);
		eh_ids_free(v, cnt);
		return EH_ERR_SPOOL_IO;
	}
	closedir(d);
	if (cnt > 1)
		qsort(v, cnt, sizeof(*v), cmp_str);
	*ids = v;
	*n = cnt;
	return EH_OK;
nomem:
	closedir(d);
	eh_ids_free(v, cnt);
	return EH_ERR_NOMEM;
}

/* "<id>.json" / "<id>.state"; ids come from directory names or users. */
static int
name_of(char *buf, size_t bufsz, const char *id, const char *suffix)
{
	int n;

	if (*id == '\0' || *id == '.' || strchr(id, '/') != NULL)
		return -1;
	n = snprintf(buf, bufsz, "%s%s", id, suffix);
	return n < 0 || (size_t)n >= bufsz ? -1 : 0;
}

enum eh_err
eh_queue_find(struct eh_queue *q, const char *id, enum eh_folder *f)
{
	char name[256];
	struct stat st;
	int i;

	if (name_of(name, sizeof(name), id, ".json") != 0)
		return EH_ERR_FIELD_MISSING;
	for (i = 0; i < EH_F__MAX; i++)
		if (fstatat(q->fd[i], name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			*f = (enum eh_folder)i;
			return EH_OK;
		}
	return EH_ERR_FIELD_MISSING;
}

/* The state in folder f; with none there, a zero state. */
static int
state_at(struct eh_queue *q, enum eh_folder f, const char *id,
    struct eh_qstate *st)
{
	char name[256], *buf;
	size_t len;

	memset(st, 0, sizeof(*st));
	if (name_of(name, sizeof(name), id, ".state") != 0)
		return -1;
	if (eh__read_file(q->fd[f], name, O_NOFOLLOW, STATE_MAX, &buf,
	    &len) != 0)
		return errno == ENOENT ? 1 : qfail(q, "read state");
	/* A damaged state costs the count of attempts, not the event. */
	if (eh_qstate_parse(st, buf, len) != EH_OK)
		memset(st, 0, sizeof(*st));
	free(buf);
	return 0;
}

enum eh_err
eh_queue_state(struct eh_queue *q, enum eh_folder f, const char *id,
    struct eh_qstate *st)
{
	int rc = state_at(q, f, id, st);

	/* A claim moves the record, then its state: a crash between the
	 * two leaves the state in retry/. */
	if (rc == 1 && f == EH_F_CUR)
		rc = state_at(q, EH_F_RETRY, id, st);
	return rc < 0 ? EH_ERR_SPOOL_IO : EH_OK;
}

enum eh_err
eh_queue_record(struct eh_queue *q, enum eh_folder f, const char *id,
    char **buf, size_t *len)
{
	char name[256];

	*buf = NULL;
	*len = 0;
	if (name_of(name, sizeof(name), id, ".json") != 0)
		return EH_ERR_FIELD_MISSING;
	if (eh__read_file(q->fd[f], name, O_NOFOLLOW, RECORD_MAX, buf,
	    len) != 0) {
		if (errno == ENOENT)
			return EH_ERR_FIELD_MISSING;
		qfail(q, "read record");
		return EH_ERR_SPOOL_IO;
	}
	return EH_OK;
}

/* ---- moving ---- */

/* What each step of eh_write_atomic is called in q->sys_op. */
static const char *const state_ops[EH_WSTEP__MAX] = {
	"create state", "chmod state", "write state", "fsync state",
	"close state", "rename state"
};

/* Write st as dir's <id>.state atomically (the caller fsyncs dir). */
static int
write_state(struct eh_queue *q, int dir, const char *id,
    const struct eh_qstate *st)
{
	enum eh_wstep step;
	char name[256], *text;
	size_t len;
	int rc, e;

	if (name_of(name, sizeof(name), id, ".state") != 0)
		return -1;
	if (eh_qstate_dump(st, &text, &len) != EH_OK) {
		errno = ENOMEM;
		return qfail(q, "state");
	}
	rc = eh_write_atomic(dir, name, text, len, 0600, &step);
	e = errno;
	free(text);
	errno = e;
	return rc == 0 ? 0 : qfail(q, state_ops[step]);
}

/* Move <id>.state from one folder to another, if there is one. */
static int
move_state(struct eh_queue *q, enum eh_folder from, enum eh_folder to,
    const char *id)
{
	char name[256];

	if (name_of(name, sizeof(name), id, ".state") != 0)
		return -1;
	if (renameat(q->fd[from], name, q->fd[to], name) != 0 &&
	    errno != ENOENT)
		return qfail(q, "move state");
	return 0;
}

static void
drop_state(struct eh_queue *q, enum eh_folder f, const char *id)
{
	char name[256];

	if (name_of(name, sizeof(name), id, ".state") == 0)
		(void)unlinkat(q->fd[f], name, 0);
}

/* End a claim without moving the event: unlock, forget the record. */
static void
claim_release(struct eh_claim *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Why lock_record gave no descriptor. */
enum lock_fail {
	LOCK_ERROR,             /* the folder or the system: q->sys_op */
	LOCK_BUSY,              /* another drainer has it, or it is gone */
	LOCK_BAD                /* not a record: a symlink, a directory... */
};

/*
 * Open and lock dir's <id>.json, and check the name still holds the
 * file that was locked (another drainer may have moved it between our
 * open and our lock).  fd, or -1 with *why.
 */
static int
lock_record(struct eh_queue *q, enum eh_folder f, const char *name,
    enum lock_fail *why)
{
	struct stat a, b;
	int fd;

	*why = LOCK_ERROR;
	/* O_NONBLOCK: a FIFO must not hang the drainer in open(2). */
	fd = openat(q->fd[f], name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			*why = LOCK_BUSY;
		else if (errno == ELOOP || errno == EACCES || errno == EPERM ||
		    errno == ENXIO || errno == ENODEV)
			*why = LOCK_BAD;
		else
			qfail(q, "open record");
		return -1;
	}
	if (fstat(fd, &a) != 0) {
		close(fd);
		qfail(q, "stat record");
		return -1;
	}
	if (!S_ISREG(a.st_mode)) {
		close(fd);
		*why = LOCK_BAD;
		errno = 0;
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		if (errno == EWOULDBLOCK)
			*why = LOCK_BUSY;
		else
			qfail(q, "lock record");
		return -1;
	}
	if (fstatat(q->fd[f], name, &b, AT_SYMLINK_NOFOLLOW) != 0 ||
	    a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
		close(fd);
		*why = LOCK_BUSY;
		return -1;
	}
	return fd;
}

/*
 * Move what is not a record out of the way, into failed/ with its
 * reason: a drainer never stops on one bad file.  2, or 0 when it is
 * gone already, or -1.
 */
static int
quarantine(struct eh_queue *q, enum eh_folder from, const char *name,
    struct eh_claim *c, const char *why)
{
	if (from != EH_F_FAILED &&
	    renameat(q->fd[from], name, q->fd[EH_F_FAILED], name) != 0)
		return errno == ENOENT ? 0 : qfail(q, "move to failed/");
	memset(&c->st, 0, sizeof(c->st));
	c->st.attempts = 1;
	snprintf(c->st.last_error, sizeof(c->st.last_error), "%s", why);
	if (write_state(q, q->fd[EH_F_FAILED], c->id, &c->st) != 0 ||
	    fsync(q->fd[EH_F_FAILED]) != 0)
		return qfail(q, "fsync failed/");
	return 2;
}

int
eh_queue_claim(struct eh_queue *q, enum eh_folder from, const char *id,
    int64_t due_ms, struct eh_claim *c)
{
	enum lock_fail why;
	struct eh_qstate st;
	char name[256];
	int rc;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (name_of(name, sizeof(name), id, ".json") != 0 ||
	    strlen(id) >= sizeof(c->id))
		return 0;
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->fd = lock_record(q, from, name, &why);
	if (c->fd < 0) {
		if (why == LOCK_BAD)
			return quarantine(q, from, name, c, errno == 0 ?
			    "unreadable record (not a regular file)" :
			    errno == ELOOP ? "unreadable record (a symbolic link)" :
			    "unreadable record (cannot be opened)");
		return why == LOCK_BUSY ? 0 : -1;
	}
	/* Another drainer may have tried it since our listing, and put it
	 * back to wait: its time has not come. */
	if (from == EH_F_RETRY && state_at(q, EH_F_RETRY, id, &st) == 0 &&
	    st.next_at_ms > due_ms) {
		claim_release(c);
		return 0;
	}
	if (from != EH_F_CUR) {
		if (renameat(q->fd[from], name, q->fd[EH_F_CUR], name) != 0) {
			qfail(q, "claim");
			goto bad;
		}
		/* Events in new/ have no state: the receiver writes none. */
		if ((from != EH_F_NEW && move_state(q, from, EH_F_CUR, id) != 0) ||
		    fsync(q->fd[EH_F_CUR]) != 0) {
			qfail(q, "fsync cur/");
			goto bad;
		}
	}
	if (from != EH_F_NEW && eh_queue_state(q, EH_F_CUR, id, &c->st) != EH_OK)
		goto bad;
	if (lseek(c->fd, 0, SEEK_SET) != 0 ||
	    eh_read_fd(c->fd, RECORD_MAX, &c->buf, &c->len) != 0) {
		if (errno != EFBIG) {
			qfail(q, "read record");
			goto bad;
		}
		/* Larger than any record the receiver writes. */
		close(c->fd);
		c->fd = -1;
		rc = quarantine(q, EH_F_CUR, name, c,
		    "unreadable record (too large)");
		return rc == 0 ? -1 : rc;
	}
	return 1;
bad:
	/* What is in cur/ unlocked is the next drainer's, as if we died. */
	claim_release(c);
	return -1;
}

int
eh_queue_save(struct eh_queue *q, struct eh_claim *c)
{
	if (write_state(q, q->fd[EH_F_CUR], c->id, &c->st) != 0)
		return -1;
	if (fsync(q->fd[EH_F_CUR]) != 0)
		return qfail(q, "fsync cur/");
	return 0;
}

int
eh_queue_finish(struct eh_queue *q, struct eh_claim *c, enum eh_folder to,
    int keep)
{
	char name[256];
	int rc = -1;

	if (name_of(name, sizeof(name), c->id, ".json") != 0)
		goto out;
	if (to == EH_F_DONE && !keep) {
		if (unlinkat(q->fd[EH_F_CUR], name, 0) != 0) {
			qfail(q, "remove record");
			goto out;
		}
		drop_state(q, EH_F_CUR, c->id);
		rc = 0;
		goto out;
	}
	/* The new state first: a crash before the record follows leaves
	 * the record in cur/ with its old state, to be tried again.  An
	 * event done at its first attempt has nothing to say (its matching
	 * actions all ran, once): no state, one fsync less per event. */
	if ((to != EH_F_DONE || c->st.attempts > 0) &&
	    write_state(q, q->fd[to], c->id, &c->st) != 0)
		goto out;
	if (renameat(q->fd[EH_F_CUR], name, q->fd[to], name) != 0) {
		qfail(q, "move record");
		drop_state(q, to, c->id);
		goto out;
	}
	if (fsync(q->fd[to]) != 0) {
		qfail(q, "fsync folder");
		goto out;
	}
	drop_state(q, EH_F_CUR, c->id);
	rc = 0;
out:
	claim_release(c);
	return rc;
}

int
eh_queue_move(struct eh_queue *q, const char *id, enum eh_folder from,
    enum eh_folder to)
{
	enum lock_fail why;
	char name[256];
	int fd, rc = -1;

	if (from == to || name_of(name, sizeof(name), id, ".json") != 0)
		return 0;
	fd = lock_record(q, from, name, &why);
	if (fd < 0)
		return why == LOCK_ERROR ? -1 : 0;
	/* The record first: if that fails, its state stays with it. */
	if (renameat(q->fd[from], name, q->fd[to], name) != 0) {
		qfail(q, "move record");
		goto out;
	}
	if (to == EH_F_NEW)
		drop_state(q, from, id);  /* back to the start: fresh count */
	else if (move_state(q, from, to, id) != 0)
		goto out;
	if (fsync(q->fd[to]) != 0) {
		qfail(q, "fsync folder");
		goto out;
	}
	rc = 1;
out:
	close(fd);
	return rc;
}

int
eh_queue_remove(struct eh_queue *q, const char *id, enum eh_folder f)
{
	enum lock_fail why;
	char name[256];
	int fd, rc = 1;

	if (name_of(name, sizeof(name), id, ".json") != 0)
		return 0;
	fd = lock_record(q, f, name, &why);
	if (fd < 0) {
		/* What is not a record can go too: it is in the way. */
		if (why == LOCK_BAD && (unlinkat(q->fd[f], name, 0) == 0 ||
		    (errno == EISDIR &&
		    unlinkat(q->fd[f], name, AT_REMOVEDIR) == 0))) {
			drop_state(q, f, id);
			return 1;
		}
		return why == LOCK_ERROR ? -1 : 0;
	}
	if (unlinkat(q->fd[f], name, 0) != 0)
		rc = qfail(q, "remove record");
	else
		drop_state(q, f, id);
	close(fd);
	return rc;
}
