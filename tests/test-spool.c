/* lib/spool.c: the maildir discipline, limits, dedupe, cleaning. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>

#include "../lib/esignhook.h"
#include "t.h"

static void
event(struct eh_event *ev, const char *body)
{
	T_EQ_INT(eh_onespan_parse(ev, body, strlen(body)), EH_OK);
}

static void
form_event(struct eh_event *ev, const char *body)
{
	struct eh_form f;

	T_EQ_INT(eh_form_parse(&f, body, strlen(body)), EH_OK);
	T_EQ_INT(eh_alphatrust_parse(ev, &f, NULL), EH_OK);
	eh_form_free(&f);
}

static char *
sub(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return 0;
	return st.st_mode & 07777;
}

static void
open_creates(void)
{
	struct eh_spool sp;
	char *dir = t_tmpdir(), *root = sub(dir, "spool"), *p;

	T_EQ_INT(eh_spool_open(&sp, root), EH_OK);
	T_EQ_INT(mode_of(root), 0700);
	p = sub(root, "tmp");
	T_EQ_INT(mode_of(p), 0700);
	free(p);
	p = sub(root, "new");
	T_EQ_INT(mode_of(p), 0700);
	free(p);
	eh_spool_close(&sp);
	eh_spool_close(&sp);
	/* A missing parent is a configuration error, not created. */
	p = sub(dir, "no/such/spool");
	T_EQ_INT(eh_spool_open(&sp, p), EH_ERR_SPOOL_IO);
	T_EQ_STR(sp.sys_op, "open spool");
	T_EQ_INT(sp.dirfd, -1);
	free(p);
	T_EQ_INT(eh_spool_open(&sp, "relative"), EH_ERR_SPOOL_CONFIG);
	eh_spool_close(&sp);
	t_rmtree(dir);
	free(root);
	free(dir);
}

static void
put_one(void)
{
	struct eh_spool sp;
	struct eh_event ev;
	struct eh_record rec;
	char *dir = t_tmpdir(), *newdir = sub(dir, "new"), *tmpdir =
	    sub(dir, "tmp"), id[EH_ID_LEN + 1], name[128], *path, *buf;
	size_t len;
	int dup;

	T_EQ_INT(eh_spool_open(&sp, dir), EH_OK);
	event(&ev, "{\"name\":\"PACKAGE_COMPLETE\",\"packageId\":\"p1\"}");
	T_EQ_INT(eh_spool_put(&sp, &ev, "192.0.2.1", id, &dup), EH_OK);
	T_EQ_INT(dup, 0);
	T_EQ_INT(strlen(id), EH_ID_LEN);
	T_EQ_INT(t_count_files(newdir), 1);
	T_EQ_INT(t_count_files(tmpdir), 0);
	snprintf(name, sizeof(name), "new/%s.json", id);
	path = sub(dir, name);
	T_EQ_INT(mode_of(path), 0600);
	buf = t_read_file(path, &len);
	T_CHECK(buf != NULL);
	T_EQ_INT(eh_record_parse(&rec, buf, len), EH_OK);
	T_EQ_STR(rec.id, id);
	T_EQ_STR(rec.event, "PACKAGE_COMPLETE");
	T_EQ_STR(rec.remote_addr, "192.0.2.1");
	eh_record_free(&rec);
	free(buf);
	free(path);
	eh_event_free(&ev);
	eh_spool_close(&sp);
	t_rmtree(dir);
	free(newdir);
	free(tmpdir);
	free(dir);
}

