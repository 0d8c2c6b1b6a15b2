/* lib/journal.c: frames, group commit through eh_spool_put, recovery. */
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../lib/esignhook.h"
#include "../lib/extern.h"
#include "t.h"

#define MAXF 16                 /* frames or segments a test looks at */

static char *
sub(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static void
form_event(struct eh_event *ev, const char *body)
{
	struct eh_form f;

	T_EQ_INT(eh_form_parse(&f, body, strlen(body)), EH_OK);
	T_EQ_INT(eh_alphatrust_parse(ev, &f, NULL), EH_OK);
	eh_form_free(&f);
}

static int
write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	int rc;

	if (f == NULL)
		return -1;
	rc = fwrite(buf, 1, len, f) == len ? 0 : -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

/* A record as the receiver stores it, its id made from k. */
static char *
mkrec(unsigned k, char id[EH_ID_LEN + 1], size_t *len)
{
	struct timespec when = { 1790000000 + (time_t)k, (long)k * 1000 };
	unsigned char rnd[8];
	struct eh_event ev;
	char body[64], *rec = NULL;

	memset(rnd, (int)(0x11 * (k + 1)), sizeof(rnd));
	eh__id_format(id, &when, rnd);
	snprintf(body, sizeof(body), "TransID=%u&EventType=transaction", k);
	form_event(&ev, body);
	T_EQ_INT(eh_record_build(&rec, len, &ev, id, &when, "192.0.2.7"),
	    EH_OK);
	eh_event_free(&ev);
	return rec;
}

/* Append the frame of rec to buf[*n..), growing it. */
static unsigned char *
frame_append(unsigned char *buf, size_t *n, const char *id, const char *rec,
    size_t len)
{
	unsigned char *p = realloc(buf, *n + EH__JFRAME_HEAD + len);

	if (p == NULL)
		abort();
	eh__jframe_head(p + *n, id, rec, len);
	memcpy(p + *n + EH__JFRAME_HEAD, rec, len);
	*n += EH__JFRAME_HEAD + len;
	return p;
}

/*
 * Read frames as recovery does: 1 if a whole, good frame starts at
 * buf[0..n) (its id and length out), 0 at the end, -1 for a torn or
 * corrupt one.
 */
static int
frame_next(const unsigned char *buf, size_t n, char id[EH_ID_LEN + 1],
    size_t *len)
{
	if (n == 0)
		return 0;
	if (n < EH__JFRAME_HEAD || eh__jframe_parse(buf, id, len) != 0 ||
	    *len > n - EH__JFRAME_HEAD ||
	    !eh__jframe_check(buf, (const char *)buf + EH__JFRAME_HEAD, *len))
		return -1;
	return 1;
}

/* The segment files of dir/journal, sorted; how many. */
static int
cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

static size_t
segments(const char *dir, char names[MAXF][256])
{
	char *j = sub(dir, "journal");
	struct dirent *de;
	DIR *d;
	size_t n = 0, l;

	d = opendir(j);
	free(j);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		l = strlen(de->d_name);
		if (l > 4 && strcmp(de->d_name + l - 4, ".seg") == 0 &&
		    n < MAXF)
			snprintf(names[n++], 256, "%s", de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_name);
	return n;
}

/* How many of dir's segments hold any bytes. */
static size_t
segments_with_data(const char *dir)
{
	char names[MAXF][256], rel[300], *p;
	struct stat st;
	size_t n, i, full = 0;

	n = segments(dir, names);
	for (i = 0; i < n; i++) {
		snprintf(rel, sizeof(rel), "journal/%s", names[i]);
		p = sub(dir, rel);
		if (stat(p, &st) == 0 && st.st_size > 0)
			full++;
		free(p);
	}
	return full;
}

/* Whether dir/folder/<id>.json holds exactly rec[0..len). */
static int
holds(const char *dir, const char *folder, const char *id, const char *rec,
    size_t len)
{
	char rel[128], *p, *buf;
	size_t n;
	int same;

	snprintf(rel, sizeof(rel), "%.16s/%.40s.json", folder, id);
	p = sub(dir, rel);
	buf = t_read_file(p, &n);
	free(p);
	if (buf == NULL)
		return 0;
	same = n == len && memcmp(buf, rec, len) == 0;
	free(buf);
	return same;
}

static int
exists(const char *dir, const char *folder, const char *id)
{
	char rel[128], *p;
	int rc;

	snprintf(rel, sizeof(rel), "%.16s/%.40s.json", folder, id);
	p = sub(dir, rel);
	rc = access(p, F_OK) == 0;
	free(p);
	return rc;
}

/* ---- interposed calls ----
 *
 * Some failures cannot be made from outside (a writev that comes out
 * short, a syncfs that fails), and some races need a thread stopped at
 * a chosen call.  The unit binary defines these libc functions itself:
 * the library's calls come here, and go straight on to libc unless the
 * calling thread set a hook (a thread-local, so other threads and other
 * modules' tests are untouched).  Nothing in lib/ knows.
 */

enum sc { SC_WRITEV, SC_FSYNC, SC_SYNCFS, SC_OFD_LOCK, SC_FSTATAT,
    SC_UNLINKAT };

struct call {
	enum sc sc;
	int fd;                         /* the descriptor, or dirfd */
	const char *name;               /* fstatat, unlinkat */
	const struct iovec *iov;        /* writev */
	int iovcnt;
	struct stat *st;                /* fstatat */
	int flags;                      /* fstatat, unlinkat */
};

/* 1 if it made the call's result itself (*ret, errno), 0 for libc's. */
static _Thread_local int (*hook)(void *, const struct call *, long *);
static _Thread_local void *hook_ctx;

static struct {
	ssize_t (*writev)(int, const struct iovec *, int);
	int (*fsync)(int);
	int (*syncfs)(int);
	int (*fcntl)(int, int, ...);
	int (*fstatat)(int, const char *, struct stat *, int);
	int (*unlinkat)(int, const char *, int);
} real;
static pthread_once_t real_once = PTHREAD_ONCE_INIT;

static void
real_find(void)
{
	*(void **)&real.writev = dlsym(RTLD_NEXT, "writev");
	*(void **)&real.fsync = dlsym(RTLD_NEXT, "fsync");
	*(void **)&real.syncfs = dlsym(RTLD_NEXT, "syncfs");
	*(void **)&real.fcntl = dlsym(RTLD_NEXT, "fcntl");
	*(void **)&real.fstatat = dlsym(RTLD_NEXT, "fstatat");
	*(void **)&real.unlinkat = dlsym(RTLD_NEXT, "unlinkat");
	if (real.writev == NULL || real.fsync == NULL ||
	    real.syncfs == NULL || real.fcntl == NULL ||
	    real.fstatat == NULL || real.unlinkat == NULL)
		abort();
}

/* The hook's answer for c, or 0; not re-entered from its own calls. */
static int
hooked(const struct call *c, long *ret)
{
	int (*h)(void *, const struct call *, long *) = hook;
	int r;

	pthread_once(&real_once, real_find);
	if (h == NULL)
		return 0;
	hook = NULL;
	r = h(hook_ctx, c, ret);
	hook = h;
	return r;
}

ssize_t
writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct call c = { SC_WRITEV, fd, NULL, iov, iovcnt, NULL, 0 };
	long r;

	if (hooked(&c, &r))
		return r;
	return real.writev(fd, iov, iovcnt);
}

int
fsync(int fd)
{
	struct call c = { SC_FSYNC, fd, NULL, NULL, 0, NULL, 0 };
	long r;

	if (hooked(&c, &r))
		return (int)r;
	return real.fsync(fd);
}

int
syncfs(int fd)
{
	struct call c = { SC_SYNCFS, fd, NULL, NULL, 0, NULL, 0 };
	long r;

	if (hooked(&c, &r))
		return (int)r;
	return real.syncfs(fd);
}

/* Every fcntl(2) command takes one argument or none: passed on as is. */
int
fcntl(int fd, int cmd, ...)
{
	struct call c = { SC_OFD_LOCK, fd, NULL, NULL, 0, NULL, 0 };
	va_list ap;
	void *arg;
	long r;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (cmd == F_OFD_SETLK && hooked(&c, &r))
		return (int)r;
	pthread_once(&real_once, real_find);
	return real.fcntl(fd, cmd, arg);
}

int
fstatat(int fd, const char *name, struct stat *st, int flags)
{
	struct call c = { SC_FSTATAT, fd, name, NULL, 0, st, flags };
	long r;

	if (hooked(&c, &r))
		return (int)r;
	return real.fstatat(fd, name, st, flags);
}

int
unlinkat(int fd, const char *name, int flags)
{
	struct call c = { SC_UNLINKAT, fd, name, NULL, 0, NULL, flags };
	long r;

	if (hooked(&c, &r))
		return (int)r;
	return real.unlinkat(fd, name, flags);
}

