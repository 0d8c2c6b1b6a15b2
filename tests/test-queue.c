/* lib/queue.c: the decision table, the state file, claims and moves. */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "../lib/esignhook.h"
#include "t.h"

#define S 1000LL
#define NOW (1800000000LL * 1000)

static void
schedule(struct eh_ctl_config *c, const char *s)
{
	eh_ctl_config_init(c);
	T_EQ_INT(eh_schedule_parse(c, s), EH_OK);
}

static const struct {
	const char *schedule;
	unsigned before;
	enum eh_result r;
	int64_t retry_after;
	double jitter;
	enum eh_folder folder;
	int64_t delay;          /* next_at - NOW, retry only */
	unsigned attempts;
} next_cases[] = {
	{ "5s,5m", 0, EH_RES_OK, 0, 1.0, EH_F_DONE, 0, 0 },
	{ "5s,5m", 1, EH_RES_OK, 0, 1.0, EH_F_DONE, 0, 1 },
	{ "5s,5m", 0, EH_RES_TEMP, 0, 1.0, EH_F_RETRY, 5 * S, 1 },
	{ "5s,5m", 1, EH_RES_TEMP, 0, 1.0, EH_F_RETRY, 300 * S, 2 },
	/* The schedule's last wait used: the next failure is the end. */
	{ "5s,5m", 2, EH_RES_TEMP, 0, 1.0, EH_F_FAILED, 0, 3 },
	{ "5s,5m", 0, EH_RES_PERM, 0, 1.0, EH_F_FAILED, 0, 1 },
	{ "", 0, EH_RES_TEMP, 0, 1.0, EH_F_FAILED, 0, 1 },
	/* Jitter scales the wait, within [0.8, 1.2] only. */
	{ "10s", 0, EH_RES_TEMP, 0, 0.8, EH_F_RETRY, 8 * S, 1 },
	{ "10s", 0, EH_RES_TEMP, 0, 1.2, EH_F_RETRY, 12 * S, 1 },
	{ "10s", 0, EH_RES_TEMP, 0, 5.0, EH_F_RETRY, 12 * S, 1 },
	{ "10s", 0, EH_RES_TEMP, 0, 0.0, EH_F_RETRY, 8 * S, 1 },
	/* Retry-After overrides, capped at the longest wait. */
	{ "1s,1h", 0, EH_RES_TEMP, 120 * S, 1.0, EH_F_RETRY, 120 * S, 1 },
	{ "1s,1m", 0, EH_RES_TEMP, 7200 * S, 1.0, EH_F_RETRY, 60 * S, 1 },
	{ "1s", 1, EH_RES_TEMP, 5 * S, 1.0, EH_F_FAILED, 0, 2 },
};

static void
next_table(void)
{
	struct eh_ctl_config c;
	struct eh_next n;
	size_t i;

	for (i = 0; i < sizeof(next_cases) / sizeof(next_cases[0]); i++) {
		schedule(&c, next_cases[i].schedule);
		eh_queue_next(&n, &c, next_cases[i].before, next_cases[i].r, NOW,
		    next_cases[i].retry_after, next_cases[i].jitter);
		if (n.folder != next_cases[i].folder ||
		    n.attempts != next_cases[i].attempts ||
		    (n.folder == EH_F_RETRY &&
		    n.next_at_ms - NOW != next_cases[i].delay))
			fprintf(stderr, "  case %zu\n", i);
		T_EQ_INT(n.folder, next_cases[i].folder);
		T_EQ_INT(n.attempts, next_cases[i].attempts);
		if (n.folder == EH_F_RETRY)
			T_EQ_INT(n.next_at_ms - NOW, next_cases[i].delay);
		eh_ctl_config_free(&c);
	}
}

static void
default_schedule_is_three_days(void)
{
	struct eh_ctl_config c;
	struct eh_next n;
	int64_t total = 0;
	unsigned a;

	eh_ctl_config_init(&c);
	T_EQ_INT(c.schedule_n, 9);
	for (a = 0;; a++) {
		eh_queue_next(&n, &c, a, EH_RES_TEMP, NOW + total, 0, 1.0);
		if (n.folder == EH_F_FAILED)
			break;
		total = n.next_at_ms - NOW;
	}
	/* Ten attempts, 5s + 5m + 30m + 2h + 5h + 10h + 14h + 20h + 24h. */
	T_EQ_INT(a, 9);
	T_EQ_INT(total, (5 + 300 + 1800 + 7200 + 18000 + 36000 + 50400 +
	    72000 + 86400) * S);
	eh_ctl_config_free(&c);
}