static void
dedupe(void)
{
	struct eh_spool sp;
	struct eh_event a, b, c;
	char *dir = t_tmpdir(), *newdir = sub(dir, "new");
	char id1[EH_ID_LEN + 1], id2[EH_ID_LEN + 1], id3[EH_ID_LEN + 1];
	int dup;

	T_EQ_INT(eh_spool_open(&sp, dir), EH_OK);
	event(&a, "{\"name\":\"X\",\"packageId\":\"p1\"}");
	T_EQ_INT(eh_spool_put(&sp, &a, NULL, id1, &dup), EH_OK);
	T_EQ_INT(dup, 0);
	T_EQ_INT(eh_spool_put(&sp, &a, NULL, id2, &dup), EH_OK);
	T_EQ_INT(dup, 1);
	T_EQ_STR(id2, id1);
	T_EQ_INT(t_count_files(newdir), 1);
	/* Another handle (another worker) sees the mark too. */
	eh_spool_close(&sp);
	T_EQ_INT(eh_spool_open(&sp, dir), EH_OK);
	T_EQ_INT(eh_spool_put(&sp, &a, NULL, id2, &dup), EH_OK);
	T_EQ_INT(dup, 1);
	/* AlphaTrust repeats legitimately: every delivery is kept. */
	form_event(&b, "TransID=1&PartStatus=6&EventType=participant");
	T_EQ_INT(eh_spool_put(&sp, &b, NULL, id2, &dup), EH_OK);
	T_EQ_INT(dup, 0);
	T_EQ_INT(eh_spool_put(&sp, &b, NULL, id3, &dup), EH_OK);
	T_EQ_INT(dup, 0);
	T_CHECK(strcmp(id2, id3) < 0);
	event(&c, "{\"name\":\"X\",\"packageId\":\"p2\"}");
	T_EQ_INT(eh_spool_put(&sp, &c, NULL, id3, &dup), EH_OK);
	T_EQ_INT(dup, 0);
	T_EQ_INT(t_count_files(newdir), 4);
	eh_event_free(&a);
	eh_event_free(&b);
	eh_event_free(&c);
	eh_spool_close(&sp);
	t_rmtree(dir);
	free(newdir);
	free(dir);
}

static void
ids_increase(void)
{
	struct eh_spool sp;
	struct eh_event ev;
	char *dir = t_tmpdir(), prev[EH_ID_LEN + 1] = "", id[EH_ID_LEN + 1];
	int dup, i;

	T_EQ_INT(eh_spool_open(&sp, dir), EH_OK);
	form_event(&ev, "TransID=1&EventType=transaction");
	for (i = 0; i < 200; i++) {
		T_EQ_INT(eh_spool_put(&sp, &ev, NULL, id, &dup), EH_OK);
		T_CHECK(strcmp(prev, id) < 0);
		memcpy(prev, id, sizeof(id));
	}
	eh_event_free(&ev);
	eh_spool_close(&sp);
	t_rmtree(dir);
	free(dir);
}

/*
 * The random part of ids is drawn into the handle 32 ids at a time:
 * within one handle never the same twice, across the refills too; two
 * handles (two threads, processes, hosts), and one reopened, draw their
 * own.  What is left is wiped at close.
 */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
ids_random_part(void)
{
	enum { N = 500 };
	struct eh_spool a, b;
	struct eh_event ev;
	char *dir = t_tmpdir(), id[EH_ID_LEN + 1], *rnd[2 * N + 2];
	static const unsigned char zero[256];
	size_t i, n = 0;
	int dup;

	T_EQ_INT(eh_spool_open(&a, dir), EH_OK);
	T_EQ_INT(eh_spool_open(&b, dir), EH_OK);
	T_EQ_INT(a.id_left, 0);
	form_event(&ev, "TransID=1&EventType=transaction");
	for (i = 0; i < N; i++) {
		T_EQ_INT(eh_spool_put(&a, &ev, NULL, id, &dup), EH_OK);
		rnd[n++] = strdup(id + EH_ID_LEN - 16);
		T_EQ_INT(eh_spool_put(&b, &ev, NULL, id, &dup), EH_OK);
		rnd[n++] = strdup(id + EH_ID_LEN - 16);
	}
	/* 500 ids: 16 draws of 32, 20 left; those used are wiped. */
	T_EQ_INT(a.id_left, 32 * 8 - (N % 32) * 8);
	T_CHECK(memcmp(a.id_pool, zero, sizeof(a.id_pool) - a.id_left) == 0);
	/* Reopened: nothing kept from before. */
	T_EQ_INT(eh_spool_reopen(&a, dir), EH_OK);
	T_EQ_INT(a.id_left, 0);
	T_CHECK(memcmp(a.id_pool, zero, sizeof(zero)) == 0);
	T_EQ_INT(eh_spool_put(&a, &ev, NULL, id, &dup), EH_OK);
	rnd[n++] = strdup(id + EH_ID_LEN - 16);
	T_EQ_INT(eh_spool_put(&a, &ev, NULL, id, &dup), EH_OK);
	rnd[n++] = strdup(id + EH_ID_LEN - 16);
	qsort(rnd, n, sizeof(rnd[0]), cmp_str);
	for (i = 0; i < n; i++) {
		T_EQ_INT(strspn(rnd[i], "0123456789abcdef"), 16);
		if (i > 0)
			T_CHECK(strcmp(rnd[i - 1], rnd[i]) != 0);
	}
	for (i = 0; i < n; i++)
		free(rnd[i]);
	eh_spool_close(&a);
	eh_spool_close(&b);
	T_CHECK(memcmp(a.id_pool, zero, sizeof(zero)) == 0);
	T_CHECK(memcmp(b.id_pool, zero, sizeof(zero)) == 0);
	T_EQ_INT(b.id_left, 0);
	eh_event_free(&ev);
	t_rmtree(dir);
	free(dir);
}

