/*
 * The spool, after qmail-local's maildir delivery, plus the directory
 * fsync qmail leaves out:
 *   tmp/<id>...  O_EXCL, locked, write all, fsync
 *   rename into new/<id>.json, close, fsync new/; only then may the
 *   caller reply.
 * A crash at any point leaves either nothing or the whole event in new/.
 * seen/<ab>/<dedupe_key> marks OneSpan events already accepted; it is a
 * hint (at-least-once), so it is written after the event and never
 * fsynced.
 *
 * Two kinds of lock, both open file description (OFD) locks taken with
 * fcntl(2): they conflict between processes and between the threads of
 * one process (each handle opens its own descriptions), they go with
 * the description when a process dies, and fcntl is what the sandbox
 * already allows.
 *   - A writer holds a write lock on its tmp/ file from before its
 *     first write until the file is in new/: the cleaner removes only
 *     what it can lock (and, empty, once it is a minute old).
 *   - Check, store and mark of one OneSpan event hold a one-byte lock
 *     in seen/.lock, chosen by the dedupe key: two deliveries of one
 *     event at once store it once.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "esignhook.h"
#include "extern.h"

/* What the health probe writes: about one record. */
#define PROBE_BYTES 4096

/* How stale the cached count of new/ may be before it is read again. */
#define COUNT_MAX_AGE_NS 1000000000L
#define COUNT_FAR_AGE_NS (30 * 1000000000LL)
/* Under this limit a count is cheap enough for every CGI request. */
#define COUNT_EXACT_MAX 1000

/* Names a delivery tries in tmp/ when a cleaner took the one before. */
#define TMP_TRIES 3
/* How long an empty tmp/ file is left alone: its writer may not have
 * locked it yet (it locks before its first write). */
#define TMP_EMPTY_GRACE 60

/* seen/'s lock file: a dot-file, so readers and pruning pass it by. */
#define SEEN_LOCK ".lock"
/* The key's first hex digits that choose its lock byte: 16 bits, so
 * two different events wait for each other once in 65536. */
#define LOCK_DIGITS 4
/* How long a delivery waits for another of the same event, and how
 * often it looks: the holder is between two fsyncs. */
#define LOCK_WAIT_MS 5000
#define LOCK_POLL_NS 1000000L
/* The key's first hex digits that name its shard: at most 256
 * directories in seen/, each with 1/256 of the markers. */
#define SHARD_DIGITS 2
#define KEY_LEN 64

static enum eh_err
fail(struct eh_spool *sp, const char *op)
{
	sp->sys_errno = errno;
	sp->sys_op = op;
	if (errno == ENOSPC || errno == EDQUOT)
		return EH_ERR_SPOOL_FULL;
	return EH_ERR_SPOOL_IO;
}

/*
 * Take an OFD lock of type (F_RDLCK, F_WRLCK) on [start, start + len)
 * of fd, len 0 meaning to the end, if no one holds it.  0, or -1 with
 * errno (EAGAIN: someone does).
 */
static int
ofd_lock(int fd, short type, off_t start, off_t len)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));	/* l_pid must be 0 for OFD locks */
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = start;
	fl.l_len = len;
	return fcntl(fd, F_OFD_SETLK, &fl);
}

/* Opened first: in a spool in service it is there (a CGI opens its
 * spool per request), and a mkdirat would only say EEXIST. */
static int
subdir(struct eh_spool *sp, const char *name, int *created)
{
	int fd;

	fd = openat(sp->dirfd, name,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	if (mkdirat(sp->dirfd, name, 0700) == 0)
		*created = 1;
	else if (errno != EEXIST)
		return -1;
	return openat(sp->dirfd, name,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
}

/* fsync the directory holding path (which has no trailing slash). */
static int
sync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, rc = -1;

	if (slash == NULL)
		return -1;
	dir = eh__strndup(path, slash == path ? 1 : (size_t)(slash - path));
	if (dir == NULL)
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		rc = fsync(fd);
		close(fd);
	}
	free(dir);
	return rc;
}

/*
 * This host's name as it goes into tmp/ names: letters, digits and '-'
 * only (so it cannot hold the '.' that separates it from the pid).
 * For people looking at tmp/ only: nothing decides by it.
 */
