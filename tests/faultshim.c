/*
 * faultshim.c: an LD_PRELOAD library that makes one system call fail
 * with a chosen errno, on the spool only, in the real cgi/esignhook.
 * Used by tests/e2e-faults.sh, which builds it with
 *   cc -shared -fPIC -O2 -o faultshim.so tests/faultshim.c -ldl
 *
 * Environment (read once, when the library is loaded):
 *   FAULT=OP:ERRNO[,OP:ERRNO...]
 *                      the calls to fail and the errno each fails with;
 *                      ERRNO is a name (ENOSPC, EIO, EACCES, EROFS,
 *                      EDQUOT, ENOENT, EPERM) or a number.  Several ops
 *                      share FAULT_MATCH, FAULT_AFTER and FAULT_COUNT,
 *                      which count the calls of any of them (e.g.
 *                      "fsync:EIO,ftruncate:EIO": the sync fails, then
 *                      the truncation meant to undo it).  OP is one of
 *                        write      write(2) or writev(2) on a regular
 *                                   file under FAULT_DIR (the journal
 *                                   appends a frame with one writev)
 *                        fsync      fsync(2)/fdatasync(2) of a regular
 *                                   file under FAULT_DIR
 *                        dirfsync   fsync(2)/fdatasync(2) of a directory
 *                                   under FAULT_DIR (S_ISDIR by fstat)
 *                        renameat   renameat(2)/rename(2) whose source
 *                                   is under FAULT_DIR
 *                        openat     openat(2)/open(2) of a path under
 *                                   FAULT_DIR
 *                        creat      the same, only with O_CREAT (file
 *                                   creation)
 *                        close      close(2) of a regular file under
 *                                   FAULT_DIR (the fd IS closed, as
 *                                   Linux does, then -1 is returned)
 *                        syncfs     syncfs(2) of any descriptor opened
 *                                   under FAULT_DIR (file or directory:
 *                                   the journal keeper's)
 *                        ftruncate  ftruncate(2) of a regular file
 *                                   under FAULT_DIR (the length is kept)
 *   FAULT_DIR=PATH     required: only calls on PATH or below it fail.
 *                      Descriptors are tracked from the open(2)/openat(2)
 *                      that made them (a dirfd's path + the name), so
 *                      stdout, stderr, sockets and anything not opened by
 *                      path under PATH are never touched.  No /proc:
 *                      the only call the shim adds is fstat(2) on a
 *                      tracked fd, so it works inside the receiver's
 *                      Landlock + seccomp sandbox.
 *   FAULT_MATCH=TEXT   optional: only paths whose part below FAULT_DIR
 *                      contains TEXT fail (e.g. "/new" for the fsync of
 *                      new/, "/tmp/" for files created in tmp/)
 *   FAULT_AFTER=N      let the first N matching calls succeed (default 0)
 *   FAULT_COUNT=N      fail at most N times, then succeed again
 *                      (default: no limit)
 *   FAULT_LOG=FILE     append one line per injected fault:
 *                      "pid OP errno PATH" (opened when the library is
 *                      loaded, before any sandbox, and kept open)
 *
 * A failing call does nothing (write writes nothing, rename renames
 * nothing, fsync and syncfs sync nothing, ftruncate leaves the length
 * as it was), except close, which closes.
 */
#define _GNU_SOURCE
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum op { OP_NONE, OP_WRITE, OP_FSYNC, OP_DIRFSYNC, OP_RENAMEAT, OP_OPENAT,
    OP_CREAT, OP_CLOSE, OP_SYNCFS, OP_FTRUNCATE, OP_MAX };