static void
limits(void)
{
	struct eh_spool sp;
	struct eh_event ev;
	struct eh_config cfg;
	char *dir = t_tmpdir(), id[EH_ID_LEN + 1];
	int dup;

	eh_config_init(&cfg);
	cfg.min_free = 0;
	cfg.max_events = 2;
	T_EQ_INT(eh_spool_open(&sp, dir), EH_OK);
	T_EQ_INT(eh_spool_admit(&sp, &cfg), EH_OK);
	form_event(&ev, "TransID=1&EventType=transaction");
	T_EQ_INT(eh_spool_put(&sp, &ev, NULL, id, &dup), EH_OK);
	T_EQ_INT(eh_spool_admit(&sp, &cfg), EH_OK);
	T_EQ_INT(eh_spool_put(&sp, &ev, NULL, id, &dup), EH_OK);
	T_EQ_INT(eh_spool_admit(&sp, &cfg), EH_ERR_SPOOL_BACKLOG);
	/* Counted by another handle, from the directory. */
	eh_spool_close(&sp);
	T_EQ_INT(eh_spool_open(&sp, dir), EH_OK);
	T_EQ_INT(eh_spool_admit(&sp, &cfg), EH_ERR_SPOOL_BACKLOG);
	cfg.max_events = 0;
	T_EQ_INT(eh_spool_admit(&sp, &cfg), EH_OK);
	cfg.min_free = 1ULL << 50;
	T_EQ_INT(eh_spool_admit(&sp, &cfg), EH_ERR_SPOOL_FULL);
	eh_event_free(&ev);
	eh_spool_close(&sp);
	eh_config_free(&cfg);
	t_rmtree(dir);
	free(dir);
}

static void
touch(const char *dir, const char *name, time_t age)
{
	struct timespec ts[2];
	int fd;
	char *p = sub(dir, name);

	/* With a byte: an empty tmp/ file may be one a writer has just
	 * created and not yet locked. */
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	if (fd >= 0 && write(fd, "{", 1) != 1)
		T_CHECK(0);
	close(fd);
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= age;
	ts[1] = ts[0];
	utimensat(AT_FDCWD, p, ts, 0);
	free(p);
}

/*
 * Hold a write lock on path as a live writer holds one on its tmp/ file
 * (an OFD lock on a description of its own: it conflicts with the
 * cleaner's even in this process).  The descriptor, or -1.
 */
static int
hold(const char *dir, const char *name)
{
	struct flock fl;
	char *p = sub(dir, name);
	int fd = open(p, O_WRONLY | O_CLOEXEC);

	free(p);
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fd >= 0 && fcntl(fd, F_OFD_SETLK, &fl) != 0) {
		close(fd);
		fd = -1;
	}
	T_CHECK(fd >= 0);
	return fd;
}

/* A pid no process has now (found without a fork: a child would
 * give valgrind a second process to report on). */
static pid_t
dead_pid(void)
{
	pid_t p;

	for (p = 4000000; p > 1; p--)
		if (kill(p, 0) != 0 && errno == ESRCH)
			return p;
	T_CHECK(0);
	return 0;
}