static void
host_tag(char *out, size_t outsz)
{
	char h[256];
	size_t i, n = 0;

	if (gethostname(h, sizeof(h)) != 0)
		h[0] = '\0';
	h[sizeof(h) - 1] = '\0';
	for (i = 0; h[i] != '\0' && n + 1 < outsz; i++)
		out[n++] = ((h[i] >= 'a' && h[i] <= 'z') ||
		    (h[i] >= 'A' && h[i] <= 'Z') ||
		    (h[i] >= '0' && h[i] <= '9')) ? h[i] : '-';
	if (n == 0 && outsz > 1)
		out[n++] = '-';
	out[n] = '\0';
}

void
eh_spool_init(struct eh_spool *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->dirfd = sp->tmpfd = sp->newfd = sp->seenfd = -1;
}

enum eh_err
eh_spool_open(struct eh_spool *sp, const char *path)
{
	struct stat st;
	size_t len;
	int created = 0;

	eh_spool_init(sp);
	if (path == NULL || *path != '/')
		return EH_ERR_SPOOL_CONFIG;
	len = strlen(path);
	sp->path = eh__strndup(path, len);
	sp->newpath = malloc(len + sizeof("/new"));
	if (sp->path == NULL || sp->newpath == NULL) {
		eh_spool_close(sp);
		return EH_ERR_NOMEM;
	}
	memcpy(sp->newpath, path, len);
	memcpy(sp->newpath + len, "/new", sizeof("/new"));
	host_tag(sp->host, sizeof(sp->host));
	sp->pid = getpid();
	/* Opened first, as subdir does.  Only the spool itself is
	 * created: a missing parent is a typo. */
	sp->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->dirfd < 0 && errno == ENOENT) {
		if (mkdir(path, 0700) == 0) {
			/* The new directory's entry must outlive a crash
			 * too. */
			if (sync_parent(path) != 0)
				goto bad;
		} else if (errno != EEXIST)
			goto bad;
		sp->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (sp->dirfd < 0)
		goto bad;
	sp->tmpfd = subdir(sp, "tmp", &created);
	if (sp->tmpfd < 0)
		goto bad;
	sp->newfd = subdir(sp, "new", &created);
	if (sp->newfd < 0)
		goto bad;
	/* What eh_spool_alive compares the path with. */
	if (fstat(sp->newfd, &st) != 0)
		goto bad;
	sp->new_dev = (uint64_t)st.st_dev;
	sp->new_ino = (uint64_t)st.st_ino;
	sp->seenfd = subdir(sp, "seen", &created);
	if (sp->seenfd < 0)
		goto bad;
	if (created && fsync(sp->dirfd) != 0)
		goto bad;
	return EH_OK;
bad:
	{
		enum eh_err err = fail(sp, "open spool");
		int e = sp->sys_errno;

		eh_spool_close(sp);
		sp->sys_errno = e;
		sp->sys_op = "open spool";
		return err;
	}
}

enum eh_err
eh_spool_reopen(struct eh_spool *sp, const char *path)
{
	struct timespec last;
	struct eh_journal *j;
	unsigned sample;
	enum eh_err err;

	eh_spool_close(sp);
	last = sp->last;
	sample = sp->count_sample;
	j = sp->journal;
	err = eh_spool_open(sp, path);
	/* Ids keep increasing across a reopen, whatever the clock did. */
	sp->last = last;
	sp->count_sample = sample;
	sp->journal = j;
	return err;
}

int
eh_spool_alive(const struct eh_spool *sp)
{
	struct stat st;

	/* One stat per request.  The path must still lead to the new/
	 * this handle renames into: rm -rf of the spool or of new/ shows
	 * as ENOENT, and a spool moved and replaced (mv spool spool.old;
	 * mkdir spool), whose old directories stay open and writable, as
	 * another inode.  Either way events would land where no reader
	 * looks. */
	return sp->newfd >= 0 && sp->newpath != NULL &&
	    stat(sp->newpath, &st) == 0 &&
	    (uint64_t)st.st_dev == sp->new_dev &&
	    (uint64_t)st.st_ino == sp->new_ino;
}