static void
state_round_trip(void)
{
	struct eh_qstate a, b;
	char *text;
	size_t len;

	memset(&a, 0, sizeof(a));
	a.attempts = 3;
	a.next_at_ms = NOW + 5 * S + 250;
	snprintf(a.last_error, sizeof(a.last_error), "forward: HTTP 500 \"x\"");
	a.actions_done = 1 | 2;     /* download, exec */
	a.updated_at_ms = NOW;
	T_EQ_INT(eh_qstate_dump(&a, &text, &len), EH_OK);
	T_EQ_INT(len, strlen(text));
	T_CHECK(text[len - 1] == '\n');
	T_CHECK(strchr(text, '\n') == text + len - 1);
	T_CHECK(strstr(text, "\"actions_done\":[\"download\",\"exec\"]") != NULL);
	T_CHECK(strstr(text, "\"next_attempt_at\":\"2027-01-15T08:00:05.250Z\"") !=
	    NULL);
	T_EQ_INT(eh_qstate_parse(&b, text, len), EH_OK);
	T_EQ_INT(b.attempts, 3);
	T_EQ_INT(b.next_at_ms, NOW + 5 * S + 250);
	T_EQ_STR(b.last_error, a.last_error);
	T_EQ_INT(b.actions_done, 3);
	T_EQ_INT(b.updated_at_ms, NOW);
	free(text);

	/* No next attempt, no error: nulls. */
	memset(&a, 0, sizeof(a));
	T_EQ_INT(eh_qstate_dump(&a, &text, &len), EH_OK);
	T_CHECK(strstr(text, "\"next_attempt_at\":null") != NULL);
	T_CHECK(strstr(text, "\"last_error\":null") != NULL);
	free(text);
}

static void
state_bad(void)
{
	static const char *const bad[] = {
		"", "[]", "{}", "{\"attempts\":-1}", "{\"attempts\":\"3\"}",
		"{\"attempts\":1,\"actions_done\":\"exec\"}",
		"{\"attempts\":1,\"last_error\":5}",
		"{\"attempts\":1,\"attempts\":2}",
	};
	struct eh_qstate st;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_CHECK(eh_qstate_parse(&st, bad[i], strlen(bad[i])) != EH_OK);
	/* Unknown action names are ignored: the table may change. */
	{
		static const char ok[] = "{\"attempts\":1,\"actions_done\":"
		    "[\"archive\",\"forward\"]}";

		T_EQ_INT(eh_qstate_parse(&st, ok, strlen(ok)), EH_OK);
	}
	T_EQ_INT(st.actions_done, 4);
}

static void
id_times(void)
{
	T_EQ_INT(eh_id_time_ms("20261122T113204.123456Z-0123456789abcdef"),
	    1795347124123LL);
	T_EQ_INT(eh_id_time_ms("20261122T113204.123456Z-0123456789abcde"), -1);
	T_EQ_INT(eh_id_time_ms("2026112XT113204.123456Z-0123456789abcdef"), -1);
	T_EQ_INT(eh_id_time_ms("20261322T113204.123456Z-0123456789abcdef"), -1);
	T_EQ_INT(eh_folder_parse("retry"), EH_F_RETRY);
	T_EQ_INT(eh_folder_parse("tmp"), -1);
	T_EQ_STR(eh_folder_name(EH_F_FAILED), "failed");
}

/* A spool with n records in new/, written as the receiver would. */
static char *
spool_with(unsigned n, char ids[][EH_ID_LEN + 1])
{
	struct eh_spool sp;
	struct eh_event ev;
	char *dir = t_tmpdir();
	unsigned i;
	int dup;

	memset(&ev, 0, sizeof(ev));
	ev.provider = EH_PROVIDER_ALPHATRUST;
	ev.name = "transaction";
	ev.transaction_id = "42";
	ev.data = "{\"EventType\":\"transaction\"}";
	ev.data_len = strlen(ev.data);
	T_EQ_INT(eh_spool_open(&sp, dir), EH_OK);
	for (i = 0; i < n; i++)
		T_EQ_INT(eh_spool_put(&sp, &ev, NULL, ids[i], &dup), EH_OK);
	eh_spool_close(&sp);
	return dir;
}