static void
clean_and_count(void)
{
	struct eh_spool sp;
	char *dir = t_tmpdir(), *tmpdir = sub(dir, "tmp"),
	    *newdir = sub(dir, "new");
	unsigned long n;
	int fd;

	T_EQ_INT(eh_spool_open(&sp, dir), EH_OK);
	/* Stale: no delivery takes 36 hours, locked or not. */
	touch(tmpdir, "old.json", EH_SPOOL_STALE_SECONDS + 60);
	fd = hold(tmpdir, "old.json");
	T_EQ_INT(eh_spool_clean_tmp(&sp, EH_SPOOL_STALE_SECONDS), 1);
	T_EQ_INT(t_count_files(tmpdir), 0);
	close(fd);
	/* Fresh: kept while a writer holds it, removed once none does. */
	touch(tmpdir, "fresh.json", 60);
	fd = hold(tmpdir, "fresh.json");
	touch(tmpdir, "loose.json", 0);
	T_EQ_INT(eh_spool_clean_tmp(&sp, EH_SPOOL_STALE_SECONDS), 1);
	T_EQ_INT(t_count_files(tmpdir), 1);
	T_EQ_INT(eh_spool_clean_tmp(&sp, EH_SPOOL_STALE_SECONDS), 0);
	close(fd);
	T_EQ_INT(eh_spool_clean_tmp(&sp, EH_SPOOL_STALE_SECONDS), 1);
	T_EQ_INT(t_count_files(tmpdir), 0);
	/* Empty: perhaps a writer's that is not locked yet; for a minute. */
	{
		char *p = sub(tmpdir, "empty.json");

		fd = open(p, O_WRONLY | O_CREAT, 0600);
		close(fd);
		T_EQ_INT(eh_spool_clean_tmp(&sp, EH_SPOOL_STALE_SECONDS), 0);
		T_EQ_INT(t_count_files(tmpdir), 1);
		{
			struct timespec ts[2];

			clock_gettime(CLOCK_REALTIME, &ts[0]);
			ts[0].tv_sec -= 120;
			ts[1] = ts[0];
			T_EQ_INT(utimensat(AT_FDCWD, p, ts, 0), 0);
		}
		T_EQ_INT(eh_spool_clean_tmp(&sp, EH_SPOOL_STALE_SECONDS), 1);
		T_EQ_INT(t_count_files(tmpdir), 0);
		free(p);
	}
	/* Not a regular file, fresh: left for its 36 hours. */
	{
		char *p = sub(tmpdir, "adir");

		T_EQ_INT(mkdir(p, 0700), 0);
		T_EQ_INT(eh_spool_clean_tmp(&sp, EH_SPOOL_STALE_SECONDS), 0);
		rmdir(p);
		free(p);
	}
	touch(newdir, "a.json", 0);
	touch(newdir, ".hidden", 0);
	T_EQ_INT(eh_spool_count(&sp, &n), EH_OK);
	T_EQ_INT(n, 1);
	eh_spool_close(&sp);
	t_rmtree(dir);
	free(tmpdir);
	free(newdir);
	free(dir);
}

/*
 * The names of two hosts collide: host names are cut to 32 characters,
 * and a container's pids mean nothing in another PID namespace.  A
 * writer's file named with this host's tag and a pid that does not run
 * here is a live writer's all the same while it is held.
 */
static void
clean_ignores_names(void)
{
	struct eh_spool sp;
	char *dir = t_tmpdir(), *tmpdir = sub(dir, "tmp"), name[128];
	int fd, fd2;

	T_EQ_INT(eh_spool_open(&sp, dir), EH_OK);
	snprintf(name, sizeof(name),
	    "20260101T000000.000000Z-0123456789abcdef.%s.%ld", sp.host,
	    (long)dead_pid());
	touch(tmpdir, name, 0);
	fd = hold(tmpdir, name);
	snprintf(name, sizeof(name),
	    "20260101T000000.000001Z-0123456789abcdef.%s.%ld", sp.host,
	    (long)getpid());
	touch(tmpdir, name, 0);
	fd2 = hold(tmpdir, name);
	T_EQ_INT(eh_spool_clean_tmp(&sp, EH_SPOOL_STALE_SECONDS), 0);
	T_EQ_INT(t_count_files(tmpdir), 2);
	/* The writers gone (their locks with them): both go. */
	close(fd);
	close(fd2);
	T_EQ_INT(eh_spool_clean_tmp(&sp, EH_SPOOL_STALE_SECONDS), 2);
	T_EQ_INT(t_count_files(tmpdir), 0);
	eh_spool_close(&sp);
	t_rmtree(dir);
	free(tmpdir);
	free(dir);
}