/* Whether descriptor fd is dir/folder (folder NULL: dir itself). */
static int
fd_is(int fd, const char *dir, const char *folder)
{
	struct stat a, b;
	char *p = folder != NULL ? sub(dir, folder) : strdup(dir);
	int rc;

	rc = fstat(fd, &a) == 0 && stat(p, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino;
	free(p);
	return rc;
}

/* Whether descriptor fd is a file in dir/journal (by its /proc link). */
static int
fd_in_journal(int fd, const char *dir)
{
	char link[64], path[PATH_MAX], want[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0)
		return 0;
	path[n] = '\0';
	snprintf(want, sizeof(want), "%s/journal/", dir);
	return strncmp(path, want, strlen(want)) == 0;
}

static int
fd_is_dir(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * A point where a thread stops until the test lets it go.  The wait
 * for it to get there is bounded only so that a thread that never
 * does fails the test instead of hanging it.
 */
struct gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int reached, open;
};

static void
gate_init(struct gate *g)
{
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	g->reached = g->open = 0;
}

static void
gate_pass(struct gate *g)
{
	pthread_mutex_lock(&g->mu);
	g->reached = 1;
	pthread_cond_broadcast(&g->cv);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
}

/* 1 once a thread waits at g, 0 if none came within 30 s. */
static int
gate_reached(struct gate *g)
{
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 30;
	pthread_mutex_lock(&g->mu);
	while (!g->reached && rc == 0)
		rc = pthread_cond_timedwait(&g->cv, &g->mu, &until);
	rc = g->reached;
	pthread_mutex_unlock(&g->mu);
	return rc;
}

static void
gate_open(struct gate *g)
{
	pthread_mutex_lock(&g->mu);
	g->open = 1;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

static void
gate_free(struct gate *g)
{
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
}

/*
 * What the hook of one test does, and what it saw: journal writes cut
 * after the frame's head, syncfs failing, one stop at the first
 * fsync(2) of a directory or the first OFD lock, and a log of the syncs
 * and segment removals in order: 'S' syncfs, 's' a failed one, 'f'
 * fsync of a file, 'n' of dir/new, 'd' of another directory, 'u' a
 * segment unlinked.
 */
struct script {
	const char *dir;
	int short_writes;       /* writev calls still to cut short */
	int fail_syncfs;        /* syncfs calls still to fail (EIO) */
	int stop_dir_fsync;     /* stop at the next fsync of a directory */
	int stop_lock;          /* stop at the next OFD lock */
	struct gate gate;
	char log[128];
	size_t nlog;
};

static void
script_init(struct script *s, const char *dir)
{
	memset(s, 0, sizeof(*s));
	s->dir = dir;
	gate_init(&s->gate);
}

static void
script_log(struct script *s, char c)
{
	if (s->nlog + 1 < sizeof(s->log))
		s->log[s->nlog++] = c;
	s->log[s->nlog] = '\0';
}

static int
script_hook(void *ctx, const struct call *c, long *ret)
{
	struct script *s = ctx;
	size_t l;

	switch (c->sc) {
	case SC_WRITEV:
		if (s->short_writes == 0 || c->iovcnt < 1 ||
		    !fd_in_journal(c->fd, s->dir))
			return 0;
		/* The head goes in, the record does not: a torn frame, as
		 * when the disk fills mid-write. */
		s->short_writes--;
		*ret = write(c->fd, c->iov[0].iov_base, c->iov[0].iov_len);
		return 1;
	case SC_SYNCFS:
		if (s->fail_syncfs > 0) {
			s->fail_syncfs--;
			script_log(s, 's');
			errno = EIO;
			*ret = -1;
			return 1;
		}
		script_log(s, 'S');
		return 0;
	case SC_FSYNC:
		if (!fd_is_dir(c->fd))
			script_log(s, 'f');
		else
			script_log(s, fd_is(c->fd, s->dir, "new") ? 'n' : 'd');
		if (s->stop_dir_fsync && fd_is_dir(c->fd)) {
			s->stop_dir_fsync = 0;
			gate_pass(&s->gate);
		}
		return 0;
	case SC_OFD_LOCK:
		if (s->stop_lock && fd_in_journal(c->fd, s->dir)) {
			s->stop_lock = 0;
			gate_pass(&s->gate);
		}
		return 0;
	case SC_UNLINKAT:
		l = strlen(c->name);
		if (l > 4 && strcmp(c->name + l - 4, ".seg") == 0)
			script_log(s, 'u');
		return 0;
	default:
		return 0;
	}
}

static void
hook_set(struct script *s)
{
	hook_ctx = s;
	hook = s != NULL ? script_hook : NULL;
}

/* One eh__journal_commit in a thread of its own, under its script. */
struct committer {
	struct eh_journal *j;
	struct script *s;
	const char *dir;
	char id[EH_ID_LEN + 1];
	char *rec;
	size_t len;
	void *seg;
	enum eh_err err;
	pthread_t tid;
};

static void *
committer_main(void *arg)
{
	struct committer *c = arg;
	struct eh_spool sp;

	c->err = eh_spool_open(&sp, c->dir);
	if (c->err != EH_OK)
		return NULL;
	sp.journal = c->j;
	hook_set(c->s);
	c->err = eh__journal_commit(c->j, &sp, c->id, c->rec, c->len,
	    &c->seg);
	hook_set(NULL);
	sp.journal = NULL;
	eh_spool_close(&sp);
	return NULL;
}

static void
committer_start(struct committer *c, struct eh_journal *j, const char *dir,
    struct script *s, unsigned k)
{
	memset(c, 0, sizeof(*c));
	c->j = j;
	c->dir = dir;
	c->s = s;
	c->rec = mkrec(k, c->id, &c->len);
	c->err = EH_ERR_SPOOL_IO;
	T_EQ_INT(pthread_create(&c->tid, NULL, committer_main, c), 0);
}

/* Whether id is in a whole frame of some segment of dir, reading each
 * as recovery does: from its start up to the first frame not whole. */
static int
in_whole_frame(const char *dir, const char *id)
{
	char names[MAXF][256], rel[300], got[EH_ID_LEN + 1], *p, *buf;
	size_t n, i, len, at, blen;
	int found = 0;

	n = segments(dir, names);
	for (i = 0; i < n && !found; i++) {
		snprintf(rel, sizeof(rel), "journal/%s", names[i]);
		p = sub(dir, rel);
		buf = t_read_file(p, &blen);
		free(p);
		for (at = 0; buf != NULL && !found && frame_next(
		    (unsigned char *)buf + at, blen - at, got, &len) == 1;
		    at += EH__JFRAME_HEAD + len)
			found = strcmp(got, id) == 0;
		free(buf);
	}
	return found;
}

/* ---- frames ---- */

static const char good_id[] = "20261122T113204.123456Z-0123456789abcdef";

static void
frame_round_trip(void)
{
	static const size_t lens[] = { 0, 1, 63, 64, 65, 4096, 1024 * 1024 };
	unsigned char head[EH__JFRAME_HEAD];
	struct timespec when = { 1790000000, 123456000 };
	unsigned char rnd[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	char id[EH_ID_LEN + 1], got[EH_ID_LEN + 1], *rec;
	size_t i, j, len;

	T_EQ_INT(EH__JFRAME_HEAD, 64);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		rec = malloc(lens[i] + 1);
		for (j = 0; j < lens[i]; j++)
			rec[j] = (char)(j * 7 + i);
		rnd[7] = (unsigned char)i;
		eh__id_format(id, &when, rnd);
		eh__jframe_head(head, id, rec, lens[i]);
		T_CHECK(memcmp(head, "EHJ1", 4) == 0);
		T_EQ_INT(head[4] | head[5] << 8 | head[6] << 16 |
		    (uint32_t)head[7] << 24, lens[i]);
		T_CHECK(memcmp(head + 8, id, EH_ID_LEN) == 0);
		memset(got, 'x', sizeof(got));
		len = 12345;
		T_EQ_INT(eh__jframe_parse(head, got, &len), 0);
		T_EQ_STR(got, id);
		T_EQ_INT(len, lens[i]);
		T_CHECK(eh__jframe_check(head, rec, lens[i]));
		/* Another length, another byte: not this record. */
		if (lens[i] > 0) {
			T_CHECK(!eh__jframe_check(head, rec, lens[i] - 1));
			rec[lens[i] - 1] ^= 0x20;
			T_CHECK(!eh__jframe_check(head, rec, lens[i]));
		}
		rec[lens[i]] = '\0';
		T_CHECK(!eh__jframe_check(head, rec, lens[i] + 1));
		free(rec);
	}
}

/*
 * The format, byte for byte, so that other tools can read segments:
 * "EHJ1", length 11 little-endian, the id, then BLAKE2b-128 (no key)
 * of those 48 bytes and the record, computed apart with python's
 * hashlib.blake2b(head[:48] + rec, digest_size=16).
 */
static void
frame_known(void)
{
	static const unsigned char want[EH__JFRAME_HEAD] =
	    "EHJ1\x0b\x00\x00\x00"
	    "20261122T113204.123456Z-0123456789abcdef"
	    "\x96\x7b\x74\xd3\x75\xb8\x9a\x30"
	    "\x73\xb1\xc5\xfc\x70\x61\x8d\x93";
	unsigned char head[EH__JFRAME_HEAD];
	const char *rec = "{\"id\":\"x\"}\n";

	eh__jframe_head(head, good_id, rec, strlen(rec));
	T_CHECK(memcmp(head, want, sizeof(want)) == 0);
	T_CHECK(eh__jframe_check(want, rec, strlen(rec)));
}

/* Every single-bit flip of a frame, head or record, is caught. */
static void
frame_bit_flips(void)
{
	unsigned char *buf = NULL;
	char id[EH_ID_LEN + 1], got[EH_ID_LEN + 1], *rec;
	size_t n = 0, len, rlen, bit, caught = 0;

	rec = mkrec(1, id, &rlen);
	buf = frame_append(buf, &n, id, rec, rlen);
	T_EQ_INT(frame_next(buf, n, got, &len), 1);
	for (bit = 0; bit < n * 8; bit++) {
		buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		if (frame_next(buf, n, got, &len) == -1)
			caught++;
		else
			fprintf(stderr, "  bit %zu not caught\n", bit);
		buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
	}
	T_EQ_INT(caught, n * 8);
	T_EQ_INT(frame_next(buf, n, got, &len), 1);
	free(buf);
	free(rec);
}

/* Heads that must not parse: { offset, bytes } put on a good head. */
static const struct {
	const char *name;
	size_t at;
	const char *bytes;
	size_t n;
} bad_heads[] = {
	{ "magic EHJ2", 3, "2", 1 },
	{ "magic ehj1", 0, "ehj1", 4 },
	{ "magic NUL", 0, "\0\0\0\0", 4 },
	{ "length EH__JFRAME_MAX + 1", 4, "\x01\x00\x00\x05", 4 },
	{ "length 2^32 - 1", 4, "\xff\xff\xff\xff", 4 },
	{ "id '/'", 8 + 30, "/", 1 },
	{ "id NUL", 8 + 10, "\0", 1 },
	{ "id space", 8 + 0, " ", 1 },
	{ "id newline", 8 + 39, "\n", 1 },
	{ "id 0xff", 8 + 20, "\xff", 1 },
	{ "id '*'", 8 + 24, "*", 1 },
	{ "id path", 8, "../../../../../etc/passwd", 25 },
};

static void
frame_parse_rejects(void)
{
	unsigned char head[EH__JFRAME_HEAD], zeros[EH__JFRAME_HEAD];
	char got[EH_ID_LEN + 1];
	const char *rec = "{}\n";
	size_t i, len;

	/* EH__JFRAME_MAX itself is a length, one more is not. */
	T_EQ_INT(EH__JFRAME_MAX + 1, 0x05000001UL);
	eh__jframe_head(head, good_id, rec, 3);
	T_EQ_INT(eh__jframe_parse(head, got, &len), 0);
	memcpy(head + 4, "\x00\x00\x00\x05", 4);
	T_EQ_INT(eh__jframe_parse(head, got, &len), 0);
	T_EQ_INT(len, EH__JFRAME_MAX);
	for (i = 0; i < sizeof(bad_heads) / sizeof(bad_heads[0]); i++) {
		eh__jframe_head(head, good_id, rec, 3);
		memcpy(head + bad_heads[i].at, bad_heads[i].bytes,
		    bad_heads[i].n);
		/* A bad id written by eh__jframe_head: its checksum is
		 * right, the parse alone must say no. */
		if (bad_heads[i].at >= 8) {
			char id[EH_ID_LEN + 1];

			memcpy(id, head + 8, EH_ID_LEN);
			id[EH_ID_LEN] = '\0';
			eh__jframe_head(head, id, rec, 3);
			T_CHECK(eh__jframe_check(head, rec, 3));
		}
		if (eh__jframe_parse(head, got, &len) != -1) {
			fprintf(stderr, "  case %s\n", bad_heads[i].name);
			t_failed++;
		}
	}
	memset(zeros, 0, sizeof(zeros));
	T_EQ_INT(eh__jframe_parse(zeros, got, &len), -1);
	T_CHECK(!eh__jframe_check(zeros, "", 0));
}

/* ---- group commit through eh_spool_put ---- */

/* A spool in a fresh directory, its journal open and set on sp. */
static void
group_open(struct eh_spool *sp, struct eh_journal **j, const char *dir)
{
	char *p;
	struct stat st;

	T_EQ_INT(eh_spool_open(sp, dir), EH_OK);
	T_EQ_INT(eh_journal_open(j, sp), EH_OK);
	T_CHECK(*j != NULL);
	p = sub(dir, "journal");
	T_EQ_INT(stat(p, &st), 0);
	T_EQ_INT(st.st_mode & 07777, 0700);
	free(p);
	sp->journal = *j;
}

/* Read segment name of dir into frames (recs malloc'd, the caller's);
 * how many, or -1 if not every byte is in a whole frame. */
static int
read_segment(const char *dir, const char *name, char ids[MAXF][EH_ID_LEN + 1],
    char *recs[MAXF], size_t lens[MAXF])
{
	char rel[300], *p, *buf;
	size_t n, at = 0, len;
	int k = 0, r;

	snprintf(rel, sizeof(rel), "journal/%s", name);
	p = sub(dir, rel);
	buf = t_read_file(p, &n);
	free(p);
	if (buf == NULL)
		return -1;
	for (;;) {
		if (k == MAXF) {
			r = -1;
			break;
		}
		r = frame_next((unsigned char *)buf + at, n - at, ids[k], &len);
		if (r != 1)
			break;
		recs[k] = malloc(len + 1);
		memcpy(recs[k], buf + at + EH__JFRAME_HEAD, len);
		lens[k++] = len;
		at += EH__JFRAME_HEAD + len;
	}
	free(buf);
	if (r != 0) {
		while (k > 0)
			free(recs[--k]);
		return -1;
	}
	return k;
}

static void
group_put(void)
{
	enum { N = 5 };
	struct eh_spool sp;
	struct eh_journal *j;
	struct eh_journal_report rep;
	struct eh_event ev;
	struct flock fl;
	struct stat st;
	char *dir = t_tmpdir(), *newdir = sub(dir, "new"), *tmpdir =
	    sub(dir, "tmp"), id[N][EH_ID_LEN + 1], names[MAXF][256],
	    fids[MAXF][EH_ID_LEN + 1], *recs[MAXF], rel[300], *p, want[64];
	size_t lens[MAXF], nseg;
	int dup, i, k, fd;

	group_open(&sp, &j, dir);
	/* Made with the first event, not before. */
	T_EQ_INT(segments_with_data(dir), 0);
	form_event(&ev, "TransID=7&EventType=transaction");
	for (i = 0; i < N; i++) {
		T_EQ_INT(eh_spool_put(&sp, &ev, "192.0.2.1", id[i], &dup),
		    EH_OK);
		T_EQ_INT(dup, 0);
		/* In new/ at once, before any keeper step. */
		T_CHECK(exists(dir, "new", id[i]));
		T_EQ_INT(t_count_files(newdir), i + 1);
	}
	T_EQ_INT(t_count_files(tmpdir), 0);
	nseg = segments(dir, names);
	T_EQ_INT(nseg, 1);
	T_EQ_INT(segments_with_data(dir), 1);
	if (nseg >= 1) {
		/* <host>.<pid>.<seq>.seg, 0600, locked by its writer. */
		snprintf(want, sizeof(want), ".%ld.", (long)getpid());
		T_CHECK(strstr(names[0], want) != NULL);
		snprintf(rel, sizeof(rel), "journal/%s", names[0]);
		p = sub(dir, rel);
		T_EQ_INT(stat(p, &st), 0);
		T_EQ_INT(st.st_mode & 07777, 0600);
		fd = open(p, O_RDWR | O_CLOEXEC);
		T_CHECK(fd >= 0);
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_RDLCK;
		fl.l_whence = SEEK_SET;
		T_EQ_INT(fcntl(fd, F_OFD_SETLK, &fl), -1);
		T_CHECK(errno == EAGAIN || errno == EACCES);
		close(fd);
		free(p);
		k = read_segment(dir, names[0], fids, recs, lens);
		T_EQ_INT(k, N);
		for (i = 0; i < k && i < N; i++) {
			T_EQ_STR(fids[i], id[i]);
			T_CHECK(holds(dir, "new", id[i], recs[i], lens[i]));
			free(recs[i]);
		}
	}
	/* Too young for a seal: nothing goes. */
	memset(&rep, 0, sizeof(rep));
	T_EQ_INT(eh_journal_tick(j, 3600 * 1000, &rep), EH_OK);
	T_EQ_INT(rep.segments, 0);
	T_EQ_INT(segments_with_data(dir), 1);
	/* Old enough: sealed, synced, removed. */
	memset(&rep, 0, sizeof(rep));
	T_EQ_INT(eh_journal_tick(j, 0, &rep), EH_OK);
	T_EQ_INT(rep.segments, 1);
	T_EQ_INT(rep.records, 0);
	T_EQ_INT(rep.rewritten, 0);
	T_EQ_INT(rep.torn, 0);
	T_CHECK(rep.sys_op == NULL);
	T_EQ_INT(segments_with_data(dir), 0);
	/* At most the next segment, made ahead and empty. */
	T_CHECK(segments(dir, names) <= 1);
	T_EQ_INT(t_count_files(newdir), N);
	for (i = 0; i < N; i++)
		T_CHECK(exists(dir, "new", id[i]));
	/* Once more, then a clean stop: journal/ is empty. */
	T_EQ_INT(eh_spool_put(&sp, &ev, NULL, id[0], &dup), EH_OK);
	T_EQ_INT(segments_with_data(dir), 1);
	memset(&rep, 0, sizeof(rep));
	T_EQ_INT(eh_journal_close(j, &rep), EH_OK);
	T_EQ_INT(rep.segments, 1);
	T_EQ_INT(segments(dir, names), 0);
	p = sub(dir, "journal");
	T_EQ_INT(t_count_files(p), 0);
	free(p);
	T_EQ_INT(t_count_files(newdir), N + 1);
	T_EQ_INT(t_count_files(tmpdir), 0);
	T_EQ_INT(eh_journal_close(NULL, &rep), EH_OK);
	sp.journal = NULL;
	eh_event_free(&ev);
	eh_spool_close(&sp);
	t_rmtree(dir);
	free(newdir);
	free(tmpdir);
	free(dir);
}

/* A tick right after open, and a close with nothing appended, leave
 * nothing behind. */
static void
group_idle(void)
{
	struct eh_spool sp;
	struct eh_journal *j;
	struct eh_journal_report rep;
	char *dir = t_tmpdir(), *p = sub(dir, "journal");

	group_open(&sp, &j, dir);
	T_EQ_INT(eh_journal_tick(j, 0, &rep), EH_OK);
	T_EQ_INT(rep.segments, 0);
	T_EQ_INT(segments_with_data(dir), 0);
	T_EQ_INT(eh_journal_close(j, &rep), EH_OK);
	T_EQ_INT(rep.segments, 0);
	T_EQ_INT(t_count_files(p), 0);
	sp.journal = NULL;
	eh_spool_close(&sp);
	t_rmtree(dir);
	free(p);
	free(dir);
}

/*
 * The journal serves the new/ it was opened on: another handle on the
 * same spool (another thread's) stores through it; a handle on another
 * spool falls back to file mode.
 */
static void
group_other_spool(void)
{
	struct eh_spool a, a2, b;
	struct eh_journal *j;
	struct eh_journal_report rep;
	struct eh_event ev;
	char *da = t_tmpdir(), *db = t_tmpdir(), *bnew = sub(db, "new"),
	    id[EH_ID_LEN + 1], names[MAXF][256], fids[MAXF][EH_ID_LEN + 1],
	    *recs[MAXF];
	size_t lens[MAXF];
	int dup, k, i;

	group_open(&a, &j, da);
	T_EQ_INT(eh_spool_open(&a2, da), EH_OK);
	T_EQ_INT(eh_spool_open(&b, db), EH_OK);
	a2.journal = j;
	b.journal = j;
	T_CHECK(eh__journal_serves(j, &a));
	T_CHECK(eh__journal_serves(j, &a2));
	T_CHECK(!eh__journal_serves(j, &b));
	form_event(&ev, "TransID=8&EventType=transaction");
	T_EQ_INT(eh_spool_put(&b, &ev, NULL, id, &dup), EH_OK);
	T_CHECK(exists(db, "new", id));
	T_EQ_INT(t_count_files(bnew), 1);
	T_EQ_INT(segments_with_data(da), 0);
	T_EQ_INT(segments(db, names), 0);
	T_EQ_INT(eh_spool_put(&a2, &ev, NULL, id, &dup), EH_OK);
	T_CHECK(exists(da, "new", id));
	T_EQ_INT(segments_with_data(da), 1);
	if (segments(da, names) >= 1) {
		k = read_segment(da, names[0], fids, recs, lens);
		T_EQ_INT(k, 1);
		if (k >= 1)
			T_EQ_STR(fids[0], id);
		for (i = 0; i < k; i++)
			free(recs[i]);
	}
	T_EQ_INT(eh_journal_close(j, &rep), EH_OK);
	T_EQ_INT(segments_with_data(da), 0);
	a.journal = a2.journal = b.journal = NULL;
	eh_event_free(&ev);
	eh_spool_close(&a);
	eh_spool_close(&a2);
	eh_spool_close(&b);
	t_rmtree(da);
	t_rmtree(db);
	free(bnew);
	free(da);
	free(db);
}

/* OneSpan dedupe in group mode: the second delivery stores nothing. */
static void
group_dedupe(void)
{
	struct eh_spool sp;
	struct eh_journal *j;
	struct eh_journal_report rep;
	struct eh_event ev;
	const char *body = "{\"name\":\"PACKAGE_COMPLETE\",\"packageId\":\"p9\"}";
	char *dir = t_tmpdir(), *newdir = sub(dir, "new"),
	    id1[EH_ID_LEN + 1], id2[EH_ID_LEN + 1], names[MAXF][256],
	    fids[MAXF][EH_ID_LEN + 1], *recs[MAXF];
	size_t lens[MAXF];
	int dup, k, i;

	group_open(&sp, &j, dir);
	T_EQ_INT(eh_onespan_parse(&ev, body, strlen(body)), EH_OK);
	T_EQ_INT(eh_spool_put(&sp, &ev, NULL, id1, &dup), EH_OK);
	T_EQ_INT(dup, 0);
	T_EQ_INT(eh_spool_put(&sp, &ev, NULL, id2, &dup), EH_OK);
	T_EQ_INT(dup, 1);
	T_EQ_STR(id2, id1);
	T_EQ_INT(t_count_files(newdir), 1);
	if (segments(dir, names) >= 1) {
		k = read_segment(dir, names[0], fids, recs, lens);
		T_EQ_INT(k, 1);
		for (i = 0; i < k; i++)
			free(recs[i]);
	}
	T_EQ_INT(eh_journal_close(j, &rep), EH_OK);
	sp.journal = NULL;
	eh_event_free(&ev);
	eh_spool_close(&sp);
	t_rmtree(dir);
	free(newdir);
	free(dir);
}

/*
 * The new/ file could not be written (its tmp/ is a removed directory
 * for the request's handle): the request is still acknowledged, the
 * event is in the journal, and the keeper's tick writes it into new/
 * before it removes the segment.
 */
static void
group_replay(void)
{
	struct eh_spool sp;
	struct eh_journal *j;
	struct eh_journal_report rep;
	struct eh_event ev;
	char *dir = t_tmpdir(), *gone = sub(dir, "gone"), id[EH_ID_LEN + 1],
	    names[MAXF][256], fids[MAXF][EH_ID_LEN + 1], *recs[MAXF];
	size_t lens[MAXF];
	int dup, fd, k = 0, i;

	group_open(&sp, &j, dir);
	T_EQ_INT(mkdir(gone, 0700), 0);
	fd = open(gone, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	T_CHECK(fd >= 0);
	T_EQ_INT(rmdir(gone), 0);
	T_CHECK(dup2(fd, sp.tmpfd) == sp.tmpfd);
	close(fd);
	form_event(&ev, "TransID=9&EventType=transaction");
	T_EQ_INT(eh_spool_put(&sp, &ev, NULL, id, &dup), EH_OK);
	T_CHECK(!exists(dir, "new", id));
	if (segments(dir, names) >= 1)
		k = read_segment(dir, names[0], fids, recs, lens);
	T_EQ_INT(k, 1);
	memset(&rep, 0, sizeof(rep));
	T_EQ_INT(eh_journal_tick(j, 0, &rep), EH_OK);
	if (rep.sys_op != NULL)
		fprintf(stderr, "  tick: %s: %s\n", rep.sys_op,
		    strerror(rep.sys_errno));
	T_EQ_INT(rep.segments, 1);
	T_EQ_INT(rep.records, 1);
	T_EQ_INT(rep.rewritten, 1);
	if (k >= 1)
		T_CHECK(holds(dir, "new", id, recs[0], lens[0]));
	T_EQ_INT(segments_with_data(dir), 0);
	T_EQ_INT(eh_journal_close(j, &rep), EH_OK);
	/* Whatever the tick did, nothing is lost: what stays is
	 * recovery's. */
	T_EQ_INT(eh_journal_recover(&sp, &rep), EH_OK);
	if (k >= 1)
		T_CHECK(holds(dir, "new", id, recs[0], lens[0]));
	for (i = 0; i < k; i++)
		free(recs[i]);
	sp.journal = NULL;
	eh_event_free(&ev);
	eh_spool_close(&sp);
	t_rmtree(dir);
	free(gone);
	free(dir);
}

/*
 * Threads storing at once, each through its own handle, while the
 * keeper ticks as fast as it can (every segment due at once): every
 * event once in new/, and nothing left in journal/ after the close.
 */
enum { THREADS = 6, PUTS = 30 };

struct putter {
	const char *dir;
	struct eh_journal *j;
	char id[PUTS][EH_ID_LEN + 1];
	int errors;
};

static atomic_int writers_left;

static void *
putter_main(void *arg)
{
	struct putter *p = arg;
	struct eh_spool sp;
	struct eh_event ev;
	int dup, i;

	if (eh_spool_open(&sp, p->dir) != EH_OK) {
		p->errors++;
		atomic_fetch_sub(&writers_left, 1);
		return NULL;
	}
	sp.journal = p->j;
	form_event(&ev, "TransID=13&EventType=transaction");
	for (i = 0; i < PUTS; i++)
		if (eh_spool_put(&sp, &ev, NULL, p->id[i], &dup) != EH_OK ||
		    dup != 0)
			p->errors++;
	eh_event_free(&ev);
	eh_spool_close(&sp);
	atomic_fetch_sub(&writers_left, 1);
	return NULL;
}

struct keeper {
	struct eh_journal *j;
	unsigned removed;
	int errors;
};

static void *
keeper_main(void *arg)
{
	struct keeper *k = arg;
	struct eh_journal_report rep;
	struct timespec pause = { 0, 1000000 };

	while (atomic_load(&writers_left) > 0) {
		if (eh_journal_tick(k->j, 0, &rep) != EH_OK)
			k->errors++;
		k->removed += rep.segments;
		(void)nanosleep(&pause, NULL);
	}
	return NULL;
}

static void
group_threads(void)
{
	static struct putter p[THREADS];
	struct keeper k;
	struct eh_spool sp;
	struct eh_journal *j;
	struct eh_journal_report rep;
	pthread_t tid[THREADS], ktid;
	char *dir = t_tmpdir(), *newdir = sub(dir, "new"), *jdir =
	    sub(dir, "journal"), rel[128], *path, *buf;
	size_t t, i, len;

	group_open(&sp, &j, dir);
	atomic_store(&writers_left, THREADS);
	memset(&k, 0, sizeof(k));
	k.j = j;
	T_EQ_INT(pthread_create(&ktid, NULL, keeper_main, &k), 0);
	for (t = 0; t < THREADS; t++) {
		memset(&p[t], 0, sizeof(p[t]));
		p[t].dir = dir;
		p[t].j = j;
		T_EQ_INT(pthread_create(&tid[t], NULL, putter_main, &p[t]),
		    0);
	}
	for (t = 0; t < THREADS; t++)
		pthread_join(tid[t], NULL);
	pthread_join(ktid, NULL);
	T_EQ_INT(k.errors, 0);
	T_CHECK(k.removed > 0);
	T_EQ_INT(eh_journal_close(j, &rep), EH_OK);
	T_EQ_INT(t_count_files(jdir), 0);
	T_EQ_INT(t_count_files(newdir), THREADS * PUTS);
	for (t = 0; t < THREADS; t++) {
		T_EQ_INT(p[t].errors, 0);
		for (i = 0; i < PUTS; i++) {
			snprintf(rel, sizeof(rel), "new/%.40s.json",
			    p[t].id[i]);
			path = sub(dir, rel);
			buf = t_read_file(path, &len);
			T_CHECK(buf != NULL && len > 0 &&
			    strstr(buf, p[t].id[i]) != NULL);
			free(buf);
			free(path);
		}
	}
	sp.journal = NULL;
	eh_spool_close(&sp);
	t_rmtree(dir);
	free(newdir);
	free(jdir);
	free(dir);
}

struct publisher {
	struct eh_journal *j;
	atomic_int stop;
	unsigned long records;
	int errors;
};

static void *
publisher_main(void *arg)
{
	struct publisher *pb = arg;
	struct eh_journal_report rep;

	while (!atomic_load(&pb->stop)) {
		if (eh_journal_publish(pb->j, 20, &rep) != EH_OK)
			pb->errors++;
		pb->records += rep.records;
	}
	return NULL;
}

/*
 * With a publisher, threads are answered once synced and the publisher
 * writes every new/ file: all there, whole, after it stops and close.
 */
static void
group_publisher(void)
{
	static struct putter p[THREADS];
	struct publisher pb;
	struct keeper k;
	struct eh_spool sp;
	struct eh_journal *j;
	struct eh_journal_report rep;
	pthread_t tid[THREADS], ktid, ptid;
	char *dir = t_tmpdir(), *newdir = sub(dir, "new"), *jdir =
	    sub(dir, "journal"), rel[128], *path, *buf;
	size_t t, i, len;

	group_open(&sp, &j, dir);
	T_EQ_INT(eh_journal_set_publisher(j), EH_OK);
	atomic_store(&writers_left, THREADS);
	memset(&k, 0, sizeof(k));
	k.j = j;
	memset(&pb, 0, sizeof(pb));
	pb.j = j;
	T_EQ_INT(pthread_create(&ptid, NULL, publisher_main, &pb), 0);
	T_EQ_INT(pthread_create(&ktid, NULL, keeper_main, &k), 0);
	for (t = 0; t < THREADS; t++) {
		memset(&p[t], 0, sizeof(p[t]));
		p[t].dir = dir;
		p[t].j = j;
		T_EQ_INT(pthread_create(&tid[t], NULL, putter_main, &p[t]),
		    0);
	}
	for (t = 0; t < THREADS; t++)
		pthread_join(tid[t], NULL);
	pthread_join(ktid, NULL);
	atomic_store(&pb.stop, 1);
	pthread_join(ptid, NULL);
	T_EQ_INT(pb.errors, 0);
	T_EQ_INT(k.errors, 0);
	T_EQ_INT(eh_journal_close(j, &rep), EH_OK);
	/* What the publisher left, close wrote: every record once. */
	T_CHECK(pb.records <= THREADS * PUTS);
	T_EQ_INT(t_count_files(jdir), 0);
	T_EQ_INT(t_count_files(newdir), THREADS * PUTS);
	for (t = 0; t < THREADS; t++) {
		T_EQ_INT(p[t].errors, 0);
		for (i = 0; i < PUTS; i++) {
			snprintf(rel, sizeof(rel), "new/%.40s.json",
			    p[t].id[i]);
			path = sub(dir, rel);
			buf = t_read_file(path, &len);
			T_CHECK(buf != NULL && len > 0 &&
			    strstr(buf, p[t].id[i]) != NULL);
			free(buf);
			free(path);
		}
	}
	sp.journal = NULL;
	eh_spool_close(&sp);
	t_rmtree(dir);
	free(newdir);
	free(jdir);
	free(dir);
}

/*
 * A publisher set but not running: a put is answered with nothing in
 * new/ (the file is the publisher's), one publish call writes it, and
 * close writes what is left.
 */
static void
group_publisher_calls(void)
{
	struct eh_spool sp;
	struct eh_journal *j;
	struct eh_journal_report rep;
	struct eh_event ev;
	char *dir = t_tmpdir(), *newdir = sub(dir, "new"), *jdir =
	    sub(dir, "journal"), id[EH_ID_LEN + 1];
	int dup;

	group_open(&sp, &j, dir);
	T_EQ_INT(eh_journal_set_publisher(j), EH_OK);
	form_event(&ev, "TransID=14&EventType=transaction");
	T_EQ_INT(eh_spool_put(&sp, &ev, NULL, id, &dup), EH_OK);
	T_EQ_INT(t_count_files(newdir), 0);
	T_EQ_INT(eh_journal_publish(j, 0, &rep), EH_OK);
	T_EQ_INT(rep.records, 1);
	T_EQ_INT(t_count_files(newdir), 1);
	/* Nothing left: a wait of 0 returns at once. */
	T_EQ_INT(eh_journal_publish(j, 0, &rep), EH_OK);
	T_EQ_INT(rep.records, 0);
	T_EQ_INT(eh_spool_put(&sp, &ev, NULL, id, &dup), EH_OK);
	T_EQ_INT(eh_spool_put(&sp, &ev, NULL, id, &dup), EH_OK);
	T_EQ_INT(t_count_files(newdir), 1);
	T_EQ_INT(eh_journal_close(j, &rep), EH_OK);
	T_EQ_INT(t_count_files(newdir), 3);
	T_EQ_INT(t_count_files(jdir), 0);
	eh_event_free(&ev);
	sp.journal = NULL;
	eh_spool_close(&sp);
	t_rmtree(dir);
	free(newdir);
	free(jdir);
	free(dir);
}

/* ---- recovery ---- */

/* A planted segment: frames of records 0..n-1 (of recs), then a tail. */
static void
plant(const char *dir, const char *name, char ids[][EH_ID_LEN + 1],
    char *recs[], size_t lens[], size_t n, const void *tail, size_t tlen)
{
	unsigned char *buf = NULL;
	char rel[300], *p;
	size_t len = 0, i;

	p = sub(dir, "journal");
	(void)mkdir(p, 0700);
	free(p);
	for (i = 0; i < n; i++)
		buf = frame_append(buf, &len, ids[i], recs[i], lens[i]);
	if (tlen > 0) {
		buf = realloc(buf, len + tlen);
		memcpy(buf + len, tail, tlen);
		len += tlen;
	}
	snprintf(rel, sizeof(rel), "journal/%s", name);
	p = sub(dir, rel);
	T_EQ_INT(write_file(p, buf != NULL ? buf : (unsigned char *)"",
	    len), 0);
	free(p);
	free(buf);
}

static void
put_in(const char *dir, const char *folder, const char *id, const char *rec,
    size_t len)
{
	char rel[128], *p;

	p = sub(dir, folder);
	(void)mkdir(p, 0700);
	free(p);
	snprintf(rel, sizeof(rel), "%.16s/%.40s.json", folder, id);
	p = sub(dir, rel);
	T_EQ_INT(write_file(p, rec, len), 0);
	free(p);
}

static void
rep_eq(const struct eh_journal_report *rep, unsigned segs,
    unsigned long records, unsigned long rewritten, unsigned long torn,
    const char *what)
{
	if (rep->segments != segs || rep->records != records ||
	    rep->rewritten != rewritten || rep->torn != torn ||
	    rep->sys_op != NULL) {
		fprintf(stderr, "  %s: report %u %lu %lu %lu (%s), expected "
		    "%u %lu %lu %lu\n", what, rep->segments, rep->records,
		    rep->rewritten, rep->torn, rep->sys_op ? rep->sys_op :
		    "no error", segs, records, rewritten, torn);
		t_failed++;
	}
}

enum copy { C_NONE, C_WHOLE, C_SHORT, C_EMPTY, C_LONGER };

/* Where a copy of the record already is, and where it must be after. */
static const struct {
	const char *name;
	const char *folder;      /* the copy's, NULL for none */
	enum copy copy;
	const char *expect;      /* the one folder with it, whole */
	unsigned long rewritten;
} placed[] = {
	{ "missing", NULL, C_NONE, "new", 1 },
	{ "whole in new/", "new", C_WHOLE, "new", 0 },
	{ "whole in cur/", "cur", C_WHOLE, "cur", 0 },
	{ "whole in retry/", "retry", C_WHOLE, "retry", 0 },
	{ "whole in done/", "done", C_WHOLE, "done", 0 },
	{ "whole in failed/", "failed", C_WHOLE, "failed", 0 },
	{ "short in new/", "new", C_SHORT, "new", 1 },
	{ "short in done/", "done", C_SHORT, "done", 1 },
	{ "empty in cur/", "cur", C_EMPTY, "cur", 1 },
	{ "empty in failed/", "failed", C_EMPTY, "failed", 1 },
	{ "other bytes in retry/", "retry", C_LONGER, "retry", 1 },
};

static void
recover_placed(void)
{
	static const char *const all[] = {
		"new", "cur", "retry", "done", "failed"
	};
	struct eh_spool sp;
	struct eh_journal_report rep;
	struct stat before, after;
	char id[1][EH_ID_LEN + 1], *recs[1], *dir, *p, rel[128], *other;
	size_t lens[1], i, f;

	for (i = 0; i < sizeof(placed) / sizeof(placed[0]); i++) {
		dir = t_tmpdir();
		T_EQ_INT(eh_spool_open(&sp, dir), EH_OK);
		recs[0] = mkrec((unsigned)i, id[0], &lens[0]);
		plant(dir, "deadhost.4242.0.seg", id, recs, lens, 1, NULL, 0);
		memset(&before, 0, sizeof(before));
		if (placed[i].copy == C_WHOLE)
			put_in(dir, placed[i].folder, id[0], recs[0], lens[0]);
		else if (placed[i].copy == C_SHORT)
			put_in(dir, placed[i].folder, id[0], recs[0],
			    lens[0] / 2);
		else if (placed[i].copy == C_EMPTY)
			put_in(dir, placed[i].folder, id[0], "", 0);
		else if (placed[i].copy == C_LONGER) {
			other = malloc(lens[0] + 2);
			memcpy(other, recs[0], lens[0]);
			memcpy(other + lens[0], "x\n", 2);
			put_in(dir, placed[i].folder, id[0], other,
			    lens[0] + 2);
			free(other);
		}
		if (placed[i].folder != NULL) {
			snprintf(rel, sizeof(rel), "%s/%s.json",
			    placed[i].folder, id[0]);
			p = sub(dir, rel);
			T_EQ_INT(stat(p, &before), 0);
			free(p);
		}
		T_EQ_INT(eh_journal_recover(&sp, &rep), EH_OK);
		rep_eq(&rep, 1, 1, placed[i].rewritten, 0, placed[i].name);
		T_CHECK(holds(dir, placed[i].expect, id[0], recs[0],
		    lens[0]));
		/* Nowhere else: no duplicate. */
		for (f = 0; f < sizeof(all) / sizeof(all[0]); f++)
			if (strcmp(all[f], placed[i].expect) != 0 &&
			    exists(dir, all[f], id[0])) {
				fprintf(stderr, "  %s: also in %s/\n",
				    placed[i].name, all[f]);
				t_failed++;
			}
		if (placed[i].copy == C_WHOLE) {
			/* Untouched: the same file. */
			snprintf(rel, sizeof(rel), "%s/%s.json",
			    placed[i].folder, id[0]);
			p = sub(dir, rel);
			T_EQ_INT(stat(p, &after), 0);
			T_EQ_INT(after.st_ino, before.st_ino);
			free(p);
		} else {
			snprintf(rel, sizeof(rel), "%s/%s.json",
			    placed[i].expect, id[0]);
			p = sub(dir, rel);
			T_EQ_INT(stat(p, &after), 0);
			T_EQ_INT(after.st_mode & 07777, 0600);
			free(p);
		}
		p = sub(dir, "journal");
		T_EQ_INT(t_count_files(p), 0);
		free(p);
		p = sub(dir, "tmp");
		T_EQ_INT(t_count_files(p), 0);
		free(p);
		free(recs[0]);
		eh_spool_close(&sp);
		t_rmtree(dir);
		free(dir);
	}
}

/* How a segment's last frame (of 4) ends, and what recovery finds. */
enum tail {
	T_WHOLE,       /* all four whole */
	T_CUT,         /* the 4th cut at cut bytes into its frame */
	T_FLIP,        /* a bit of frame `frame' flipped at byte cut */
	T_ZEROS,       /* cut bytes of zeros after the 4 frames */
	T_GARBAGE      /* cut bytes of 0xa5 after the 4 frames */
};

static const struct {
	const char *name;
	enum tail tail;
	size_t frame;
	size_t cut;
	unsigned long records, torn;
} tails[] = {
	{ "whole", T_WHOLE, 0, 0, 4, 0 },
	{ "torn in the 4th head", T_CUT, 3, 10, 3, 1 },
	{ "torn after the 4th magic", T_CUT, 3, 4, 3, 1 },
	{ "4th head only", T_CUT, 3, EH__JFRAME_HEAD, 3, 1 },
	{ "4th record short by one", T_CUT, 3, (size_t)-1, 3, 1 },
	{ "flip in the 2nd record", T_FLIP, 1, EH__JFRAME_HEAD + 5, 1, 1 },
	{ "flip in the 2nd length", T_FLIP, 1, 4, 1, 1 },
	{ "flip in the 1st id", T_FLIP, 0, 8 + 20, 0, 1 },
	{ "flip in the 4th checksum", T_FLIP, 3, 60, 3, 1 },
	{ "zeros after", T_ZEROS, 0, 4096, 4, 1 },
	{ "one zero byte after", T_ZEROS, 0, 1, 4, 1 },
	{ "garbage after", T_GARBAGE, 0, 100, 4, 1 },
};

static void
recover_tails(void)
{
	struct eh_spool sp;
	struct eh_journal_report rep;
	unsigned char *buf, extra[4096];
	char ids[4][EH_ID_LEN + 1], *recs[4], *dir, *p, *newdir;
	size_t lens[4], off[5], n, i, k, cut;

	for (i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		dir = t_tmpdir();
		newdir = sub(dir, "new");
		T_EQ_INT(eh_spool_open(&sp, dir), EH_OK);
		buf = NULL;
		n = 0;
		for (k = 0; k < 4; k++) {
			recs[k] = mkrec((unsigned)(10 * i + k), ids[k],
			    &lens[k]);
			off[k] = n;
			buf = frame_append(buf, &n, ids[k], recs[k], lens[k]);
		}
		off[4] = n;
		if (tails[i].tail == T_CUT) {
			cut = tails[i].cut == (size_t)-1 ?
			    off[4] - off[3] - 1 : tails[i].cut;
			n = off[3] + cut;
		} else if (tails[i].tail == T_FLIP)
			buf[off[tails[i].frame] + tails[i].cut] ^= 0x10;
		p = sub(dir, "journal");
		(void)mkdir(p, 0700);
		free(p);
		p = sub(dir, "journal/deadhost.4242.7.seg");
		T_EQ_INT(write_file(p, buf, n), 0);
		if (tails[i].tail == T_ZEROS || tails[i].tail == T_GARBAGE) {
			FILE *f = fopen(p, "ab");

			memset(extra, tails[i].tail == T_ZEROS ? 0 : 0xa5,
			    sizeof(extra));
			T_CHECK(f != NULL);
			if (f != NULL) {
				fwrite(extra, 1, tails[i].cut, f);
				fclose(f);
			}
		}
		free(p);
		T_EQ_INT(eh_journal_recover(&sp, &rep), EH_OK);
		rep_eq(&rep, 1, tails[i].records, tails[i].records,
		    tails[i].torn, tails[i].name);
		T_EQ_INT(t_count_files(newdir), tails[i].records);
		for (k = 0; k < 4; k++) {
			if (k < tails[i].records)
				T_CHECK(holds(dir, "new", ids[k], recs[k],
				    lens[k]));
			else
				T_CHECK(!exists(dir, "new", ids[k]));
			free(recs[k]);
		}
		p = sub(dir, "journal");
		T_EQ_INT(t_count_files(p), 0);
		free(p);
		free(buf);
		eh_spool_close(&sp);
		t_rmtree(dir);
		free(newdir);
		free(dir);
	}
}

/*
 * Several segments at once: the report adds them up; one its writer
 * still holds (an OFD lock of another open file description) is left
 * alone until the lock goes; other files in journal/ are not touched.
 */
static void
recover_many(void)
{
	struct eh_spool sp;
	struct eh_journal_report rep;
	struct flock fl;
	char ids[6][EH_ID_LEN + 1], *recs[6], *dir = t_tmpdir(), *p,
	    names[MAXF][256];
	size_t lens[6], k;
	int fd;

	T_EQ_INT(eh_spool_open(&sp, dir), EH_OK);
	/* No journal/ at all (a spool never in group mode): nothing. */
	memset(&rep, 0x5a, sizeof(rep));
	T_EQ_INT(eh_journal_recover(&sp, &rep), EH_OK);
	rep_eq(&rep, 0, 0, 0, 0, "no journal/");
	for (k = 0; k < 6; k++)
		recs[k] = mkrec((unsigned)(100 + k), ids[k], &lens[k]);
	/* A: two whole, the second already in done/. */
	plant(dir, "hosta.100.0.seg", ids, recs, lens, 2, NULL, 0);
	put_in(dir, "done", ids[1], recs[1], lens[1]);
	/* B: one whole, a torn tail. */
	plant(dir, "hosta.100.1.seg", ids + 2, recs + 2, lens + 2, 1,
	    "EHJ1\x10", 5);
	/* C: empty (its writer died before the first append). */
	plant(dir, "hostb.200.0.seg", NULL, NULL, NULL, 0, NULL, 0);
	/* D: two records, its writer alive. */
	plant(dir, "hostc.300.5.seg", ids + 4, recs + 4, lens + 4, 2, NULL,
	    0);
	p = sub(dir, "journal/hostc.300.5.seg");
	fd = open(p, O_RDWR | O_CLOEXEC);
	free(p);
	T_CHECK(fd >= 0);
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	T_EQ_INT(fcntl(fd, F_OFD_SETLK, &fl), 0);
	/* Not a segment. */
	p = sub(dir, "journal/notes.txt");
	T_EQ_INT(write_file(p, "x", 1), 0);
	free(p);

	T_EQ_INT(eh_journal_recover(&sp, &rep), EH_OK);
	rep_eq(&rep, 3, 3, 2, 1, "A, B, C; D locked");
	T_CHECK(holds(dir, "new", ids[0], recs[0], lens[0]));
	T_CHECK(holds(dir, "done", ids[1], recs[1], lens[1]));
	T_CHECK(!exists(dir, "new", ids[1]));
	T_CHECK(holds(dir, "new", ids[2], recs[2], lens[2]));
	T_CHECK(!exists(dir, "new", ids[4]));
	T_CHECK(!exists(dir, "new", ids[5]));
	T_EQ_INT(segments(dir, names), 1);
	T_EQ_STR(names[0], "hostc.300.5.seg");
	p = sub(dir, "journal/notes.txt");
	T_EQ_INT(access(p, F_OK), 0);
	free(p);

	/* Again: recovery is idempotent, D still held. */
	T_EQ_INT(eh_journal_recover(&sp, &rep), EH_OK);
	rep_eq(&rep, 0, 0, 0, 0, "again, D locked");
	/* D's writer is gone. */
	close(fd);
	T_EQ_INT(eh_journal_recover(&sp, &rep), EH_OK);
	rep_eq(&rep, 1, 2, 2, 0, "D unlocked");
	T_CHECK(holds(dir, "new", ids[4], recs[4], lens[4]));
	T_CHECK(holds(dir, "new", ids[5], recs[5], lens[5]));
	T_EQ_INT(segments(dir, names), 0);
	for (k = 0; k < 6; k++)
		free(recs[k]);
	eh_spool_close(&sp);
	t_rmtree(dir);
	free(dir);
}

/* A live journal's segment, in this very process, is its own: another
 * handle's recovery leaves it; once closed, nothing is left to do. */
static void
recover_live(void)
{
	struct eh_spool sp, other;
	struct eh_journal *j;
	struct eh_journal_report rep;
	struct eh_event ev;
	char *dir = t_tmpdir(), *newdir = sub(dir, "new"), id[EH_ID_LEN + 1];
	int dup;

	group_open(&sp, &j, dir);
	T_EQ_INT(eh_spool_open(&other, dir), EH_OK);
	form_event(&ev, "TransID=11&EventType=transaction");
	T_EQ_INT(eh_spool_put(&sp, &ev, NULL, id, &dup), EH_OK);
	T_EQ_INT(eh_journal_recover(&other, &rep), EH_OK);
	rep_eq(&rep, 0, 0, 0, 0, "live segment");
	T_EQ_INT(segments_with_data(dir), 1);
	T_EQ_INT(eh_journal_close(j, &rep), EH_OK);
	sp.journal = NULL;
	T_EQ_INT(eh_journal_recover(&other, &rep), EH_OK);
	rep_eq(&rep, 0, 0, 0, 0, "after a clean close");
	T_EQ_INT(t_count_files(newdir), 1);
	eh_event_free(&ev);
	eh_spool_close(&sp);
	eh_spool_close(&other);
	t_rmtree(dir);
	free(newdir);
	free(dir);
}

/* A worker killed before its keeper ran: its segments, unlocked once
 * its descriptors are gone, bring back what new/ lost. */
static void
recover_after_crash(void)
{
	enum { N = 3 };
	struct eh_spool sp;
	struct eh_journal *j;
	struct eh_journal_report rep;
	struct eh_event ev;
	char *dir = t_tmpdir(), *newdir = sub(dir, "new"),
	    id[N][EH_ID_LEN + 1], names[MAXF][256], rel[300], *p, *buf[N];
	size_t len[N];
	pid_t pid;
	int status, dup, i, fds[2];

	/* The child stores N events, says so, and is killed (no exit
	 * handler runs, under valgrind either). */
	T_EQ_INT(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		group_open(&sp, &j, dir);
		form_event(&ev, "TransID=12&EventType=transaction");
		for (i = 0; i < N; i++)
			if (eh_spool_put(&sp, &ev, NULL, id[i], &dup) != EH_OK ||
			    write(fds[1], id[i], EH_ID_LEN) != EH_ID_LEN)
				_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	for (i = 0; i < N; i++)
		T_EQ_INT(read(fds[0], id[i], EH_ID_LEN), EH_ID_LEN);
	close(fds[0]);
	T_EQ_INT(kill(pid, SIGKILL), 0);
	T_EQ_INT(waitpid(pid, &status, 0), pid);
	T_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	T_EQ_INT(segments_with_data(dir), 1);
	/* A power loss: the new/ files were never synced; say one is
	 * gone, one empty. */
	for (i = 0; i < N; i++) {
		id[i][EH_ID_LEN] = '\0';
		snprintf(rel, sizeof(rel), "new/%s.json", id[i]);
		p = sub(dir, rel);
		buf[i] = t_read_file(p, &len[i]);
		T_CHECK(buf[i] != NULL);
		if (i == 0)
			T_EQ_INT(unlink(p), 0);
		else if (i == 1)
			T_EQ_INT(truncate(p, 0), 0);
		free(p);
	}
	T_EQ_INT(eh_spool_open(&sp, dir), EH_OK);
	T_EQ_INT(eh_journal_recover(&sp, &rep), EH_OK);
	rep_eq(&rep, 1, N, 2, 0, "after a crash");
	for (i = 0; i < N; i++) {
		if (buf[i] != NULL)
			T_CHECK(holds(dir, "new", id[i], buf[i], len[i]));
		free(buf[i]);
	}
	T_EQ_INT(t_count_files(newdir), N);
	T_EQ_INT(segments(dir, names), 0);
	eh_spool_close(&sp);
	t_rmtree(dir);
	free(newdir);
	free(dir);
}

/*
 * Recovery running beside a live writer (esignhookctl drain, another
 * worker starting) takes nothing of it, not even a segment just
 * created and still empty: a segment unlinked under its writer would
 * hold acknowledged events under no name.  The writer stores and
 * ticks (a new segment each time) while a child recovers in a loop;
 * after each put a segment with data must be there.
 */
static void
recover_beside_writer(void)
{
	enum { ROUNDS = 600 };
	struct eh_spool sp, rsp;
	struct eh_journal *j;
	struct eh_journal_report rep;
	struct eh_event ev;
	char *dir = t_tmpdir(), *newdir = sub(dir, "new"), id[EH_ID_LEN + 1];
	unsigned put_err = 0, tick_err = 0, unnamed = 0;
	int dup, i, status;
	pid_t pid;

	group_open(&sp, &j, dir);
	form_event(&ev, "TransID=14&EventType=transaction");
	pid = fork();
	if (pid == 0) {
		if (eh_spool_open(&rsp, dir) != EH_OK)
			_exit(1);
		for (;;)
			(void)eh_journal_recover(&rsp, &rep);
	}
	T_CHECK(pid > 0);
	for (i = 0; i < ROUNDS && pid > 0; i++) {
		if (eh_spool_put(&sp, &ev, NULL, id, &dup) != EH_OK)
			put_err++;
		else if (segments_with_data(dir) == 0)
			unnamed++;
		if (eh_journal_tick(j, 0, &rep) != EH_OK)
			tick_err++;
	}
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	if (put_err + tick_err + unnamed > 0)
		fprintf(stderr, "  %d rounds: %u puts failed, %u ticks failed, "
		    "%u events acknowledged in an unlinked segment\n", ROUNDS,
		    put_err, tick_err, unnamed);
	T_EQ_INT(put_err, 0);
	T_EQ_INT(tick_err, 0);
	T_EQ_INT(unnamed, 0);
	T_EQ_INT(eh_journal_close(j, &rep), EH_OK);
	T_EQ_INT(t_count_files(newdir), ROUNDS);
	T_EQ_INT(segments_with_data(dir), 0);
	sp.journal = NULL;
	eh_event_free(&ev);
	eh_spool_close(&sp);
	t_rmtree(dir);
	free(newdir);
	free(dir);
}

/* ---- failures and races, made to happen (interposed calls) ---- */

/*
 * An append never follows another thread's torn frame.  T0's write is
 * cut short: the active segment is broken.  T1 seals it and makes the
 * next one, and stops before installing it (at its fsync of journal/);
 * meanwhile T2 makes and installs its own, and breaks it too.  Let go,
 * T1 must not append after T2's torn tail, where recovery would never
 * read it: its acknowledged record is in a whole frame, and the
 * keeper's replay brings it into new/.
 */
static void
group_torn_race(void)
{
	struct script s[3];
	struct committer c[3];
	struct eh_spool sp;
	struct eh_journal *j;
	struct eh_journal_report rep;
	char *dir = t_tmpdir(), *jdir = sub(dir, "journal");
	size_t i;

	group_open(&sp, &j, dir);
	for (i = 0; i < 3; i++)
		script_init(&s[i], dir);
	s[0].short_writes = 1;
	s[1].stop_dir_fsync = 1;
	s[2].short_writes = 1;
	committer_start(&c[0], j, dir, &s[0], 200);
	pthread_join(c[0].tid, NULL);
	T_EQ_INT(c[0].err, EH_ERR_SPOOL_FULL);
	committer_start(&c[1], j, dir, &s[1], 201);
	T_CHECK(gate_reached(&s[1].gate));
	committer_start(&c[2], j, dir, &s[2], 202);
	pthread_join(c[2].tid, NULL);
	T_EQ_INT(c[2].err, EH_ERR_SPOOL_FULL);
	gate_open(&s[1].gate);
	pthread_join(c[1].tid, NULL);
	T_EQ_INT(c[1].err, EH_OK);
	T_CHECK(in_whole_frame(dir, c[1].id));
	T_CHECK(!in_whole_frame(dir, c[0].id));
	T_CHECK(!in_whole_frame(dir, c[2].id));
	/* As if its new/ write had failed: the journal alone has it. */
	if (c[1].err == EH_OK)
		eh__journal_release(j, c[1].seg, 0);
	T_EQ_INT(eh_journal_tick(j, 0, &rep), EH_OK);
	T_EQ_INT(rep.rewritten, 1);
	T_CHECK(holds(dir, "new", c[1].id, c[1].rec, c[1].len));
	T_CHECK(!exists(dir, "new", c[0].id));
	T_CHECK(!exists(dir, "new", c[2].id));
	T_EQ_INT(segments_with_data(dir), 0);
	T_EQ_INT(eh_journal_close(j, &rep), EH_OK);
	T_EQ_INT(t_count_files(jdir), 0);
	for (i = 0; i < 3; i++) {
		free(c[i].rec);
		gate_free(&s[i].gate);
	}
	sp.journal = NULL;
	eh_spool_close(&sp);
	t_rmtree(dir);
	free(jdir);
	free(dir);
}

/*
 * A segment broken by a short write, its torn tail waited on by no
 * one, still goes (after a syncfs, and a replay of the record before
 * the tear if that needs one), at the next tick as at close.
 */
static const struct {
	const char *name;
	int at_close;   /* retired by eh_journal_close, not by a tick */
	int in_new;     /* the record before the tear has its new/ file */
} torn_cases[] = {
	{ "tick, the record in new/", 0, 1 },
	{ "tick, the record to replay", 0, 0 },
	{ "close, the record in new/", 1, 1 },
	{ "close, the record to replay", 1, 0 },
};

static void
group_torn_retired(void)
{
	struct script s;
	struct eh_spool sp;
	struct eh_journal *j;
	struct eh_journal_report rep;
	char id[EH_ID_LEN + 1], id2[EH_ID_LEN + 1], *dir, *jdir, *rec,
	    *rec2, *syncd, *gone;
	size_t len, len2, i;
	enum eh_err err;
	void *seg;
	int in_new;

	for (i = 0; i < sizeof(torn_cases) / sizeof(torn_cases[0]); i++) {
		dir = t_tmpdir();
		jdir = sub(dir, "journal");
		group_open(&sp, &j, dir);
		script_init(&s, dir);
		rec = mkrec(300 + (unsigned)i, id, &len);
		rec2 = mkrec(400 + (unsigned)i, id2, &len2);
		T_EQ_INT(eh__journal_commit(j, &sp, id, rec, len, &seg), EH_OK);
		in_new = torn_cases[i].in_new && eh__spool_file(&sp,
		    sp.newfd, id, rec, len, 0) == EH_OK;
		T_EQ_INT(in_new, torn_cases[i].in_new);
		eh__journal_release(j, seg, in_new);
		s.short_writes = 1;
		hook_set(&s);
		T_EQ_INT(eh__journal_commit(j, &sp, id2, rec2, len2, &seg),
		    EH_ERR_SPOOL_FULL);
		hook_set(NULL);
		T_EQ_STR(sp.sys_op, "journal write");
		T_EQ_INT(s.short_writes, 0);
		T_CHECK(in_whole_frame(dir, id));
		T_CHECK(!in_whole_frame(dir, id2));
		T_EQ_INT(segments_with_data(dir), 1);
		hook_set(&s);
		if (torn_cases[i].at_close)
			err = eh_journal_close(j, &rep);
		else
			err = eh_journal_tick(j, 3600 * 1000, &rep);
		hook_set(NULL);
		T_EQ_INT(err, EH_OK);
		if (rep.segments != 1 || rep.rewritten != !in_new ||
		    rep.torn != !in_new) {
			fprintf(stderr, "  %s: %u segments, %lu rewritten, "
			    "%lu torn\n", torn_cases[i].name, rep.segments,
			    rep.rewritten, rep.torn);
			t_failed++;
		}
		syncd = strchr(s.log, 'S');
		gone = strchr(s.log, 'u');
		if (syncd == NULL || gone == NULL || gone < syncd) {
			fprintf(stderr, "  %s: calls \"%s\", a syncfs (S) "
			    "before the unlink (u) expected\n",
			    torn_cases[i].name, s.log);
			t_failed++;
		}
		T_EQ_INT(segments_with_data(dir), 0);
		T_CHECK(holds(dir, "new", id, rec, len));
		T_CHECK(!exists(dir, "new", id2));
		if (!torn_cases[i].at_close)
			T_EQ_INT(eh_journal_close(j, &rep), EH_OK);
		T_EQ_INT(t_count_files(jdir), 0);
		gate_free(&s.gate);
		sp.journal = NULL;
		eh_spool_close(&sp);
		free(rec);
		free(rec2);
		t_rmtree(dir);
		free(jdir);
		free(dir);
	}
}

/*
 * A failed syncfs says so once: the next may say 0 for pages the
 * kernel could not write.  So the segment it was to retire stays, and
 * goes only after its record is written again, that file and new/
 * fsynced, though the next syncfs succeeds.
 */
static void
group_syncfs_failed(void)
{
	struct script s;
	struct eh_spool sp;
	struct eh_journal *j;
	struct eh_journal_report rep;
	char id[EH_ID_LEN + 1], *dir = t_tmpdir(), *newdir = sub(dir, "new"),
	    *rec, *rewritten, *gone;
	size_t len;
	enum eh_err err;
	void *seg;

	group_open(&sp, &j, dir);
	script_init(&s, dir);
	rec = mkrec(600, id, &len);
	T_EQ_INT(eh__journal_commit(j, &sp, id, rec, len, &seg), EH_OK);
	T_EQ_INT(eh__spool_file(&sp, sp.newfd, id, rec, len, 0), EH_OK);
	eh__journal_release(j, seg, 1);
	s.fail_syncfs = 1;
	hook_set(&s);
	err = eh_journal_tick(j, 0, &rep);
	hook_set(NULL);
	T_EQ_INT(err, EH_ERR_SPOOL_IO);
	T_EQ_STR(rep.sys_op, "syncfs");
	T_EQ_INT(rep.sys_errno, EIO);
	T_EQ_INT(rep.segments, 0);
	T_CHECK(strchr(s.log, 'u') == NULL);
	T_CHECK(in_whole_frame(dir, id));
	s.nlog = 0;
	s.log[0] = '\0';
	hook_set(&s);
	err = eh_journal_tick(j, 0, &rep);
	hook_set(NULL);
	T_EQ_INT(err, EH_OK);
	T_EQ_INT(rep.segments, 1);
	T_EQ_INT(rep.records, 1);
	T_EQ_INT(rep.rewritten, 1);
	rewritten = strstr(s.log, "fn");
	gone = strchr(s.log, 'u');
	if (rewritten == NULL || gone == NULL || gone < rewritten) {
		fprintf(stderr, "  calls \"%s\": the file and new/ fsynced "
		    "(fn) before the unlink (u) expected\n", s.log);
		t_failed++;
	}
	T_CHECK(holds(dir, "new", id, rec, len));
	T_EQ_INT(t_count_files(newdir), 1);
	T_EQ_INT(segments_with_data(dir), 0);
	/* Done with: nothing more to write. */
	T_EQ_INT(eh_journal_tick(j, 0, &rep), EH_OK);
	T_EQ_INT(rep.rewritten, 0);
	T_EQ_INT(eh_journal_close(j, &rep), EH_OK);
	gate_free(&s.gate);
	sp.journal = NULL;
	eh_spool_close(&sp);
	free(rec);
	t_rmtree(dir);
	free(newdir);
	free(dir);
}

/*
 * A recoverer (another process: here another open file description)
 * may lock a segment between its create and its writer's lock, find it
 * empty, and remove it.  Its writer must make another, not go on with
 * a file no name leads to: the writer stops at its lock, at open and
 * at a tick, while recovery runs; the next event is in a named
 * segment.
 */
struct maker {
	struct eh_spool *sp;
	struct eh_journal **j;
	struct script *s;
	int tick;
	enum eh_err err;
};

static void *
maker_main(void *arg)
{
	struct maker *m = arg;
	struct eh_journal_report rep;

	hook_set(m->s);
	if (m->tick)
		m->err = eh_journal_tick(*m->j, 0, &rep);
	else
		m->err = eh_journal_open(m->j, m->sp);
	hook_set(NULL);
	return NULL;
}

static void
group_lock_race(void)
{
	struct script s;
	struct maker m;
	struct eh_spool sp, other;
	struct eh_journal *j = NULL;
	struct eh_journal_report rep;
	struct eh_event ev;
	char *dir, *jdir, id[EH_ID_LEN + 1], *p;
	pthread_t tid;
	int tick, dup;

	form_event(&ev, "TransID=15&EventType=transaction");
	for (tick = 0; tick < 2; tick++) {
		dir = t_tmpdir();
		jdir = sub(dir, "journal");
		if (tick) {
			group_open(&sp, &j, dir);
			/* The active segment due: the tick makes the next. */
			T_EQ_INT(eh_spool_put(&sp, &ev, NULL, id, &dup),
			    EH_OK);
		} else {
			T_EQ_INT(eh_spool_open(&sp, dir), EH_OK);
			/* journal/ there, as a recoverer would find it. */
			T_EQ_INT(mkdir(jdir, 0700), 0);
		}
		T_EQ_INT(eh_spool_open(&other, dir), EH_OK);
		script_init(&s, dir);
		s.stop_lock = 1;
		memset(&m, 0, sizeof(m));
		m.sp = &sp;
		m.j = &j;
		m.s = &s;
		m.tick = tick;
		T_EQ_INT(pthread_create(&tid, NULL, maker_main, &m), 0);
		T_CHECK(gate_reached(&s.gate));
		T_EQ_INT(eh_journal_recover(&other, &rep), EH_OK);
		rep_eq(&rep, 1, 0, 0, 0, tick ? "at a tick: the new segment" :
		    "at open: the first segment");
		gate_open(&s.gate);
		pthread_join(tid, NULL);
		T_EQ_INT(m.err, EH_OK);
		T_CHECK(j != NULL);
		if (j == NULL)
			goto next;
		sp.journal = j;
		T_EQ_INT(eh_spool_put(&sp, &ev, NULL, id, &dup), EH_OK);
		id[EH_ID_LEN] = '\0';
		if (!in_whole_frame(dir, id)) {
			fprintf(stderr, "  %s: the event is in no named "
			    "segment\n", tick ? "at a tick" : "at open");
			t_failed++;
		}
		/* And not the recoverer's either. */
		T_EQ_INT(eh_journal_recover(&other, &rep), EH_OK);
		rep_eq(&rep, 0, 0, 0, 0, "the writer's own");
		T_EQ_INT(eh_journal_close(j, &rep), EH_OK);
		j = NULL;
		sp.journal = NULL;
		p = sub(dir, "new");
		T_EQ_INT(t_count_files(p), tick ? 2 : 1);
		free(p);
next:
		T_EQ_INT(t_count_files(jdir), 0);
		gate_free(&s.gate);
		eh_spool_close(&sp);
		eh_spool_close(&other);
		t_rmtree(dir);
		free(jdir);
		free(dir);
	}
	eh_event_free(&ev);
}

/*
 * Recovery looks for a record's file in new/, cur/, retry/, done/ and
 * failed/, while a drainer may move it: found whole where it went, it
 * is not written again (a duplicate).  The move is made right before
 * or right after recovery's stat of the file in its first folder.
 */
static const struct {
	const char *name;
	const char *from, *to;
	int before;     /* moved before that stat, not after it */
} moving[] = {
	{ "new/ to cur/ between its stat and its read", "new", "cur", 0 },
	{ "cur/ to done/ between its stat and its read", "cur", "done", 0 },
	{ "retry/ to cur/, behind the look", "retry", "cur", 1 },
	{ "failed/ to new/ (requeued), behind the look", "failed", "new", 1 },
};

struct mover {
	const char *dir, *name, *from, *to;
	int before, moved;
};

static void
mover_move(struct mover *m)
{
	char a[256], b[256], *pa, *pb;

	snprintf(a, sizeof(a), "%s/%s", m->from, m->name);
	snprintf(b, sizeof(b), "%s/%s", m->to, m->name);
	pa = sub(m->dir, a);
	pb = sub(m->dir, b);
	T_EQ_INT(rename(pa, pb), 0);
	free(pa);
	free(pb);
	m->moved = 1;
}

static int
mover_hook(void *ctx, const struct call *c, long *ret)
{
	struct mover *m = ctx;
	int e;

	if (c->sc != SC_FSTATAT || m->moved ||
	    strcmp(c->name, m->name) != 0 || !fd_is(c->fd, m->dir, m->from))
		return 0;
	if (m->before) {
		mover_move(m);
		return 0;
	}
	*ret = real.fstatat(c->fd, c->name, c->st, c->flags);
	e = errno;
	mover_move(m);
	errno = e;
	return 1;
}

static void
recover_moving(void)
{
	static const char *const all[] = {
		"new", "cur", "retry", "done", "failed"
	};
	struct eh_spool sp;
	struct eh_journal_report rep;
	struct mover m;
	char id[1][EH_ID_LEN + 1], name[EH_ID_LEN + sizeof(".json")], *recs[1],
	    *dir, *p;
	size_t lens[1], i, f;
	enum eh_err err;

	for (i = 0; i < sizeof(moving) / sizeof(moving[0]); i++) {
		dir = t_tmpdir();
		T_EQ_INT(eh_spool_open(&sp, dir), EH_OK);
		for (f = 1; f < sizeof(all) / sizeof(all[0]); f++) {
			p = sub(dir, all[f]);
			T_EQ_INT(mkdir(p, 0700), 0);
			free(p);
		}
		recs[0] = mkrec(700 + (unsigned)i, id[0], &lens[0]);
		plant(dir, "deadhost.4242.0.seg", id, recs, lens, 1, NULL, 0);
		put_in(dir, moving[i].from, id[0], recs[0], lens[0]);
		snprintf(name, sizeof(name), "%s.json", id[0]);
		memset(&m, 0, sizeof(m));
		m.dir = dir;
		m.name = name;
		m.from = moving[i].from;
		m.to = moving[i].to;
		m.before = moving[i].before;
		hook_ctx = &m;
		hook = mover_hook;
		err = eh_journal_recover(&sp, &rep);
		hook = NULL;
		T_EQ_INT(err, EH_OK);
		T_CHECK(m.moved);
		rep_eq(&rep, 1, 1, 0, 0, moving[i].name);
		T_CHECK(holds(dir, moving[i].to, id[0], recs[0], lens[0]));
		for (f = 0; f < sizeof(all) / sizeof(all[0]); f++)
			if (strcmp(all[f], moving[i].to) != 0 &&
			    exists(dir, all[f], id[0])) {
				fprintf(stderr, "  %s: also in %s/\n",
				    moving[i].name, all[f]);
				t_failed++;
			}
		free(recs[0]);
		eh_spool_close(&sp);
		t_rmtree(dir);
		free(dir);
	}
}

const struct t_case t_journal[] = {
	{ "frame: head, parse, check round trip (0 B to 1 MiB)",
	    frame_round_trip },
	{ "frame: a known frame, byte for byte", frame_known },
	{ "frame: every single-bit flip is caught", frame_bit_flips },
	{ "frame: bad magic, length, id and zeros do not parse",
	    frame_parse_rejects },
	{ "group: put is in new/ at once and in the segment, byte for byte",
	    group_put },
	{ "group: an idle journal leaves nothing", group_idle },
	{ "group: another spool's handle falls back to file mode",
	    group_other_spool },
	{ "group: OneSpan dedupe stores once", group_dedupe },
	{ "group: a failed new/ write is replayed by the keeper",
	    group_replay },
	{ "group: threads storing while the keeper ticks", group_threads },
	{ "group: a publisher writes every new/ file, close the rest",
	    group_publisher },
	{ "group: with a publisher, a put's file waits for a publish",
	    group_publisher_calls },
	{ "recover: missing, whole, short or empty in each folder",
	    recover_placed },
	{ "recover: torn or corrupt tails dropped, records before kept",
	    recover_tails },
	{ "recover: several segments, a locked one left alone",
	    recover_many },
	{ "recover: a live journal's segment is left alone", recover_live },
	{ "recover: a killed writer's segment after a power loss",
	    recover_after_crash },
	{ "recover: beside a live writer, takes none of its segments",
	    recover_beside_writer },
	{ "group: no append after another thread's torn frame",
	    group_torn_race },
	{ "group: a segment torn by a short write goes, at a tick or close",
	    group_torn_retired },
	{ "group: after a failed syncfs, records written again durably",
	    group_syncfs_failed },
	{ "group: a segment a recoverer took before its lock is made again",
	    group_lock_race },
	{ "recover: a record a drainer moves meanwhile is not stored twice",
	    recover_moving },
	{ NULL, NULL }
};