static int inited;
static unsigned fault_ops;		/* 1 << op for each op armed */
static int op_errno[OP_MAX];		/* the errno each fails with */
static char fault_dir[PATH_MAX];
static size_t fault_dir_len;
static const char *fault_match;
static long fault_after;
static long fault_count = -1;
static int log_fd = -1;
static char fault_dir_given[PATH_MAX];
static size_t fault_dir_given_len;
static long seen_calls;		/* matching calls so far */
static long injected;		/* faults injected so far */

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static int (*real_syncfs)(int);
static int (*real_ftruncate)(int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_renameat)(int, const char *, int, const char *);
static int (*real_rename)(const char *, const char *);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_open)(const char *, int, ...);
static int (*real_close)(int);

/* The path each descriptor was opened by, while it is open. */
#define MAX_FDS 4096
static char *fd_paths[MAX_FDS];

static void
fd_forget(int fd)
{
	char *old;

	if (fd < 0 || fd >= MAX_FDS)
		return;
	old = __atomic_exchange_n(&fd_paths[fd], NULL, __ATOMIC_SEQ_CST);
	free(old);
}

static void
fd_remember(int fd, const char *path)
{
	char *p, *old;

	if (fd < 0 || fd >= MAX_FDS || (p = strdup(path)) == NULL)
		return;
	old = __atomic_exchange_n(&fd_paths[fd], p, __ATOMIC_SEQ_CST);
	free(old);
}

static int
errno_by_name(const char *s)
{
	static const struct { const char *name; int e; } tab[] = {
		{ "ENOSPC", ENOSPC }, { "EIO", EIO }, { "EACCES", EACCES },
		{ "EROFS", EROFS }, { "EDQUOT", EDQUOT }, { "ENOENT", ENOENT },
		{ "EPERM", EPERM }, { "EINTR", EINTR }, { "EMFILE", EMFILE },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(s, tab[i].name) == 0)
			return tab[i].e;
	return (int)strtol(s, NULL, 10);
}

/* One "OP:ERRNO" of FAULT: arm OP (an unknown op or errno: nothing). */
static void
arm(char *item)
{
	static const struct { const char *name; enum op op; } tab[] = {
		{ "write", OP_WRITE }, { "fsync", OP_FSYNC },
		{ "fdatasync", OP_FSYNC }, { "dirfsync", OP_DIRFSYNC },
		{ "renameat", OP_RENAMEAT }, { "rename", OP_RENAMEAT },
		{ "openat", OP_OPENAT }, { "open", OP_OPENAT },
		{ "creat", OP_CREAT }, { "close", OP_CLOSE },
		{ "syncfs", OP_SYNCFS }, { "ftruncate", OP_FTRUNCATE },
	};
	char *colon;
	size_t i;
	int e;

	colon = strchr(item, ':');
	if (colon == NULL)
		return;
	*colon = '\0';
	e = errno_by_name(colon + 1);
	if (e <= 0)
		return;
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(item, tab[i].name) == 0) {
			fault_ops |= 1u << tab[i].op;
			op_errno[tab[i].op] = e;
		}
}

static int
armed(enum op op)
{
	return (fault_ops & (1u << op)) != 0;
}