struct cleaner {
	const char *dir;
	atomic_int stop;
	unsigned long removed, passes;
};

static void *
clean_loop(void *arg)
{
	struct cleaner *c = arg;
	struct eh_spool sp;

	if (eh_spool_open(&sp, c->dir) != EH_OK)
		return NULL;
	while (!atomic_load(&c->stop)) {
		c->removed += eh_spool_clean_tmp(&sp, EH_SPOOL_STALE_SECONDS);
		c->passes++;
	}
	eh_spool_close(&sp);
	return NULL;
}

/*
 * A real writer and a real cleaner at once, the writer's tmp/ names
 * those of a writer whose pid does not run here (another PID namespace
 * with the same 32-character host tag): not one delivery fails.
 */
static void
clean_beside_writer(void)
{
	struct eh_spool sp;
	struct eh_event ev;
	struct cleaner c;
	pthread_t th;
	char *dir = t_tmpdir(), *tmpdir = sub(dir, "tmp"),
	    *newdir = sub(dir, "new"), id[EH_ID_LEN + 1];
	int dup, i, failed = 0;

	T_EQ_INT(eh_spool_open(&sp, dir), EH_OK);
	sp.pid = dead_pid();
	form_event(&ev, "TransID=1&EventType=transaction");
	memset(&c, 0, sizeof(c));
	c.dir = dir;
	atomic_init(&c.stop, 0);
	T_EQ_INT(pthread_create(&th, NULL, clean_loop, &c), 0);
	for (i = 0; i < 400; i++)
		if (eh_spool_put(&sp, &ev, NULL, id, &dup) != EH_OK) {
			if (failed++ == 0)
				fprintf(stderr, "  put %d: %s (%s)\n", i,
				    sp.sys_op, strerror(sp.sys_errno));
		}
	atomic_store(&c.stop, 1);
	pthread_join(th, NULL);
	T_EQ_INT(failed, 0);
	T_EQ_INT(c.removed, 0);
	T_CHECK(c.passes > 0);
	T_EQ_INT(t_count_files(newdir), 400);
	T_EQ_INT(t_count_files(tmpdir), 0);
	eh_event_free(&ev);
	eh_spool_close(&sp);
	t_rmtree(dir);
	free(tmpdir);
	free(newdir);
	free(dir);
}

static void
failure_leaves_nothing(void)
{
	struct eh_spool sp;
	struct eh_event ev;
	char *dir = t_tmpdir(), *tmpdir = sub(dir, "tmp"),
	    *newdir = sub(dir, "new"), id[EH_ID_LEN + 1];
	int dup;

	T_EQ_INT(eh_spool_open(&sp, dir), EH_OK);
	form_event(&ev, "TransID=1&EventType=transaction");
	/* new/ vanishes under the open handle: the rename fails. */
	T_EQ_INT(rmdir(newdir), 0);
	T_EQ_INT(eh_spool_put(&sp, &ev, NULL, id, &dup), EH_ERR_SPOOL_IO);
	T_EQ_STR(sp.sys_op, "rename");
	T_EQ_STR(id, "");
	T_EQ_INT(t_count_files(tmpdir), 0);
	/* The whole spool vanishes: creating in tmp/ fails, probe too. */
	eh_spool_close(&sp);
	T_EQ_INT(eh_spool_open(&sp, dir), EH_OK);
	t_rmtree(dir);
	T_EQ_INT(eh_spool_probe(&sp), EH_ERR_SPOOL_IO);
	T_EQ_INT(eh_spool_put(&sp, &ev, NULL, id, &dup), EH_ERR_SPOOL_IO);
	T_EQ_STR(sp.sys_op, "create tmp file");
	eh_spool_close(&sp);
	/* Reopening recreates it. */
	T_EQ_INT(eh_spool_open(&sp, dir), EH_OK);
	T_EQ_INT(eh_spool_probe(&sp), EH_OK);
	T_EQ_INT(eh_spool_put(&sp, &ev, NULL, id, &dup), EH_OK);
	eh_event_free(&ev);
	eh_spool_close(&sp);
	t_rmtree(dir);
	free(tmpdir);
	free(newdir);
	free(dir);
}