static int
exists(const char *dir, const char *sub, const char *id, const char *sfx)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s/%s%s", dir, sub, id, sfx);
	return stat(path, &st) == 0;
}

static void
claim_and_finish(void)
{
	char ids[3][EH_ID_LEN + 1], **list;
	struct eh_queue q, q2;
	struct eh_claim c, c2;
	struct eh_qstate st;
	enum eh_folder f;
	size_t n;
	char *dir = spool_with(3, ids);

	T_EQ_INT(eh_queue_open(&q, dir), EH_OK);
	T_EQ_INT(eh_queue_open(&q2, dir), EH_OK);
	T_EQ_INT(eh_queue_ids(&q, EH_F_NEW, &list, &n), EH_OK);
	T_EQ_INT(n, 3);
	/* Name order is arrival order. */
	T_EQ_STR(list[0], ids[0]);
	T_EQ_STR(list[2], ids[2]);
	eh_ids_free(list, n);

	T_EQ_INT(eh_queue_claim(&q, EH_F_NEW, ids[0], NOW, &c), 1);
	T_CHECK(exists(dir, "cur", ids[0], ".json"));
	T_CHECK(!exists(dir, "new", ids[0], ".json"));
	T_CHECK(c.len > 0 && c.buf[c.len - 1] == '\n');
	T_EQ_INT(c.st.attempts, 0);
	/* A second drainer cannot take it, from cur/ or new/. */
	T_EQ_INT(eh_queue_claim(&q2, EH_F_CUR, ids[0], NOW, &c2), 0);
	T_EQ_INT(eh_queue_claim(&q2, EH_F_NEW, ids[0], NOW, &c2), 0);
	/* Nor can the operator move it meanwhile. */
	T_EQ_INT(eh_queue_move(&q2, ids[0], EH_F_CUR, EH_F_NEW), 0);

	c.st.attempts = 1;
	c.st.next_at_ms = NOW;
	snprintf(c.st.last_error, sizeof(c.st.last_error), "exec: exit 1");
	T_EQ_INT(eh_queue_finish(&q, &c, EH_F_RETRY, 1), 0);
	T_CHECK(exists(dir, "retry", ids[0], ".json"));
	T_CHECK(exists(dir, "retry", ids[0], ".state"));
	T_CHECK(!exists(dir, "cur", ids[0], ".json"));
	T_CHECK(!exists(dir, "cur", ids[0], ".state"));
	T_EQ_INT(eh_queue_state(&q2, EH_F_RETRY, ids[0], &st), EH_OK);
	T_EQ_INT(st.attempts, 1);
	T_EQ_STR(st.last_error, "exec: exit 1");

	/* From retry/, the state comes along into cur/. */
	T_EQ_INT(eh_queue_claim(&q2, EH_F_RETRY, ids[0], NOW, &c2), 1);
	T_EQ_INT(c2.st.attempts, 1);
	T_CHECK(exists(dir, "cur", ids[0], ".state"));
	c2.st.actions_done = 2;
	T_EQ_INT(eh_queue_save(&q2, &c2), 0);
	T_EQ_INT(eh_queue_state(&q, EH_F_CUR, ids[0], &st), EH_OK);
	T_EQ_INT(st.actions_done, 2);
	T_EQ_INT(eh_queue_finish(&q2, &c2, EH_F_FAILED, 1), 0);
	T_EQ_INT(eh_queue_find(&q, ids[0], &f), EH_OK);
	T_EQ_INT(f, EH_F_FAILED);

	/* The operator's retry: back to new/, with no state. */
	T_EQ_INT(eh_queue_move(&q, ids[0], EH_F_FAILED, EH_F_NEW), 1);
	T_CHECK(exists(dir, "new", ids[0], ".json"));
	T_CHECK(!exists(dir, "failed", ids[0], ".state"));
	T_CHECK(!exists(dir, "new", ids[0], ".state"));

	/* done/ with keep 0: gone. */
	T_EQ_INT(eh_queue_claim(&q, EH_F_NEW, ids[1], NOW, &c), 1);
	T_EQ_INT(eh_queue_finish(&q, &c, EH_F_DONE, 0), 0);
	T_EQ_INT(eh_queue_find(&q, ids[1], &f), EH_ERR_FIELD_MISSING);
	/* Claiming what is gone is not an error. */
	T_EQ_INT(eh_queue_claim(&q, EH_F_NEW, ids[1], NOW, &c), 0);
	T_EQ_INT(eh_queue_remove(&q, ids[2], EH_F_NEW), 1);
	T_EQ_INT(eh_queue_remove(&q, ids[2], EH_F_NEW), 0);
	/* Ids that could name another directory are refused. */
	T_EQ_INT(eh_queue_claim(&q, EH_F_NEW, "../x", NOW, &c), 0);
	T_EQ_INT(eh_queue_find(&q, "../new/x", &f), EH_ERR_FIELD_MISSING);

	eh_queue_close(&q);
	eh_queue_close(&q2);
	eh_queue_close(&q);
	t_rmtree(dir);
	free(dir);
}

