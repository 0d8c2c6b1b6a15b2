/* lib/spool.c: the maildir discipline, limits, dedupe, cleaning. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
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

	fd = open(p, O_WRONLY | O_CREAT, 0600);
	close(fd);
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= age;
	ts[1] = ts[0];
	utimensat(AT_FDCWD, p, ts, 0);
	free(p);
}

static void
clean_and_count(void)
{
	struct eh_spool sp;
	char *dir = t_tmpdir(), *tmpdir = sub(dir, "tmp"),
	    *newdir = sub(dir, "new");
	unsigned long n;

	T_EQ_INT(eh_spool_open(&sp, dir), EH_OK);
	touch(tmpdir, "old.json", EH_SPOOL_STALE_SECONDS + 60);
	touch(tmpdir, "fresh.json", 60);
	T_EQ_INT(eh_spool_clean_tmp(&sp, EH_SPOOL_STALE_SECONDS), 1);
	T_EQ_INT(t_count_files(tmpdir), 1);
	T_EQ_INT(eh_spool_clean_tmp(&sp, 0), 1);
	T_EQ_INT(t_count_files(tmpdir), 0);
	/* A fresh file whose writer is dead goes; a live writer's stays. */
	{
		char live[96];
		pid_t dead = fork();

		if (dead == 0)
			_exit(0);
		waitpid(dead, NULL, 0);
		snprintf(live, sizeof(live), "x.%s.%ld", sp.host,
		    (long)getpid());
		touch(tmpdir, live, 0);
		snprintf(live, sizeof(live), "y.%s.%ld", sp.host, (long)dead);
		touch(tmpdir, live, 0);
		/* Another host's writer is not ours to judge. */
		snprintf(live, sizeof(live), "w.otherhost.%ld", (long)dead);
		touch(tmpdir, live, 0);
		touch(tmpdir, "z.notapid", 0);
		T_EQ_INT(eh_spool_clean_tmp(&sp, EH_SPOOL_STALE_SECONDS), 1);
		T_EQ_INT(t_count_files(tmpdir), 3);
		T_EQ_INT(eh_spool_clean_tmp(&sp, EH_SPOOL_STALE_SECONDS), 0);
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

const struct t_case t_spool[] = {
	{ "open creates 0700 directories, refuses a missing parent", open_creates },
	{ "put stores one whole 0600 record in new/", put_one },
	{ "OneSpan deduplicated, AlphaTrust not", dedupe },
	{ "ids increase within a handle", ids_increase },
	{ "free space and event limits", limits },
	{ "stale tmp/ files cleaned, dot-files not counted", clean_and_count },
	{ "a failed put leaves nothing; reopening recovers", failure_leaves_nothing },
	{ NULL, NULL }
};