/* The marker of ev: seen/<ab>/<key>; its target, or "" if none. */
static void
marker(const char *dir, const struct eh_event *ev, char *buf, size_t bufsz)
{
	char rel[256];
	ssize_t n;

	snprintf(rel, sizeof(rel), "%s/seen/%.2s/%s", dir, ev->dedupe_key,
	    ev->dedupe_key);
	n = readlink(rel, buf, bufsz - 1);
	buf[n > 0 ? n : 0] = '\0';
}

static void
sharded_markers(void)
{
	struct eh_spool sp;
	struct eh_event a, b, c;
	char *dir = t_tmpdir(), *newdir = sub(dir, "new"), *p,
	    id[EH_ID_LEN + 1], id2[EH_ID_LEN + 1], target[64], rel[256];
	int dup, fd;

	T_EQ_INT(eh_spool_open(&sp, dir), EH_OK);
	event(&a, "{\"name\":\"X\",\"packageId\":\"shard-a\"}");
	T_EQ_INT(eh_spool_put(&sp, &a, NULL, id, &dup), EH_OK);
	T_EQ_INT(dup, 0);
	marker(dir, &a, target, sizeof(target));
	T_EQ_STR(target, id);
	/* Nothing but shards and the lock file in seen/ itself. */
	snprintf(rel, sizeof(rel), "%s/seen/%s", dir, a.dedupe_key);
	T_CHECK(access(rel, F_OK) != 0);
	p = sub(dir, "seen/.lock");
	T_CHECK(access(p, F_OK) == 0);
	T_EQ_INT(mode_of(p), 0600);
	free(p);
	snprintf(rel, sizeof(rel), "%s/seen/%.2s", dir, a.dedupe_key);
	T_EQ_INT(mode_of(rel), 0700);
	/* A marker from before the shards, seen/<key>, still counts: a
	 * symbolic link, and a regular file (older still). */
	event(&b, "{\"name\":\"X\",\"packageId\":\"legacy-link\"}");
	snprintf(rel, sizeof(rel), "%s/seen/%s", dir, b.dedupe_key);
	T_EQ_INT(symlink("20250101T000000.000000Z-00000000000000aa", rel), 0);
	T_EQ_INT(eh_spool_put(&sp, &b, NULL, id2, &dup), EH_OK);
	T_EQ_INT(dup, 1);
	T_EQ_STR(id2, "20250101T000000.000000Z-00000000000000aa");
	event(&c, "{\"name\":\"X\",\"packageId\":\"legacy-file\"}");
	snprintf(rel, sizeof(rel), "%s/seen/%s", dir, c.dedupe_key);
	fd = open(rel, O_WRONLY | O_CREAT | O_EXCL, 0600);
	T_CHECK(fd >= 0);
	close(fd);
	T_EQ_INT(eh_spool_put(&sp, &c, NULL, id2, &dup), EH_OK);
	T_EQ_INT(dup, 1);
	T_EQ_INT(t_count_files(newdir), 1);
	/* The first event again: found in its shard. */
	T_EQ_INT(eh_spool_put(&sp, &a, NULL, id2, &dup), EH_OK);
	T_EQ_INT(dup, 1);
	T_EQ_STR(id2, id);
	eh_event_free(&a);
	eh_event_free(&b);
	eh_event_free(&c);
	eh_spool_close(&sp);
	t_rmtree(dir);
	free(newdir);
	free(dir);
}

#define RACE_THREADS 16
#define RACE_PUTS 13    /* 16 x 13 = 208 deliveries of one event */

struct racer {
	const char *dir;
	const struct eh_event *ev;
	pthread_barrier_t *start;
	int stored, dups, errors;
};

/* One worker thread: a handle of its own, then the same event again
 * and again, all threads let go at once. */
static void *
race_one(void *arg)
{
	struct racer *r = arg;
	struct eh_spool sp;
	char id[EH_ID_LEN + 1];
	int dup, i, ok;

	ok = eh_spool_open(&sp, r->dir) == EH_OK;
	pthread_barrier_wait(r->start);
	for (i = 0; ok && i < RACE_PUTS; i++) {
		if (eh_spool_put(&sp, r->ev, NULL, id, &dup) != EH_OK)
			r->errors++;
		else if (dup)
			r->dups++;
		else
			r->stored++;
	}
	if (!ok)
		r->errors++;
	eh_spool_close(&sp);
	return NULL;
}