/* A drainer that died holds no lock: its event in cur/ is claimable. */
static void
orphan_in_cur(void)
{
	char ids[1][EH_ID_LEN + 1], path[512];
	struct eh_queue q;
	struct eh_claim c;
	char *dir = spool_with(1, ids);
	pid_t pid;
	int fd, status;

	T_EQ_INT(eh_queue_open(&q, dir), EH_OK);
	pid = fork();
	if (pid == 0) {
		struct eh_claim cc;

		/* Claimed, then killed as kill -9 would. */
		if (eh_queue_claim(&q, EH_F_NEW, ids[0], NOW, &cc) == 1)
			raise(SIGKILL);
		_exit(1);
	}
	T_CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
	    WTERMSIG(status) == SIGKILL);
	T_CHECK(exists(dir, "cur", ids[0], ".json"));
	/* While someone holds the lock, it is theirs. */
	snprintf(path, sizeof(path), "%s/cur/%s.json", dir, ids[0]);
	fd = open(path, O_RDONLY);
	T_CHECK(fd >= 0 && flock(fd, LOCK_EX) == 0);
	T_EQ_INT(eh_queue_claim(&q, EH_F_CUR, ids[0], NOW, &c), 0);
	close(fd);
	T_EQ_INT(eh_queue_claim(&q, EH_F_CUR, ids[0], NOW, &c), 1);
	T_EQ_INT(eh_queue_finish(&q, &c, EH_F_DONE, 1), 0);
	T_CHECK(exists(dir, "done", ids[0], ".json"));
	eh_queue_close(&q);
	t_rmtree(dir);
	free(dir);
}

/* What is not a record goes to failed/; the queue goes on. */
static void
bad_entries(void)
{
	static const char *const names[] = {
		"20260101T000000.000000Z-000000000000000a",	/* symlink */
		"20260101T000000.000000Z-000000000000000b",	/* directory */
		"20260101T000000.000000Z-000000000000000c",	/* FIFO */
	};
	char ids[1][EH_ID_LEN + 1], path[512];
	struct eh_queue q;
	struct eh_claim c;
	struct eh_qstate st;
	char *dir = spool_with(1, ids);
	size_t i;

	snprintf(path, sizeof(path), "%s/new/%s.json", dir, names[0]);
	T_CHECK(symlink("/etc/passwd", path) == 0);
	snprintf(path, sizeof(path), "%s/new/%s.json", dir, names[1]);
	T_CHECK(mkdir(path, 0700) == 0);
	snprintf(path, sizeof(path), "%s/new/%s.json", dir, names[2]);
	T_CHECK(mkfifo(path, 0600) == 0);
	T_EQ_INT(eh_queue_open(&q, dir), EH_OK);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		T_EQ_INT(eh_queue_claim(&q, EH_F_NEW, names[i], NOW, &c), 2);
		T_CHECK(exists(dir, "failed", names[i], ".json"));
		T_CHECK(!exists(dir, "new", names[i], ".json"));
		T_EQ_INT(eh_queue_state(&q, EH_F_FAILED, names[i], &st), EH_OK);
		T_CHECK(strncmp(st.last_error, "unreadable record (", 19) == 0);
		T_EQ_INT(eh_queue_remove(&q, names[i], EH_F_FAILED), 1);
	}
	/* The good one is untouched and claimable. */
	T_EQ_INT(eh_queue_claim(&q, EH_F_NEW, ids[0], NOW, &c), 1);
	T_EQ_INT(eh_queue_finish(&q, &c, EH_F_DONE, 1), 0);
	eh_queue_close(&q);
	t_rmtree(dir);
	free(dir);
}