void
eh_spool_close(struct eh_spool *sp)
{
	struct timespec last = sp->last;
	struct eh_journal *j = sp->journal;
	unsigned sample = sp->count_sample;

	if (sp->seenfd >= 0)
		close(sp->seenfd);
	if (sp->newfd >= 0)
		close(sp->newfd);
	if (sp->tmpfd >= 0)
		close(sp->tmpfd);
	if (sp->dirfd >= 0)
		close(sp->dirfd);
	free(sp->path);
	free(sp->newpath);
	sodium_memzero(sp->id_pool, sizeof(sp->id_pool));
	eh_spool_init(sp);
	/* Not resources: the handle's settings and its id clock. */
	sp->last = last;
	sp->count_sample = sample;
	sp->journal = j;
}

/*
 * Call fn(ctx, dirfd, name) for each entry of the directory at fd that
 * is not a dot-file, until fn returns non-zero.  Uses its own
 * descriptor, so fd's offset is kept.
 */
static int
each_entry(int fd, int (*fn)(void *, int, const char *), void *ctx)
{
	DIR *d;
	struct dirent *de;
	int dfd;

	dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	d = fdopendir(dfd);
	if (d == NULL) {
		close(dfd);
		return -1;
	}
	for (;;) {
		de = readdir(d);
		if (de == NULL)
			break;
		if (de->d_name[0] != '.' && fn(ctx, dfd, de->d_name) != 0)
			break;
	}
	closedir(d);
	return 0;
}

struct count_ctx {
	unsigned long n, upto;
};

static int
count_one(void *ctx, int dfd, const char *name)
{
	struct count_ctx *c = ctx;

	(void)dfd;
	(void)name;
	return ++c->n >= c->upto;
}

/* Count new/, stopping at upto (a limit needs no more). */
static enum eh_err
count_upto(struct eh_spool *sp, unsigned long upto, unsigned long *n)
{
	struct count_ctx c = { 0, upto };

	*n = 0;
	if (each_entry(sp->newfd, count_one, &c) != 0)
		return fail(sp, "read new/");
	*n = c.n;
	return EH_OK;
}

enum eh_err
eh_spool_count(struct eh_spool *sp, unsigned long *n)
{
	return count_upto(sp, (unsigned long)-1, n);
}

struct clean_ctx {
	time_t now, before;
	unsigned long removed;
};

/*
 * Remove tmp/<name> when it is stale (no delivery takes 36 hours) or
 * when no writer holds it.  Every writer locks its file before its
 * first write and keeps the lock until the file is in new/
 * (tmp_create, eh_spool_probe), and the kernel drops it when the writer
 * dies: so a file with data that this read lock can take has no live
 * writer, and an empty one has none once it is a minute old.  Names
 * decide nothing: host names are cut to 32 characters and PID
 * namespaces repeat pids, so a name may be any other host's too.  A
 * file that cannot be opened or locked (another user's, a file system
 * without locks) waits for its 36 hours.
 */
static int
clean_one(void *ctx, int dfd, const char *name)
{
	struct clean_ctx *c = ctx;
	struct stat st, held;
	int fd;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return 0;
	if (st.st_mtime < c->before) {
		if (unlinkat(dfd, name, 0) == 0)
			c->removed++;
		return 0;
	}
	if (!S_ISREG(st.st_mode) ||
	    (st.st_size == 0 && st.st_mtime >= c->now - TMP_EMPTY_GRACE))
		return 0;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	/* Removed while locked: a writer whose lock comes after ours
	 * finds its file unlinked and takes another name (tmp_create).
	 * The name must still be the file locked: it may have gone to
	 * new/ since it was opened here. */
	if (ofd_lock(fd, F_RDLCK, 0, 0) == 0 && fstat(fd, &held) == 0 &&
	    fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_dev == held.st_dev && st.st_ino == held.st_ino &&
	    unlinkat(dfd, name, 0) == 0)
		c->removed++;
	close(fd);
	return 0;
}