/* nthreads racers on ev in dir: how many stored it (-1: an error). */
static int
race(const char *dir, const struct eh_event *ev, int nthreads)
{
	pthread_barrier_t start;
	pthread_t th[RACE_THREADS];
	struct racer r[RACE_THREADS];
	int i, stored = 0, errors = 0;

	pthread_barrier_init(&start, NULL, (unsigned)nthreads);
	for (i = 0; i < nthreads; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].dir = dir;
		r[i].ev = ev;
		r[i].start = &start;
		if (pthread_create(&th[i], NULL, race_one, &r[i]) != 0)
			return -1;
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		stored += r[i].stored;
		errors += r[i].errors;
	}
	pthread_barrier_destroy(&start);
	return errors ? -1 : stored;
}

/*
 * 208 deliveries of one OneSpan event at once from 16 threads, each
 * with its own handle as the receiver's threads have: one file.  Then
 * two processes of 8 threads each: one file again.
 */
static void
dedupe_race(void)
{
	struct eh_event a, b;
	char *dir = t_tmpdir(), *newdir = sub(dir, "new");
	int go[2], res[2], st, i, total = 0;
	pid_t kid[2];
	unsigned char c;

	event(&a, "{\"name\":\"PACKAGE_COMPLETE\",\"packageId\":\"race-1\"}");
	T_EQ_INT(race(dir, &a, RACE_THREADS), 1);
	T_EQ_INT(t_count_files(newdir), 1);

	event(&b, "{\"name\":\"PACKAGE_COMPLETE\",\"packageId\":\"race-2\"}");
	T_EQ_INT(pipe(go), 0);
	T_EQ_INT(pipe(res), 0);
	for (i = 0; i < 2; i++) {
		kid[i] = fork();
		if (kid[i] == 0) {
			close(go[1]);
			close(res[0]);
			/* Both start when the pipe closes. */
			st = read(go[0], &c, 1) == 0 ?
			    race(dir, &b, RACE_THREADS / 2) : -1;
			/* How many it stored, by the pipe (under valgrind the
			 * exit status may be valgrind's). */
			c = st < 0 ? 100 : (unsigned char)st;
			if (write(res[1], &c, 1) != 1)
				c = 100;
			eh_event_free(&a);
			eh_event_free(&b);
			free(newdir);
			free(dir);
			_exit(0);
		}
	}
	close(go[0]);
	close(go[1]);
	close(res[1]);
	for (i = 0; i < 2; i++) {
		T_CHECK(kid[i] > 0 && waitpid(kid[i], &st, 0) == kid[i]);
		T_EQ_INT(read(res[0], &c, 1), 1);
		T_CHECK(c != 100);
		total += c;
	}
	close(res[0]);
	T_EQ_INT(total, 1);
	T_EQ_INT(t_count_files(newdir), 2);
	eh_event_free(&a);
	eh_event_free(&b);
	t_rmtree(dir);
	free(newdir);
	free(dir);
}

/*
 * mv spool spool.old; mkdir spool: the old directories are still open
 * and writable, but no reader looks there any more.
 */
static void
moved_spool(void)
{
	struct eh_spool sp;
	struct eh_event ev;
	char *dir = t_tmpdir(), *spool = sub(dir, "spool"),
	    *old = sub(dir, "spool.old"), *newdir = sub(spool, "new"),
	    *oldnew = sub(old, "new"), id[EH_ID_LEN + 1];
	int dup;

	T_EQ_INT(eh_spool_open(&sp, spool), EH_OK);
	T_EQ_INT(eh_spool_alive(&sp), 1);
	T_EQ_INT(rename(spool, old), 0);
	T_EQ_INT(mkdir(spool, 0700), 0);
	T_EQ_INT(eh_spool_alive(&sp), 0);
	/* Reopening follows the path. */
	T_EQ_INT(eh_spool_reopen(&sp, spool), EH_OK);
	T_EQ_INT(eh_spool_alive(&sp), 1);
	form_event(&ev, "TransID=1&EventType=transaction");
	T_EQ_INT(eh_spool_put(&sp, &ev, NULL, id, &dup), EH_OK);
	T_EQ_INT(t_count_files(newdir), 1);
	T_EQ_INT(t_count_files(oldnew), 0);
	/* new/ alone removed, or replaced. */
	t_rmtree(newdir);
	T_EQ_INT(eh_spool_alive(&sp), 0);
	T_EQ_INT(mkdir(newdir, 0700), 0);
	T_EQ_INT(eh_spool_alive(&sp), 0);
	eh_spool_close(&sp);
	T_EQ_INT(eh_spool_alive(&sp), 0);
	eh_event_free(&ev);
	t_rmtree(dir);
	free(spool);
	free(old);
	free(newdir);
	free(oldnew);
	free(dir);
}