/* A long name is claimed and moved whole, never cut. */
static void
long_names(void)
{
	char ids[1][EH_ID_LEN + 1], from[600], to[600], longid[201];
	struct eh_queue q;
	struct eh_claim c;
	char *dir = spool_with(1, ids);

	memset(longid, 'x', 200);
	longid[200] = '\0';
	snprintf(from, sizeof(from), "%s/new/%s.json", dir, ids[0]);
	snprintf(to, sizeof(to), "%s/new/%s.json", dir, longid);
	T_CHECK(rename(from, to) == 0);
	T_EQ_INT(eh_queue_open(&q, dir), EH_OK);
	T_EQ_INT(eh_queue_claim(&q, EH_F_NEW, longid, NOW, &c), 1);
	T_EQ_STR(c.id, longid);
	T_EQ_INT(eh_queue_finish(&q, &c, EH_F_FAILED, 1), 0);
	T_CHECK(exists(dir, "failed", longid, ".json"));
	T_CHECK(exists(dir, "failed", longid, ".state"));
	eh_queue_close(&q);
	t_rmtree(dir);
	free(dir);
}

/* An event put back to wait by another drainer is not taken early. */
static void
retry_not_due(void)
{
	char ids[1][EH_ID_LEN + 1];
	struct eh_queue q;
	struct eh_claim c;
	char *dir = spool_with(1, ids);

	T_EQ_INT(eh_queue_open(&q, dir), EH_OK);
	T_EQ_INT(eh_queue_claim(&q, EH_F_NEW, ids[0], NOW, &c), 1);
	c.st.attempts = 1;
	c.st.next_at_ms = NOW + 60 * S;
	T_EQ_INT(eh_queue_finish(&q, &c, EH_F_RETRY, 1), 0);
	T_EQ_INT(eh_queue_claim(&q, EH_F_RETRY, ids[0], NOW, &c), 0);
	T_CHECK(exists(dir, "retry", ids[0], ".json"));
	T_EQ_INT(eh_queue_claim(&q, EH_F_RETRY, ids[0], NOW + 60 * S, &c), 1);
	T_EQ_INT(c.st.attempts, 1);
	T_EQ_INT(eh_queue_finish(&q, &c, EH_F_DONE, 1), 0);
	eh_queue_close(&q);
	t_rmtree(dir);
	free(dir);
}

/* eh_read_fd: up to max bytes exactly, one more is EFBIG. */
static void
read_bounded(void)
{
	static const size_t sizes[] = { 0, 1, 4095, 4096, 4097, 10000 };
	char *dir = t_tmpdir(), path[512], *data, *buf;
	size_t i, len;
	int fd;

	data = malloc(10001);
	T_CHECK(data != NULL);
	for (i = 0; data != NULL && i < 10001; i++)
		data[i] = (char)('a' + i % 26);
	snprintf(path, sizeof(path), "%s/f", dir);
	for (i = 0; data != NULL && i < sizeof(sizes) / sizeof(sizes[0]);
	    i++) {
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		T_CHECK(fd >= 0);
		T_EQ_INT(eh_write_all(fd, data, sizes[i]), 0);
		/* Exactly max: read whole, NUL-terminated. */
		T_EQ_INT(lseek(fd, 0, SEEK_SET), 0);
		T_EQ_INT(eh_read_fd(fd, sizes[i], &buf, &len), 0);
		T_EQ_INT(len, sizes[i]);
		T_CHECK(buf != NULL && memcmp(buf, data, len) == 0 &&
		    buf[len] == '\0');
		free(buf);
		/* One byte less allowed: too large, nothing returned. */
		if (sizes[i] > 0) {
			T_EQ_INT(lseek(fd, 0, SEEK_SET), 0);
			errno = 0;
			T_EQ_INT(eh_read_fd(fd, sizes[i] - 1, &buf, &len), -1);
			T_EQ_INT(errno, EFBIG);
			T_CHECK(buf == NULL && len == 0);
		}
		close(fd);
	}
	errno = 0;
	T_EQ_INT(eh_read_fd(-1, 10, &buf, &len), -1);
	T_EQ_INT(errno, EBADF);
	free(data);
	t_rmtree(dir);
	free(dir);
}