unsigned long
eh_spool_clean_tmp(struct eh_spool *sp, time_t max_age)
{
	struct clean_ctx c;

	c.now = time(NULL);
	c.before = c.now - max_age;
	c.removed = 0;
	(void)each_entry(sp->tmpfd, clean_one, &c);
	return c.removed;
}

/*
 * Create tmp/<id>.<host>.<pid> (then .r1., .r2. after the id) for
 * writing, and lock it for as long as it is open.  A cleaner leaves an
 * empty file alone for a minute; should this writer stall longer than
 * that between creating and locking, and a cleaner take the file, the
 * lock fails or finds the file unlinked, and another name is tried.
 * Where there are no locks (EINVAL, ENOLCK) the file goes on unlocked:
 * no cleaner can lock it either.  The descriptor, with tmp holding the
 * name; or -1 with errno.
 */
static int
tmp_create(struct eh_spool *sp, const char *id, char *tmp, size_t tmpsz)
{
	struct stat st;
	unsigned i;
	int fd, e;

	for (i = 0; i < TMP_TRIES; i++) {
		if (i == 0)
			snprintf(tmp, tmpsz, "%s.%s.%ld", id, sp->host,
			    sp->pid);
		else
			snprintf(tmp, tmpsz, "%s.r%u.%s.%ld", id, i,
			    sp->host, sp->pid);
		fd = openat(sp->tmpfd, tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return -1;
		if (ofd_lock(fd, F_WRLCK, 0, 0) != 0) {
			if (errno != EAGAIN && errno != EACCES)
				return fd;
			/* A cleaner holds it and removes it. */
			close(fd);
			continue;
		}
		if (fstat(fd, &st) != 0) {
			e = errno;
			close(fd);
			(void)unlinkat(sp->tmpfd, tmp, 0);
			errno = e;
			return -1;
		}
		if (st.st_nlink > 0)
			return fd;
		close(fd);
	}
	errno = EAGAIN;
	return -1;
}

static int64_t
ns_since(const struct timespec *a, const struct timespec *b)
{
	return (int64_t)(b->tv_sec - a->tv_sec) * 1000000000 +
	    (b->tv_nsec - a->tv_nsec);
}

static enum eh_err
admit(struct eh_spool *sp, const struct eh_config *cfg, int sample)
{
	struct statvfs vfs;
	struct timespec now;
	enum eh_err err;

	/* No floor (ESIGNHOOK_SPOOL_MIN_FREE=0): nothing to ask. */
	if (cfg->min_free > 0 && fstatvfs(sp->newfd, &vfs) != 0)
		return fail(sp, "statvfs");
	if (cfg->min_free > 0 &&
	    (unsigned long long)vfs.f_bavail * vfs.f_frsize < cfg->min_free) {
		sp->sys_errno = ENOSPC;
		sp->sys_op = "free space check";
		return EH_ERR_SPOOL_FULL;
	}
	if (cfg->max_events == 0)
		return EH_OK;
	/* Reading new/ costs O(events): a backstop against a consumer that
	 * has stopped needs it once a second near the limit, and far from
	 * it (under half, counting this handle's own deliveries since)
	 * every half minute. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	/* A CGI process has no count from before: under a large limit it
	 * counts on a random one in count_sample of its deliveries (a
	 * backstop may overshoot by a few events; reading a big backlog on
	 * every request may not).  The health check always counts. */
	if (sample && !sp->counted && sp->count_sample > 1 &&
	    cfg->max_events > COUNT_EXACT_MAX &&
	    randombytes_uniform(sp->count_sample) != 0)
		return EH_OK;
	if (!sp->counted || ns_since(&sp->count_at, &now) >
	    (sp->count < cfg->max_events / 2 ? COUNT_FAR_AGE_NS :
	    COUNT_MAX_AGE_NS)) {
		err = count_upto(sp, cfg->max_events, &sp->count);
		if (err != EH_OK)
			return err;
		sp->count_at = now;
		sp->counted = 1;
	}
	if (sp->count >= cfg->max_events) {
		sp->sys_errno = 0;
		sp->sys_op = "event limit";
		return EH_ERR_SPOOL_BACKLOG;
	}
	return EH_OK;
}

/*
 * The marker of an accepted OneSpan event is a symbolic link
 * seen/<ab>/<dedupe_key> -> <id>, <ab> the key's first two digits: one
 * system call to make, and its short target lives in the inode (no data
 * block).  The shards keep seen/ from becoming one directory of
 * millions of entries.  Markers from before the shards, seen/<key>, are
 * still read; esignhookctl drain prunes both.
 */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Whether key is what eh__dedupe_key makes: 64 lowercase hex digits. */
static int
key_ok(const char *key)
{
	size_t i;

	for (i = 0; i < KEY_LEN; i++)
		if (hexval(key[i]) < 0)
			return 0;
	return key[KEY_LEN] == '\0';
}

/* "<ab>/<key>" into rel. */
static void
shard_name(char rel[SHARD_DIGITS + 1 + KEY_LEN + 1], const char *key)
{
	memcpy(rel, key, SHARD_DIGITS);
	rel[SHARD_DIGITS] = '/';
	memcpy(rel + SHARD_DIGITS + 1, key, KEY_LEN + 1);
}

/*
 * Take key's byte of seen/.lock, waiting for it up to LOCK_WAIT_MS.
 * The descriptor, whose close releases it; or -1 when there is no lock
 * to be had (the file cannot be opened, no locks on this file system,
 * its holder is stuck): the caller goes on without, since a duplicate
 * is allowed and a refused event is not.
 * Opened for each delivery rather than kept: a descriptor open for
 * writing all the time would keep the file system from being
 * remounted read-only, and the open costs a microsecond next to the
 * two fsyncs.  Polled rather than F_OFD_SETLKW: the wait is bounded,
 * it happens only when the same event arrives twice at once, and
 * valgrind (3.19) runs F_OFD_SETLKW without letting other threads on,
 * so that a test of this under it never ends.
 */
static int
key_lock(struct eh_spool *sp, const char *key)
{
	const struct timespec pause = { 0, LOCK_POLL_NS };
	off_t at = 0;
	long waited;
	int fd, i;

	fd = openat(sp->seenfd, SEEN_LOCK,
	    O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	for (i = 0; i < LOCK_DIGITS; i++)
		at = at * 16 + hexval(key[i]);
	for (waited = 0; ofd_lock(fd, F_WRLCK, at, 1) != 0;
	    waited += LOCK_POLL_NS / 1000000) {
		if ((errno != EAGAIN && errno != EACCES) ||
		    waited >= LOCK_WAIT_MS) {
			close(fd);
			return -1;
		}
		(void)nanosleep(&pause, NULL);
	}
	return fd;
}

/* Whether a OneSpan event with this key was accepted; fills id if so. */
static int
seen(struct eh_spool *sp, const char *key, char id[EH_ID_LEN + 1])
{
	char rel[SHARD_DIGITS + 1 + KEY_LEN + 1];
	ssize_t n;

	shard_name(rel, key);
	n = readlinkat(sp->seenfd, rel, id, EH_ID_LEN);
	/* Not in its shard: a marker from before the shards? */
	if (n < 0 && errno != EINVAL)
		n = readlinkat(sp->seenfd, key, id, EH_ID_LEN);
	if (n >= 0) {
		id[n] = '\0';
		return 1;
	}
	id[0] = '\0';
	/* EINVAL: there, but a regular file (an older marker): seen.  Any
	 * other error: store again; a duplicate is allowed, a loss is not. */
	return errno == EINVAL;
}

/* A marker that cannot be made costs at most a duplicate later. */
static void
mark_seen(struct eh_spool *sp, const char *key, const char *id)
{
	char rel[SHARD_DIGITS + 1 + KEY_LEN + 1];

	shard_name(rel, key);
	if (symlinkat(id, sp->seenfd, rel) == 0 || errno != ENOENT)
		return;
	/* The shard's first marker.  Its directory is not fsynced either:
	 * lost to a crash, it costs a duplicate at most. */
	rel[SHARD_DIGITS] = '\0';
	if (mkdirat(sp->seenfd, rel, 0700) != 0 && errno != EEXIST)
		return;
	rel[SHARD_DIGITS] = '/';
	if (symlinkat(id, sp->seenfd, rel) != 0)
		return;
}

/* A time after every id this handle made, so ids sort in order. */
static void
arrival(struct eh_spool *sp, struct timespec *now)
{
	clock_gettime(CLOCK_REALTIME, now);
	if (now->tv_sec < sp->last.tv_sec ||
	    (now->tv_sec == sp->last.tv_sec &&
	    now->tv_nsec / 1000 <= sp->last.tv_nsec / 1000)) {
		*now = sp->last;
		now->tv_nsec = (now->tv_nsec / 1000 + 1) * 1000;
		if (now->tv_nsec >= 1000000000L) {
			now->tv_sec++;
			now->tv_nsec -= 1000000000L;
		}
	}
	sp->last = *now;
}

/*
 * An id as eh_id_make's, its 64 random bits from libsodium's source as
 * there, but drawn for 32 ids at a time into the handle, instead of a
 * getrandom(2) per delivery: the same bits, so as unique across
 * processes and hosts.  A handle is one thread's, and never crosses a
 * fork (the receiver does not fork); eh_spool_close wipes what is left.
 */
static void
spool_id(struct eh_spool *sp, char id[EH_ID_LEN + 1],
    const struct timespec *when)
{
	unsigned char *rnd;

	if (sp->id_left < 8 || sp->id_left > sizeof(sp->id_pool)) {
		randombytes_buf(sp->id_pool, sizeof(sp->id_pool));
		sp->id_left = sizeof(sp->id_pool);
	}
	rnd = sp->id_pool + sizeof(sp->id_pool) - sp->id_left;
	eh__id_format(id, when, rnd);
	/* Used once only. */
	sodium_memzero(rnd, 8);
	sp->id_left -= 8;
}

/*
 * Write rec as dirfd/<id>.json through tmp/: create and lock the tmp/
 * file, write it all, (fsync,) rename, close, (fsync dirfd).  EH_OK, or
 * an error with nothing left in tmp/ or dirfd.
 */
enum eh_err
eh__spool_file(struct eh_spool *sp, int dirfd, const char *id,
    const char *rec, size_t len, int flags)
{
	int durable = flags & EH__FILE_SYNC;
	char name[EH_ID_LEN + sizeof(".json")], tmp[EH_ID_LEN + 64];
	enum eh_err err;
	int fd, e;

	memcpy(name, id, EH_ID_LEN);
	memcpy(name + EH_ID_LEN, ".json", sizeof(".json"));
	fd = tmp_create(sp, id, tmp, sizeof(tmp));
	if (fd < 0)
		return fail(sp, "create tmp file");
	if (eh_write_all(fd, rec, len) != 0) {
		err = fail(sp, "write");
		close(fd);
		goto unlink_tmp;
	}
	if (durable && fsync(fd) != 0) {
		err = fail(sp, "fsync");
		close(fd);
		goto unlink_tmp;
	}
	/* Still locked while renamed: a cleaner never sees it unlocked
	 * under its tmp/ name.  The lock goes at close, in dirfd. */
	if (renameat(sp->tmpfd, tmp, dirfd, name) != 0) {
		err = fail(sp, "rename");
		close(fd);
		goto unlink_tmp;
	}
	if (close(fd) != 0) {
		err = fail(sp, "close");
		goto unlink_new;
	}
	if (durable && fsync(dirfd) != 0) {
		/* Not known to be durable: take it back rather than leave an
		 * unacknowledged event that may or may not survive. */
		err = fail(sp, dirfd == sp->newfd ? "fsync new/" :
		    "fsync folder");
		if (flags & EH__FILE_REPLACE)
			return err;
		goto unlink_new;
	}
	return EH_OK;
unlink_new:
	e = errno;
	(void)unlinkat(dirfd, name, 0);
	errno = e;
	return err;
unlink_tmp:
	e = errno;
	(void)unlinkat(sp->tmpfd, tmp, 0);
	errno = e;
	return err;
}

/*
 * Store ev's record: in file mode, durably as new/<id>.json; in group
 * mode, once the journal holds it durably, as new/<id>.json with no
 * fsync (the journal's keeper makes it durable before the segment
 * goes, and replays it should this write fail: acknowledged either
 * way).  EH_OK with id filled, or an error with id empty and nothing
 * left in new/ or tmp/.
 */
static enum eh_err
store(struct eh_spool *sp, const struct eh_event *ev,
    const char *remote_addr, char id[EH_ID_LEN + 1])
{
	struct timespec now;
	char *rec = NULL;
	size_t len;
	enum eh_err err;
	void *seg;

	arrival(sp, &now);
	spool_id(sp, id, &now);
	err = eh_record_build(&rec, &len, ev, id, &now, remote_addr);
	if (err != EH_OK) {
		id[0] = '\0';
		return err;
	}
	if (sp->journal != NULL && eh__journal_serves(sp->journal, sp)) {
		err = eh__journal_commit(sp->journal, sp, id, rec, len, &seg);
		/* No seg: the journal's publisher writes the file. */
		if (err == EH_OK && seg != NULL)
			eh__journal_release(sp->journal, seg,
			    eh__spool_file(sp, sp->newfd, id, rec, len, 0) ==
			    EH_OK);
	} else
		err = eh__spool_file(sp, sp->newfd, id, rec, len,
		    EH__FILE_SYNC);
	free(rec);
	if (err != EH_OK) {
		id[0] = '\0';
		return err;
	}
	sp->count++;
	return EH_OK;
}

enum eh_err
eh_spool_put(struct eh_spool *sp, const struct eh_event *ev,
    const char *remote_addr, char id[EH_ID_LEN + 1], int *dup)
{
	const char *key = ev->dedupe_key;
	enum eh_err err;
	int lockfd;

	*dup = 0;
	id[0] = '\0';
	if (ev->provider != EH_PROVIDER_ONESPAN || !key_ok(key))
		return store(sp, ev, remote_addr, id);
	/* Check, store, mark: one delivery of a key at a time on this
	 * machine, or two at once would both find no marker. */
	lockfd = key_lock(sp, key);
	if (seen(sp, key, id)) {
		*dup = 1;
		err = EH_OK;
	} else {
		err = store(sp, ev, remote_addr, id);
		/* Only once the event is durable: a crash in between costs
		 * a duplicate, never the event. */
		if (err == EH_OK)
			mark_seen(sp, key, id);
	}
	if (lockfd >= 0)
		close(lockfd);
	return err;
}

enum eh_err
eh_spool_probe(struct eh_spool *sp)
{
	unsigned char rnd[8];
	char name[128], hex[2 * sizeof(rnd) + 1], block[PROBE_BYTES];
	enum eh_err err = EH_OK;
	int fd;

	/* A real create and write tell the truth about read-only mounts,
	 * deleted directories, permissions (access(2) does not, for root)
	 * and a full disk (an empty file needs no block; a record does).
	 * A name of its own each time, and locked like a delivery's file,
	 * so that no cleaner takes it and no other probe shares it; one a
	 * killed worker left is cleaned like any. */
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	snprintf(name, sizeof(name), "probe-%s.%s.%ld", hex, sp->host,
	    sp->pid);
	fd = openat(sp->tmpfd, name,
	    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return fail(sp, "create probe file");
	(void)ofd_lock(fd, F_WRLCK, 0, 0);
	memset(block, '\n', sizeof(block));
	if (eh_write_all(fd, block, sizeof(block)) != 0)
		err = fail(sp, "write probe file");
	/* Removed while still locked. */
	(void)unlinkat(sp->tmpfd, name, 0);
	close(fd);
	return err;
}

enum eh_err
eh_spool_admit(struct eh_spool *sp, const struct eh_config *cfg)
{
	return admit(sp, cfg, 1);
}

/*
 * Not cached: a health check that says 200 for a second after the disk
 * filled is worse than the small write it costs (no fsync: page cache).
 */
enum eh_err
eh_spool_health(struct eh_spool *sp, const struct eh_config *cfg)
{
	enum eh_err err;

	err = admit(sp, cfg, 0);
	if (err == EH_OK)
		err = eh_spool_probe(sp);
	return err;
}
