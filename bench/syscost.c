/*
 * What one system call of esignhook's delivery path costs, in
 * nanoseconds, without the sandbox and inside the FastCGI worker's
 * (cgi/sandbox.c's eh_sandbox_enter: Landlock on a spool-like
 * directory, the libseccomp allow list), for bench/profile.sh.
 * callgrind counts user space only, and this VM has no hardware
 * counters: the filters' cost is seen here, as the difference.
 *
 * Each operation runs in batches; a figure is the fastest batch's
 * mean (the least disturbed by other load).  The two modes run in
 * turn in forked children, ROUNDS times, and the fastest of each is
 * kept.  No fsync: its cost is the disk's, the ceiling's alike.
 *   syscost DIR [ROUNDS]   DIR: a scratch directory (emptied)
 * Prints "op off_ns sandbox_ns" lines.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/random.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../cgi/sandbox.h"

#define BATCHES 15

static int spoolfd, tmpfd, newfd, seenfd, lockfd, sock;
static char newpath[4096];
static timer_t timer;
static unsigned long seq;

static double
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void
op_getpid(void)
{
	(void)syscall(SYS_getpid);
}

static void
op_stat(void)
{
	struct stat st;

	(void)stat(newpath, &st);
}

static void
op_fstat(void)
{
	struct stat st;

	(void)fstat(lockfd, &st);
}

static void
op_fstatfs(void)
{
	struct statfs sf;

	(void)fstatfs(newfd, &sf);
}

static void
op_lockfile(void)
{
	int fd = openat(seenfd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600);

	if (fd >= 0)
		close(fd);
}

static void
op_bytelock(void)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = (off_t)(seq++ & 0xffff);
	fl.l_len = 1;
	(void)fcntl(lockfd, F_OFD_SETLK, &fl);
	fl.l_type = F_UNLCK;
	(void)fcntl(lockfd, F_OFD_SETLK, &fl);
}

static void
op_readlink(void)
{
	char buf[64];

	(void)readlinkat(seenfd,
	    "ab/ab0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab",
	    buf, sizeof(buf));
}

static void
op_symlink(void)
{
	char name[64];

	snprintf(name, sizeof(name), "ab/m%lu", seq++);
	(void)symlinkat("20261201T000000.000000Z-0123456789abcdef", seenfd,
	    name);
	(void)unlinkat(seenfd, name, 0);
}

static void
op_setsockopt(void)
{
	struct timeval tv = { 10, 0 };

	(void)setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static void
op_timer(void)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	(void)timer_settime(timer, 0, &its, NULL);
}

static void
op_sigmask(void)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGALRM);
	(void)pthread_sigmask(SIG_BLOCK, &s, NULL);
}

static void
op_getrandom(void)
{
	unsigned char b[8];

	(void)getrandom(b, sizeof(b), 0);
}

/* The ceiling's delivery without its two fsyncs, and the unlink that
 * lets it repeat. */
static void
op_create(void)
{
	static const char rec[560] = "{}";
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "f%lu", seq++);
	fd = openat(tmpfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	(void)!write(fd, rec, sizeof(rec));
	(void)renameat(tmpfd, name, newfd, name);
	close(fd);
	(void)unlinkat(newfd, name, 0);
}

static const struct {
	const char *name;
	void (*fn)(void);
	int per;        /* iterations per batch */
	int calls;      /* system calls per iteration */
} ops[] = {
	{ "getpid", op_getpid, 2000, 1 },
	{ "stat(new/)", op_stat, 2000, 1 },
	{ "fstat", op_fstat, 2000, 1 },
	{ "fstatfs", op_fstatfs, 2000, 1 },
	{ "openat+close(seen/.lock)", op_lockfile, 1000, 2 },
	{ "fcntl(OFD lock)+fcntl(unlock)", op_bytelock, 2000, 2 },
	{ "readlinkat(ENOENT)", op_readlink, 2000, 1 },
	{ "symlinkat+unlinkat", op_symlink, 500, 2 },
	{ "setsockopt", op_setsockopt, 2000, 1 },
	{ "timer_settime", op_timer, 2000, 1 },
	{ "rt_sigprocmask", op_sigmask, 2000, 1 },
	{ "getrandom(8)", op_getrandom, 2000, 1 },
	{ "openat+write+renameat+close+unlinkat", op_create, 300, 5 },
};

#define NOPS (sizeof(ops) / sizeof(ops[0]))

static void
measure(double *best)
{
	double t0, t;
	size_t i;
	int b, k;

	for (i = 0; i < NOPS; i++) {
		best[i] = 1e18;
		for (b = 0; b < BATCHES; b++) {
			t0 = now_ns();
			for (k = 0; k < ops[i].per; k++)
				ops[i].fn();
			t = (now_ns() - t0) / ops[i].per;
			if (t < best[i])
				best[i] = t;
		}
	}
}

static int
child(const char *dir, int sandbox, int out)
{
	struct sigevent sev;
	char path[3072], note[256];
	double best[NOPS];
	int sv[2], ll;

	snprintf(path, sizeof(path), "%s/spool", dir);
	mkdir(path, 0700);
	spoolfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	mkdirat(spoolfd, "tmp", 0700);
	mkdirat(spoolfd, "new", 0700);
	mkdirat(spoolfd, "seen", 0700);
	tmpfd = openat(spoolfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	newfd = openat(spoolfd, "new", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	seenfd = openat(spoolfd, "seen", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	mkdirat(seenfd, "ab", 0700);
	lockfd = openat(seenfd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	snprintf(newpath, sizeof(newpath), "%s/new", path);
	if (spoolfd < 0 || tmpfd < 0 || newfd < 0 || seenfd < 0 ||
	    lockfd < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return 1;
	sock = sv[0];
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_NONE;
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer) != 0)
		return 1;
	if (sandbox && eh_sandbox_enter(spoolfd, EH_SANDBOX_FCGI, &ll, note,
	    sizeof(note)) != 0) {
		fprintf(stderr, "syscost: %s\n", note);
		return 1;
	}
	measure(best);
	return write(out, best, sizeof(best)) == (ssize_t)sizeof(best) ? 0 : 1;
}

int
main(int argc, char *argv[])
{
	double best[2][NOPS], got[NOPS];
	size_t i;
	int r, rounds, mode, p[2], st;
	pid_t pid;

	if (argc < 2)
		return 2;
	rounds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 3;
	for (mode = 0; mode < 2; mode++)
		for (i = 0; i < NOPS; i++)
			best[mode][i] = 1e18;
	for (r = 0; r < rounds; r++)
		for (mode = 0; mode < 2; mode++) {
			if (pipe(p) != 0)
				return 1;
			pid = fork();
			if (pid == 0) {
				close(p[0]);
				_exit(child(argv[1], mode, p[1]));
			}
			close(p[1]);
			if (read(p[0], got, sizeof(got)) != (ssize_t)sizeof(got))
				return 1;
			close(p[0]);
			waitpid(pid, &st, 0);
			for (i = 0; i < NOPS; i++)
				if (got[i] < best[mode][i])
					best[mode][i] = got[i];
		}
	for (i = 0; i < NOPS; i++)
		printf("%s\t%d\t%.0f\t%.0f\n", ops[i].name, ops[i].calls,
		    best[0][i], best[1][i]);
	return 0;
}