/*
 * count_sample is the handle's setting: close and reopen keep it (and
 * the id clock), open resets it.  With it, a CGI-like fresh handle
 * under a large limit mostly does not read new/.
 */
static void
sample_kept(void)
{
	struct eh_spool sp;
	struct eh_config cfg;
	struct timespec last;
	char *dir = t_tmpdir();
	int i, counted = 0;

	eh_config_init(&cfg);
	cfg.min_free = 0;
	cfg.max_events = 100000;
	eh_spool_init(&sp);
	sp.count_sample = 16;
	T_EQ_INT(eh_spool_reopen(&sp, dir), EH_OK);
	T_EQ_INT(sp.count_sample, 16);
	T_EQ_INT(eh_spool_admit(&sp, &cfg), EH_OK);
	last = sp.last = (struct timespec){ 2000000000, 5000 };
	eh_spool_close(&sp);
	T_EQ_INT(sp.count_sample, 16);
	T_EQ_INT(sp.last.tv_sec, last.tv_sec);
	T_EQ_INT(sp.dirfd, -1);
	T_EQ_INT(eh_spool_reopen(&sp, dir), EH_OK);
	T_EQ_INT(sp.count_sample, 16);
	T_EQ_INT(sp.last.tv_sec, last.tv_sec);
	eh_spool_close(&sp);
	/* As CGI: one fresh handle per request. */
	for (i = 0; i < 64; i++) {
		eh_spool_init(&sp);
		sp.count_sample = 16;
		T_EQ_INT(eh_spool_reopen(&sp, dir), EH_OK);
		T_EQ_INT(eh_spool_admit(&sp, &cfg), EH_OK);
		counted += sp.counted;
		eh_spool_close(&sp);
	}
	/* About 4 expected; 32 or more is 1 chance in 10^20. */
	T_CHECK(counted < 32);
	/* A small limit is always counted exactly. */
	cfg.max_events = 1000;
	T_EQ_INT(eh_spool_reopen(&sp, dir), EH_OK);
	T_EQ_INT(eh_spool_admit(&sp, &cfg), EH_OK);
	T_EQ_INT(sp.counted, 1);
	eh_spool_close(&sp);
	/* open is a fresh start. */
	T_EQ_INT(eh_spool_open(&sp, dir), EH_OK);
	T_EQ_INT(sp.count_sample, 0);
	eh_spool_close(&sp);
	eh_config_free(&cfg);
	t_rmtree(dir);
	free(dir);
}

const struct t_case t_spool[] = {
	{ "open creates 0700 directories, refuses a missing parent", open_creates },
	{ "put stores one whole 0600 record in new/", put_one },
	{ "OneSpan deduplicated, AlphaTrust not", dedupe },
	{ "ids increase within a handle", ids_increase },
	{ "ids' random parts: a stream per handle, none repeated", ids_random_part },
	{ "free space and event limits", limits },
	{ "tmp/: stale or unheld files go, held ones stay", clean_and_count },
	{ "tmp/: a held file stays whatever its name says", clean_ignores_names },
	{ "tmp/: a cleaner beside a live writer takes nothing", clean_beside_writer },
	{ "a failed put leaves nothing; reopening recovers", failure_leaves_nothing },
	{ "markers in seen/<ab>/, old seen/<key> ones honoured", sharded_markers },
	{ "one OneSpan event from 16 threads, then 2 processes: one file", dedupe_race },
	{ "a spool moved and replaced is not alive; reopen follows it", moved_spool },
	{ "count_sample kept by close and reopen; CGI handles sample", sample_kept },
	{ NULL, NULL }
};
