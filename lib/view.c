/*
 * Looking at the spool: what esignhookctl list, show and stats print,
 * made into strings here and printed by cgi/ctl-view.c.  The formatting
 * functions are pure (a clock reading comes in as now_ms); the few that
 * read the spool (entries, stats, ages for purge) only read it, and
 * eh_view_write_file writes the one file it is given.
 *
 * What reaches a terminal never carries control characters: records and
 * states are JSON from the receiver and the drainer, but a packageId
 * may hold ESC as well as anything else, so every C0, DEL and C1
 * character is shown as \u00XX.  No secret is in any of it: records
 * hold none, and a state's last_error is written secret-free.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "esignhook.h"
#include "extern.h"

/* Table columns wider than this stop widening the others. */
#define CELL_MAX 40

/* ---- a growing string ---- */

struct buf {
	char *p;
	size_t len, cap;
	int nomem;
};

static void
b_grow(struct buf *b, size_t more)
{
	char *np;
	size_t cap;

	if (b->nomem)
		return;
	if (b->len + more + 1 <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + more + 1)
		cap *= 2;
	np = realloc(b->p, cap);
	if (np == NULL) {
		b->nomem = 1;
		return;
	}
	b->p = np;
	b->cap = cap;
}

static void
b_add(struct buf *b, const char *s, size_t n)
{
	b_grow(b, n);
	if (b->nomem)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
b_str(struct buf *b, const char *s)
{
	b_add(b, s, strlen(s));
}

static void b_fmt(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
b_fmt(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->nomem = 1;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		b_add(b, small, (size_t)n);
		return;
	}
	b_grow(b, (size_t)n);
	if (b->nomem)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void
b_pad(struct buf *b, size_t n)
{
	while (n-- > 0)
		b_add(b, " ", 1);
}

/* Hand the string over to *out: EH_OK, or EH_ERR_NOMEM (freed). */
static enum eh_err
b_done(struct buf *b, char **out)
{
	if (b->nomem || b->p == NULL) {
		free(b->p);
		*out = NULL;
		return EH_ERR_NOMEM;
	}
	*out = b->p;
	return EH_OK;
}

/*
 * Append s with every control character (C0 but, with keep_nl, '\n';
 * DEL; C1, which arrives as UTF-8 0xC2 0x80..0x9F) as \u00XX, which
 * inside a JSON string is the same character.  Returns the number of
 * characters shown, for column widths.
 */
static size_t
b_safe(struct buf *b, const char *s, size_t n, int keep_nl)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, w = 0;

	for (i = 0; i < n; i++) {
		if ((u[i] < 0x20 && !(keep_nl && u[i] == '\n')) ||
		    u[i] == 0x7f) {
			b_fmt(b, "\\u%04X", u[i]);
			w += 6;
		} else if (u[i] == 0xc2 && i + 1 < n && u[i + 1] >= 0x80 &&
		    u[i + 1] <= 0x9f) {
			b_fmt(b, "\\u%04X", u[i + 1]);
			i++;
			w += 6;
		} else {
			b_add(b, s + i, 1);
			/* UTF-8 continuation bytes take no column. */
			if ((u[i] & 0xc0) != 0x80)
				w++;
		}
	}
	return w;
}

/* The width s takes once made safe. */
static size_t
safe_width(const char *s)
{
	struct buf b = { NULL, 0, 0, 0 };
	size_t w;

	w = b_safe(&b, s, strlen(s), 0);
	free(b.p);
	return w;
}

/* ---- ages ---- */

void
eh_view_age(char *buf, size_t bufsz, int64_t ms)
{
	int64_t s = ms / 1000;

	if (ms < 0)
		snprintf(buf, bufsz, "-");
	else if (s < 60)
		snprintf(buf, bufsz, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, bufsz, "%lldm", (long long)(s / 60));
	else if (s < 86400)
		snprintf(buf, bufsz, "%lldh", (long long)(s / 3600));
	else
		snprintf(buf, bufsz, "%lldd", (long long)(s / 86400));
}

/* How old the event named id is at now_ms, or -1 (not an id). */
static int64_t
id_age(const char *id, int64_t now_ms)
{
	int64_t t = eh_id_time_ms(id);

	if (t < 0)
		return -1;
	return now_ms > t ? now_ms - t : 0;
}

/* When the next attempt is, for people: "in 5m", "due", "-". */
static void
next_text(char *buf, size_t bufsz, int64_t next_ms, int64_t now_ms)
{
	char age[16];

	if (next_ms <= 0)
		snprintf(buf, bufsz, "-");
	else if (next_ms <= now_ms)
		snprintf(buf, bufsz, "due");
	else {
		eh_view_age(age, sizeof(age), next_ms - now_ms);
		snprintf(buf, bufsz, "in %s", age);
	}
}

/* ---- entries ---- */

static char *
dup_or_null(const char *s)
{
	return s != NULL ? eh__strndup(s, strlen(s)) : NULL;
}

void
eh_view_entry_free(struct eh_view_entry *e)
{
	free(e->id);
	free(e->provider);
	free(e->event);
	free(e->transaction_id);
	free(e->received_at);
	memset(e, 0, sizeof(*e));
}

enum eh_err
eh_view_entry_make(struct eh_view_entry *e, const char *id, enum eh_folder f,
    const char *rec, size_t len, const struct eh_qstate *st)
{
	struct eh_record r;

	memset(e, 0, sizeof(*e));
	e->folder = f;
	if (st != NULL)
		e->st = *st;
	e->id = dup_or_null(id);
	if (e->id == NULL)
		return EH_ERR_NOMEM;
	/* A record that does not parse is listed with what is known. */
	if (rec == NULL || eh_record_parse(&r, rec, len) != EH_OK)
		return EH_OK;
	e->provider = dup_or_null(r.provider);
	e->event = dup_or_null(r.event);
	e->transaction_id = dup_or_null(r.transaction_id);
	e->received_at = dup_or_null(r.received_at);
	/* A record stored with problems may have a null event or
	 * transaction_id: shown as "-" (null in --json). */
	if (e->provider == NULL || (r.event != NULL && e->event == NULL) ||
	    (r.transaction_id != NULL && e->transaction_id == NULL) ||
	    e->received_at == NULL) {
		eh_record_free(&r);
		eh_view_entry_free(e);
		return EH_ERR_NOMEM;
	}
	eh_record_free(&r);
	return EH_OK;
}

enum eh_err
eh_view_entry_load(struct eh_view_entry *e, struct eh_queue *q,
    enum eh_folder f, const char *id)
{
	struct eh_qstate st;
	enum eh_err err;
	char *rec;
	size_t len;

	memset(e, 0, sizeof(*e));
	err = eh_queue_record(q, f, id, &rec, &len);
	if (err == EH_ERR_FIELD_MISSING)
		return err;     /* moved on since the folder was read */
	if (err != EH_OK)
		rec = NULL;     /* unreadable: listed all the same */
	if (eh_queue_state(q, f, id, &st) != EH_OK)
		memset(&st, 0, sizeof(st));
	err = eh_view_entry_make(e, id, f, rec, len, &st);
	free(rec);
	return err;
}

/* The state's next attempt as RFC 3339, or NULL (into buf[32]). */
static const char *
next_at(char buf[32], const struct eh_qstate *st)
{
	if (st->next_at_ms <= 0)
		return NULL;
	eh_rfc3339(buf, 32, st->next_at_ms);
	return buf;
}

static const char *
last_error(const struct eh_qstate *st)
{
	return st->last_error[0] != '\0' ? st->last_error : NULL;
}

/* json, compact, ASCII only (safe on a terminal), and "\n". */
static enum eh_err
dump_line(char **out, json_t *json)
{
	char *text, *p;
	size_t n;

	*out = NULL;
	if (json == NULL)
		return EH_ERR_NOMEM;
	text = json_dumps(json, JSON_COMPACT | JSON_ENSURE_ASCII |
	    JSON_PRESERVE_ORDER);
	json_decref(json);
	if (text == NULL)
		return EH_ERR_NOMEM;
	n = strlen(text);
	p = realloc(text, n + 2);
	if (p == NULL) {
		free(text);
		return EH_ERR_NOMEM;
	}
	p[n] = '\n';
	p[n + 1] = '\0';
	*out = p;
	return EH_OK;
}

enum eh_err
eh_view_entry_json(char **out, const struct eh_view_entry *e)
{
	char next[32];

	return dump_line(out, json_pack(
	    "{s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:I, s:s?, s:s?}",
	    "id", e->id, "folder", eh_folder_name(e->folder),
	    "provider", e->provider, "event", e->event,
	    "transaction_id", e->transaction_id,
	    "received_at", e->received_at,
	    "attempts", (json_int_t)e->st.attempts,
	    "next_attempt_at", next_at(next, &e->st),
	    "last_error", last_error(&e->st)));
}

/* ---- the table ---- */

enum {
	C_ID, C_AGE, C_FOLDER, C_PROVIDER, C_EVENT, C_TX, C_ATTEMPTS,
	C_NEXT, C_ERROR, C__MAX
};

static const char *const col_names[C__MAX] = {
	"ID", "AGE", "FOLDER", "PROVIDER", "EVENT", "TRANSACTION",
	"ATTEMPTS", "NEXT", "LAST ERROR"
};

/* Entry e's cells (borrowed, or in the caller's small buffers). */
static void
cells(const char *c[C__MAX], char age[16], char att[16], char nxt[32],
    const struct eh_view_entry *e, int64_t now_ms)
{
	eh_view_age(age, 16, id_age(e->id, now_ms));
	snprintf(att, 16, "%u", e->st.attempts);
	next_text(nxt, 32, e->st.next_at_ms, now_ms);
	c[C_ID] = e->id;
	c[C_AGE] = age;
	c[C_FOLDER] = eh_folder_name(e->folder);
	c[C_PROVIDER] = e->provider != NULL ? e->provider : "-";
	c[C_EVENT] = e->event != NULL ? e->event : "-";
	c[C_TX] = e->transaction_id != NULL ? e->transaction_id : "-";
	c[C_ATTEMPTS] = att;
	c[C_NEXT] = nxt;
	c[C_ERROR] = last_error(&e->st) != NULL ? e->st.last_error : "-";
}

/* One line: each cell padded to its column but the last. */
static void
row(struct buf *b, const char *const c[C__MAX], const size_t width[C__MAX])
{
	size_t k, w;

	for (k = 0; k < C__MAX; k++) {
		w = b_safe(b, c[k], strlen(c[k]), 0);
		if (k + 1 == C__MAX)
			break;
		b_pad(b, (w < width[k] ? width[k] - w : 0) + 2);
	}
	b_add(b, "\n", 1);
}

enum eh_err
eh_view_table(char **out, const struct eh_view_entry *e, size_t n,
    int64_t now_ms)
{
	struct buf b = { NULL, 0, 0, 0 };
	const char *c[C__MAX];
	char age[16], att[16], nxt[32];
	size_t width[C__MAX], i, k, w;

	for (k = 0; k < C__MAX; k++)
		width[k] = strlen(col_names[k]);
	for (i = 0; i < n; i++) {
		cells(c, age, att, nxt, &e[i], now_ms);
		for (k = 0; k < C__MAX; k++) {
			w = safe_width(c[k]);
			if (w > width[k] && w <= CELL_MAX)
				width[k] = w;
		}
	}
	row(&b, col_names, width);
	for (i = 0; i < n; i++) {
		cells(c, age, att, nxt, &e[i], now_ms);
		row(&b, c, width);
	}
	return b_done(&b, out);
}

/* ---- show ---- */

/* The record's bytes as a JSON object, or NULL. */
static json_t *
record_object(const char *rec, size_t len)
{
	json_error_t jerr;
	json_t *j;

	if (rec == NULL)
		return NULL;
	j = json_loadb(rec, len, JSON_REJECT_DUPLICATES, &jerr);
	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* The names of the actions st says are done, as a JSON array. */
static json_t *
actions_array(const struct eh_qstate *st)
{
	json_t *a = json_array();
	size_t k;

	for (k = 0; a != NULL && eh_actions[k].name != NULL && k < 32; k++) {
		if (!(st->actions_done & (1u << k)))
			continue;
		if (json_array_append_new(a,
		    json_string(eh_actions[k].name)) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

enum eh_err
eh_view_show_json(char **out, enum eh_folder f, const char *rec, size_t len,
    const struct eh_qstate *st)
{
	json_t *r = record_object(rec, len), *done = actions_array(st);
	char next[32];

	*out = NULL;
	if (done == NULL) {
		json_decref(r);
		return EH_ERR_NOMEM;
	}
	if (r == NULL)
		r = json_null();
	/* "o" steals r and done, also when json_pack fails. */
	return dump_line(out, json_pack("{s:s, s:o, s:I, s:s?, s:s?, s:o}",
	    "folder", eh_folder_name(f), "record", r,
	    "attempts", (json_int_t)st->attempts,
	    "next_attempt_at", next_at(next, st),
	    "last_error", last_error(st), "actions_done", done));
}

/* "name:" padded so that every value starts in one column. */
static void
label(struct buf *b, const char *name)
{
	b_str(b, name);
	b_add(b, ":", 1);
	b_pad(b, 15 - strlen(name));
}

enum eh_err
eh_view_show_text(char **out, const char *id, enum eh_folder f,
    const char *rec, size_t len, const struct eh_qstate *st, int64_t now_ms)
{
	struct buf b = { NULL, 0, 0, 0 };
	json_t *r;
	char tmp[32], when[32], *text;
	size_t k, n = 0;

	label(&b, "id");
	b_safe(&b, id, strlen(id), 0);
	b_add(&b, "\n", 1);
	label(&b, "folder");
	b_fmt(&b, "%s\n", eh_folder_name(f));
	label(&b, "age");
	eh_view_age(tmp, sizeof(tmp), id_age(id, now_ms));
	b_fmt(&b, "%s\n", tmp);
	label(&b, "attempts");
	b_fmt(&b, "%u\n", st->attempts);
	label(&b, "next attempt");
	if (next_at(when, st) != NULL) {
		next_text(tmp, sizeof(tmp), st->next_at_ms, now_ms);
		b_fmt(&b, "%s (%s)\n", when, tmp);
	} else
		b_str(&b, "-\n");
	label(&b, "last error");
	if (last_error(st) != NULL)
		b_safe(&b, st->last_error, strlen(st->last_error), 0);
	else
		b_str(&b, "-");
	b_add(&b, "\n", 1);
	label(&b, "actions done");
	for (k = 0; eh_actions[k].name != NULL && k < 32; k++)
		if (st->actions_done & (1u << k))
			b_fmt(&b, "%s%s", n++ ? ", " : "", eh_actions[k].name);
	b_str(&b, n ? "\n" : "-\n");
	r = record_object(rec, len);
	if (r != NULL) {
		b_str(&b, "record:\n");
		text = json_dumps(r, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		json_decref(r);
		if (text == NULL)
			b.nomem = 1;
		else {
			/* jansson escaped C0 already; DEL and C1 remain. */
			b_safe(&b, text, strlen(text), 1);
			b_add(&b, "\n", 1);
			free(text);
		}
	} else if (rec != NULL) {
		b_fmt(&b, "record (not a JSON object, %zu bytes):\n", len);
		b_safe(&b, rec, len, 1);
		if (len == 0 || rec[len - 1] != '\n')
			b_add(&b, "\n", 1);
	} else
		b_str(&b, "record:        (unreadable)\n");
	return b_done(&b, out);
}

/* ---- stats ---- */

enum eh_err
eh_view_stats(struct eh_view_stats *s, struct eh_queue *q, int64_t now_ms)
{
	struct statvfs vfs;
	char **ids;
	size_t n, i;
	int64_t t, oldest = -1;
	enum eh_err err;
	int f;

	memset(s, 0, sizeof(*s));
	for (f = 0; f < EH_F__MAX; f++) {
		err = eh_queue_ids(q, (enum eh_folder)f, &ids, &n);
		if (err != EH_OK)
			return err;
		s->events[f] = n;
		if (f == EH_F_NEW || f == EH_F_RETRY)
			for (i = 0; i < n; i++) {
				t = eh_id_time_ms(ids[i]);
				if (t >= 0 && (oldest < 0 || t < oldest))
					oldest = t;
			}
		eh_ids_free(ids, n);
	}
	if (oldest >= 0 && now_ms > oldest)
		s->oldest_waiting_s = (now_ms - oldest) / 1000;
	if (fstatvfs(q->dirfd, &vfs) != 0) {
		q->sys_errno = errno;
		q->sys_op = "statvfs";
		return EH_ERR_SPOOL_IO;
	}
	s->free_bytes = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
	return EH_OK;
}

enum eh_err
eh_view_stats_text(char **out, const struct eh_view_stats *s)
{
	struct buf b = { NULL, 0, 0, 0 };
	char age[16];
	int f;

	for (f = 0; f < EH_F__MAX; f++) {
		label(&b, eh_folder_name((enum eh_folder)f));
		b_fmt(&b, "%lu\n", s->events[f]);
	}
	label(&b, "oldest waiting");
	if (s->events[EH_F_NEW] + s->events[EH_F_RETRY] == 0)
		b_str(&b, "-\n");
	else {
		eh_view_age(age, sizeof(age), s->oldest_waiting_s * 1000);
		b_fmt(&b, "%s (%lld s)\n", age, (long long)s->oldest_waiting_s);
	}
	label(&b, "free space");
	b_fmt(&b, "%llu bytes (%.1f GiB)\n", s->free_bytes,
	    (double)s->free_bytes / (1024.0 * 1024 * 1024));
	return b_done(&b, out);
}

enum eh_err
eh_view_stats_json(char **out, const struct eh_view_stats *s)
{
	/* json_int_t is signed: a file system over 8 EiB is not expected. */
	return dump_line(out, json_pack(
	    "{s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
	    "new", (json_int_t)s->events[EH_F_NEW],
	    "cur", (json_int_t)s->events[EH_F_CUR],
	    "retry", (json_int_t)s->events[EH_F_RETRY],
	    "done", (json_int_t)s->events[EH_F_DONE],
	    "failed", (json_int_t)s->events[EH_F_FAILED],
	    "oldest_waiting_seconds", (json_int_t)s->oldest_waiting_s,
	    "free_bytes", (json_int_t)s->free_bytes));
}

/*
 * The text exposition format (Prometheus, "Exposition formats"): HELP
 * and TYPE before each family's samples, gauges because every value
 * can go down; the base unit names the metric (_seconds, _bytes).
 */
enum eh_err
eh_view_stats_prom(char **out, const struct eh_view_stats *s)
{
	struct buf b = { NULL, 0, 0, 0 };
	int f;

	b_str(&b, "# HELP esignhook_spool_events Events in each folder of "
	    "the esignhook spool.\n"
	    "# TYPE esignhook_spool_events gauge\n");
	for (f = 0; f < EH_F__MAX; f++)
		b_fmt(&b, "esignhook_spool_events{folder=\"%s\"} %lu\n",
		    eh_folder_name((enum eh_folder)f), s->events[f]);
	b_fmt(&b, "# HELP esignhook_spool_oldest_waiting_seconds Age of the "
	    "oldest event waiting in new/ or retry/ (0 when none).\n"
	    "# TYPE esignhook_spool_oldest_waiting_seconds gauge\n"
	    "esignhook_spool_oldest_waiting_seconds %lld\n",
	    (long long)s->oldest_waiting_s);
	b_fmt(&b, "# HELP esignhook_spool_free_bytes Bytes available to "
	    "unprivileged users on the spool's file system.\n"
	    "# TYPE esignhook_spool_free_bytes gauge\n"
	    "esignhook_spool_free_bytes %llu\n", s->free_bytes);
	return b_done(&b, out);
}

/* ---- purge ---- */

enum eh_err
eh_view_older(struct eh_queue *q, enum eh_folder f, int64_t min_age_ms,
    int64_t now_ms, char ***ids, size_t *n)
{
	struct stat st;
	char name[300];
	size_t i, k = 0;
	int64_t changed;
	enum eh_err err;

	err = eh_queue_ids(q, f, ids, n);
	if (err != EH_OK)
		return err;
	for (i = 0; i < *n; i++) {
		snprintf(name, sizeof(name), "%s.json", (*ids)[i]);
		/* Gone since the folder was read: nothing to purge. */
		if (fstatat(q->fd[f], name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			free((*ids)[i]);
			continue;
		}
		/* rename(2) sets ctime: when it came into this folder. */
		changed = (int64_t)st.st_ctim.tv_sec * 1000 +
		    st.st_ctim.tv_nsec / 1000000;
		if (now_ms - changed >= min_age_ms)
			(*ids)[k++] = (*ids)[i];
		else
			free((*ids)[i]);
	}
	*n = k;
	return EH_OK;
}

/* ---- writing a file whole ---- */

/* What each step of eh_write_atomic is called in *op. */
static const char *const write_ops[EH_WSTEP__MAX] = {
	"create output file", "chmod output file", "write output file",
	"fsync output file", "close output file", "rename output file"
};

int
eh_view_write_file(const char *path, const char *buf, size_t len,
    const char **op)
{
	const char *slash = strrchr(path, '/'), *base;
	enum eh_wstep step;
	char *dir;
	int dfd, e;

	base = slash != NULL ? slash + 1 : path;
	*op = "output file name";
	if (*base == '\0') {
		errno = EISDIR;
		return -1;
	}
	if (slash == NULL)
		dir = eh__strndup(".", 1);
	else if (slash == path)
		dir = eh__strndup("/", 1);
	else
		dir = eh__strndup(path, (size_t)(slash - path));
	if (dir == NULL) {
		errno = ENOMEM;
		return -1;
	}
	*op = "open output directory";
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (dfd < 0)
		return -1;
	/* 0644 whatever the umask (esignhookctl's is 077): the file is
	 * for node exporter, another user, and holds no secret. */
	if (eh_write_atomic(dfd, base, buf, len, 0644, &step) != 0)
		*op = write_ops[step];
	else {
		*op = "fsync output directory";
		if (fsync(dfd) == 0) {
			close(dfd);
			return 0;
		}
	}
	e = errno;
	close(dfd);
	errno = e;
	return -1;
}