/* eh_write_atomic: replaced whole, mode exact, the failing step named. */
static void
write_atomic(void)
{
	char *dir = t_tmpdir(), path[512], *got;
	enum eh_wstep step = EH_WSTEP__MAX;
	struct stat st;
	size_t len;
	mode_t old;
	int dfd;

	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	T_CHECK(dfd >= 0);
	snprintf(path, sizeof(path), "%s/x.state", dir);
	old = umask(0277);
	T_EQ_INT(eh_write_atomic(dfd, "x.state", "one\n", 4, 0600, &step), 0);
	T_CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
	T_EQ_INT(eh_write_atomic(dfd, "x.state", "two", 3, 0640, NULL), 0);
	umask(old);
	got = t_read_file(path, &len);
	T_EQ_STR(got, "two");
	free(got);
	T_EQ_INT(stat(path, &st), 0);
	T_EQ_INT(st.st_mode & 07777, 0640);
	T_EQ_INT(t_count_files(dir), 1);
	/* Over a directory: the rename fails, no temporary is left. */
	snprintf(path, sizeof(path), "%s/sub", dir);
	T_EQ_INT(mkdir(path, 0700), 0);
	errno = 0;
	T_EQ_INT(eh_write_atomic(dfd, "sub", "x", 1, 0600, &step), -1);
	T_EQ_INT(step, EH_WSTEP_RENAME);
	T_CHECK(errno == EISDIR);
	T_EQ_INT(t_count_files(dir), 2);
	T_EQ_INT(eh_write_atomic(-1, "y", "x", 1, 0600, &step), -1);
	T_EQ_INT(step, EH_WSTEP_CREATE);
	close(dfd);
	t_rmtree(dir);
	free(dir);
}

/*
 * A pass that sends an event to retry/ says when it is due, so that a
 * follower wakes for it rather than at its next minute.
 */
static void
pass_next_due(void)
{
	char ids[1][EH_ID_LEN + 1];
	struct eh_drain_totals t;
	struct eh_ctl_config c;
	struct eh_config r;
	struct eh_queue q;
	struct eh_drain d;
	char *dir = spool_with(1, ids);
	int64_t due = -1, before;

	eh_config_init(&r);
	eh_ctl_config_init(&c);
	schedule(&c, "1h");
	c.exec = strdup("exit 3");
	T_EQ_INT(eh_queue_open(&q, dir), EH_OK);
	memset(&d, 0, sizeof(d));
	d.rcfg = &r;
	d.cfg = &c;
	d.q = &q;
	memset(&t, 0, sizeof(t));
	before = eh_now_ms();
	T_EQ_INT(eh_drain_pass(&d, &t, &due), 0);
	T_EQ_INT(t.retry, 1);
	/* 1h, times the jitter in [0.8, 1.2]. */
	T_CHECK(due >= before + 2880 * S && due <= eh_now_ms() + 4320 * S);
	T_CHECK(exists(dir, "retry", ids[0], ".json"));
	/* The next pass finds it waiting, and says the same. */
	T_EQ_INT(eh_drain_pass(&d, &t, &before), 0);
	T_EQ_INT(before, due);
	eh_queue_close(&q);
	eh_ctl_config_free(&c);
	eh_config_free(&r);
	t_rmtree(dir);
	free(dir);
}

const struct t_case t_queue[] = {
	{ "a pass's own retries set its next due time", pass_next_due },
	{ "symlinks, directories, FIFOs in new/ go to failed/", bad_entries },
	{ "a long name is claimed and moved whole", long_names },
	{ "a claim from retry/ waits for the event's time", retry_not_due },
	{ "where an event goes after an attempt (table)", next_table },
	{ "the default schedule: ten attempts over three days",
	    default_schedule_is_three_days },
	{ "state file written and read back", state_round_trip },
	{ "bad state files refused", state_bad },
	{ "times in ids; folder names", id_times },
	{ "claim, lock, finish, move, remove", claim_and_finish },
	{ "an event of a dead drainer is claimable in cur/", orphan_in_cur },
	{ "eh_read_fd: max bytes, one more is EFBIG", read_bounded },
	{ "eh_write_atomic: whole, mode exact, failing step", write_atomic },
	{ NULL, NULL }
};