static void
init(void)
{
	const char *f, *d, *v, *lp;
	char buf[256], *item, *next;

	if (__atomic_load_n(&inited, __ATOMIC_ACQUIRE))
		return;
	real_write = dlsym(RTLD_NEXT, "write");
	real_writev = dlsym(RTLD_NEXT, "writev");
	real_syncfs = dlsym(RTLD_NEXT, "syncfs");
	real_ftruncate = dlsym(RTLD_NEXT, "ftruncate");
	real_fsync = dlsym(RTLD_NEXT, "fsync");
	real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
	real_renameat = dlsym(RTLD_NEXT, "renameat");
	real_rename = dlsym(RTLD_NEXT, "rename");
	real_openat = dlsym(RTLD_NEXT, "openat");
	real_open = dlsym(RTLD_NEXT, "open");
	real_close = dlsym(RTLD_NEXT, "close");
	f = getenv("FAULT");
	d = getenv("FAULT_DIR");
	if (f != NULL && d != NULL && strlen(f) < sizeof(buf)) {
		snprintf(buf, sizeof(buf), "%s", f);
		for (item = buf; item != NULL; item = next) {
			next = strchr(item, ',');
			if (next != NULL)
				*next++ = '\0';
			arm(item);
		}
		/* The spool may not exist yet: canonicalise its parent. */
		if (realpath(d, fault_dir) == NULL) {
			char parent[PATH_MAX], *slash;

			snprintf(parent, sizeof(parent), "%s", d);
			slash = strrchr(parent, '/');
			if (slash != NULL && slash != parent) {
				*slash = '\0';
				char real[PATH_MAX];

				if (realpath(parent, real) != NULL &&
				    strlen(real) + strlen(slash + 1) + 2 <
				    sizeof(fault_dir))
					snprintf(fault_dir, sizeof(fault_dir),
					    "%s/%s", real, slash + 1);
				else
					snprintf(fault_dir, sizeof(fault_dir),
					    "%s", d);
			} else
				snprintf(fault_dir, sizeof(fault_dir), "%s", d);
		}
		fault_dir_len = strlen(fault_dir);
		while (fault_dir_len > 1 && fault_dir[fault_dir_len - 1] == '/')
			fault_dir[--fault_dir_len] = '\0';
		snprintf(fault_dir_given, sizeof(fault_dir_given), "%s", d);
		fault_dir_given_len = strlen(fault_dir_given);
		while (fault_dir_given_len > 1 &&
		    fault_dir_given[fault_dir_given_len - 1] == '/')
			fault_dir_given[--fault_dir_given_len] = '\0';
	}
	fault_match = getenv("FAULT_MATCH");
	if (fault_match != NULL && *fault_match == '\0')
		fault_match = NULL;
	if ((v = getenv("FAULT_AFTER")) != NULL)
		fault_after = strtol(v, NULL, 10);
	if ((v = getenv("FAULT_COUNT")) != NULL && *v != '\0')
		fault_count = strtol(v, NULL, 10);
	lp = getenv("FAULT_LOG");
	if (lp != NULL && *lp != '\0' && fault_ops != 0)
		log_fd = (int)syscall(SYS_openat, AT_FDCWD, lp,
		    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	__atomic_store_n(&inited, 1, __ATOMIC_RELEASE);
}

/* Before main, so before the receiver enters its sandbox. */
__attribute__((constructor)) static void
shim_load(void)
{
	init();
}

/* Whether path is dir or below it. */
static int
below(const char *path, const char *dir, size_t len)
{
	return len > 0 && strncmp(path, dir, len) == 0 &&
	    (path[len] == '\0' || path[len] == '/');
}

/* Whether path is under the fault directory (either spelling). */
static int
tracked(const char *path)
{
	return below(path, fault_dir, fault_dir_len) ||
	    below(path, fault_dir_given, fault_dir_given_len);
}

/* Whether a call on path may fail: tracked, and FAULT_MATCH (if set)
 * occurs in its part below the fault directory. */
static int
under(const char *path)
{
	size_t len;

	if (below(path, fault_dir, fault_dir_len))
		len = fault_dir_len;
	else if (below(path, fault_dir_given, fault_dir_given_len))
		len = fault_dir_given_len;
	else
		return 0;
	return fault_match == NULL || strstr(path + len, fault_match) != NULL;
}

static int
fd_path(int fd, char *buf, size_t cap)
{
	const char *p;

	if (fd < 0 || fd >= MAX_FDS ||
	    (p = __atomic_load_n(&fd_paths[fd], __ATOMIC_SEQ_CST)) == NULL)
		return -1;
	snprintf(buf, cap, "%s", p);
	return 0;
}

/*
 * dirfd + name as a path (not resolved further); -1 when not known
 * (a relative name against the working directory: never the spool's).
 */
static int
at_path(int dirfd, const char *name, char *buf, size_t cap)
{
	char dir[PATH_MAX];

	if (name == NULL)
		return -1;
	if (name[0] == '/') {
		snprintf(buf, cap, "%s", name);
		return 0;
	}
	if (dirfd == AT_FDCWD || fd_path(dirfd, dir, sizeof(dir)) != 0)
		return -1;
	if (strcmp(name, ".") == 0)
		snprintf(buf, cap, "%s", dir);
	else
		snprintf(buf, cap, "%s/%s", dir, name);
	return 0;
}

/*
 * A call of kind op on path: whether to fail it now.  Counts the
 * matching calls (FAULT_AFTER) and the faults (FAULT_COUNT), and logs
 * each fault.
 */
static int
inject(enum op op, const char *path, const char *what)
{
	char line[2 * PATH_MAX + 96];
	long n;
	int len;

	if (!armed(op) || !under(path))
		return 0;
	n = __atomic_fetch_add(&seen_calls, 1, __ATOMIC_SEQ_CST);
	if (n < fault_after)
		return 0;
	if (fault_count >= 0 &&
	    __atomic_fetch_add(&injected, 1, __ATOMIC_SEQ_CST) >= fault_count)
		return 0;
	if (log_fd >= 0) {
		len = snprintf(line, sizeof(line), "%ld %s %d %s\n",
		    (long)getpid(), what, op_errno[op], path);
		/* A raw write(2): the log must not go through the shim. */
		(void)syscall(SYS_write, log_fd, line,
		    (size_t)(len < (int)sizeof(line) ? len :
		    (int)sizeof(line) - 1));
	}
	return 1;
}

/* The path and kind of an fd opened under the fault directory. */
static int
fd_info(int fd, char *path, size_t cap, int *isdir, int *isreg)
{
	struct stat st;

	if (fd_path(fd, path, cap) != 0 || fstat(fd, &st) != 0)
		return -1;
	*isdir = S_ISDIR(st.st_mode);
	*isreg = S_ISREG(st.st_mode);
	return 0;
}

ssize_t
write(int fd, const void *buf, size_t len)
{
	char path[2 * PATH_MAX];
	int isdir, isreg, e = errno;

	init();
	if (armed(OP_WRITE) && fd_info(fd, path, sizeof(path), &isdir,
	    &isreg) == 0 && isreg && inject(OP_WRITE, path, "write")) {
		errno = op_errno[OP_WRITE];
		return -1;
	}
	errno = e;
	return real_write(fd, buf, len);
}

/* Counted as op write: a frame appended with one writev is a write. */
ssize_t
writev(int fd, const struct iovec *iov, int iovcnt)
{
	char path[2 * PATH_MAX];
	int isdir, isreg, e = errno;

	init();
	if (armed(OP_WRITE) && fd_info(fd, path, sizeof(path), &isdir,
	    &isreg) == 0 && isreg && inject(OP_WRITE, path, "writev")) {
		errno = op_errno[OP_WRITE];
		return -1;
	}
	errno = e;
	return real_writev(fd, iov, iovcnt);
}

static int
sync_common(int fd, int (*real)(int), const char *what)
{
	char path[2 * PATH_MAX];
	enum op op = OP_NONE;
	int isdir, isreg, e = errno;

	init();
	if ((armed(OP_FSYNC) || armed(OP_DIRFSYNC)) &&
	    fd_info(fd, path, sizeof(path), &isdir, &isreg) == 0)
		op = isreg ? OP_FSYNC : isdir ? OP_DIRFSYNC : OP_NONE;
	if (op != OP_NONE && inject(op, path, what)) {
		errno = op_errno[op];
		return -1;
	}
	errno = e;
	return real(fd);
}

int
fsync(int fd)
{
	init();
	return sync_common(fd, real_fsync, "fsync");
}

int
fdatasync(int fd)
{
	init();
	return sync_common(fd, real_fdatasync, "fdatasync");
}

/* Any descriptor under the fault directory: syncfs names a file system
 * through whichever file or directory is at hand. */
int
syncfs(int fd)
{
	char path[2 * PATH_MAX];
	int e = errno;

	init();
	if (armed(OP_SYNCFS) && fd_path(fd, path, sizeof(path)) == 0 &&
	    inject(OP_SYNCFS, path, "syncfs")) {
		errno = op_errno[OP_SYNCFS];
		return -1;
	}
	errno = e;
	return real_syncfs(fd);
}

int
ftruncate(int fd, off_t len)
{
	char path[2 * PATH_MAX];
	int isdir, isreg, e = errno;

	init();
	if (armed(OP_FTRUNCATE) && fd_info(fd, path, sizeof(path),
	    &isdir, &isreg) == 0 && isreg &&
	    inject(OP_FTRUNCATE, path, "ftruncate")) {
		errno = op_errno[OP_FTRUNCATE];
		return -1;
	}
	errno = e;
	return real_ftruncate(fd, len);
}

int
renameat(int ofd, const char *oname, int nfd, const char *nname)
{
	char path[2 * PATH_MAX];
	int e = errno;

	init();
	if (armed(OP_RENAMEAT) &&
	    at_path(ofd, oname, path, sizeof(path)) == 0 &&
	    inject(OP_RENAMEAT, path, "renameat")) {
		errno = op_errno[OP_RENAMEAT];
		return -1;
	}
	errno = e;
	return real_renameat(ofd, oname, nfd, nname);
}

int
rename(const char *oname, const char *nname)
{
	char path[2 * PATH_MAX];
	int e = errno;

	init();
	if (armed(OP_RENAMEAT) &&
	    at_path(AT_FDCWD, oname, path, sizeof(path)) == 0 &&
	    inject(OP_RENAMEAT, path, "rename")) {
		errno = op_errno[OP_RENAMEAT];
		return -1;
	}
	errno = e;
	return real_rename(oname, nname);
}

/* The errno an open of path with flags fails with, or 0. */
static int
open_fails(const char *path, int flags)
{
	if (armed(OP_OPENAT) && inject(OP_OPENAT, path, "openat"))
		return op_errno[OP_OPENAT];
	if (armed(OP_CREAT) && (flags & O_CREAT) &&
	    inject(OP_CREAT, path, "creat"))
		return op_errno[OP_CREAT];
	return 0;
}

/* After a successful open: remember the fd's path if it is ours. */
static int
opened(int fd, const char *path, int known)
{
	int e = errno;

	if (fd >= 0) {
		if (known && tracked(path))
			fd_remember(fd, path);
		else
			fd_forget(fd);
	}
	errno = e;
	return fd;
}

int
openat(int dirfd, const char *name, int flags, ...)
{
	char path[2 * PATH_MAX];
	mode_t mode = 0;
	va_list ap;
	int known, fail;

	init();
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	known = fault_ops != 0 &&
	    at_path(dirfd, name, path, sizeof(path)) == 0;
	fail = known ? open_fails(path, flags) : 0;
	if (fail != 0) {
		errno = fail;
		return -1;
	}
	return opened(real_openat(dirfd, name, flags, mode), path, known);
}

int
open(const char *name, int flags, ...)
{
	char path[2 * PATH_MAX];
	mode_t mode = 0;
	va_list ap;
	int known, fail;

	init();
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	known = fault_ops != 0 &&
	    at_path(AT_FDCWD, name, path, sizeof(path)) == 0;
	fail = known ? open_fails(path, flags) : 0;
	if (fail != 0) {
		errno = fail;
		return -1;
	}
	return opened(real_open(name, flags, mode), path, known);
}

int
close(int fd)
{
	char path[2 * PATH_MAX];
	int isdir, isreg, e = errno;

	init();
	if (armed(OP_CLOSE) && fd_info(fd, path, sizeof(path), &isdir,
	    &isreg) == 0 && isreg && inject(OP_CLOSE, path, "close")) {
		fd_forget(fd);
		(void)real_close(fd);
		errno = op_errno[OP_CLOSE];
		return -1;
	}
	/* Forget first: once closed, another thread may get the number. */
	fd_forget(fd);
	errno = e;
	return real_close(fd);
}
