/*
 * The spool, after qmail-local's maildir delivery, plus the directory
 * fsync qmail leaves out:
 *   tmp/<id>.json  O_EXCL, write all, fsync, close
 *   rename into new/<id>.json, fsync new/; only then may the caller reply.
 * A crash at any point leaves either nothing or the whole event in new/.
 * seen/<dedupe_key> marks OneSpan events already accepted; it is a hint
 * (at-least-once), so it is written after the event and never fsynced.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static enum eh_err
fail(struct eh_spool *sp, const char *op)
{
	sp->sys_errno = errno;
	sp->sys_op = op;
	if (errno == ENOSPC || errno == EDQUOT)
		return EH_ERR_SPOOL_FULL;
	return EH_ERR_SPOOL_IO;
}

static int
subdir(struct eh_spool *sp, const char *name, int *created)
{
	int fd;

	if (mkdirat(sp->dirfd, name, 0700) == 0)
		*created = 1;
	else if (errno != EEXIST)
		return -1;
	fd = openat(sp->dirfd, name,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	return fd;
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
	int created = 0;

	eh_spool_init(sp);
	if (path == NULL || *path != '/')
		return EH_ERR_SPOOL_CONFIG;
	sp->path = eh__strndup(path, strlen(path));
	if (sp->path == NULL)
		return EH_ERR_NOMEM;
	host_tag(sp->host, sizeof(sp->host));
	sp->pid = getpid();
	/* Only the spool itself is created: a missing parent is a typo. */
	if (mkdir(path, 0700) == 0) {
		/* The new directory's entry must outlive a crash too. */
		if (sync_parent(path) != 0)
			goto bad;
	} else if (errno != EEXIST)
		goto bad;
	sp->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->dirfd < 0)
		goto bad;
	sp->tmpfd = subdir(sp, "tmp", &created);
	if (sp->tmpfd < 0)
		goto bad;
	sp->newfd = subdir(sp, "new", &created);
	if (sp->newfd < 0)
		goto bad;
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

int
eh_spool_alive(const struct eh_spool *sp)
{
	struct stat st;

	/* A removed directory stays open but has no links.  tmp/ and new/
	 * are the two a delivery writes to (rm -rf of the spool takes
	 * them too). */
	return sp->dirfd >= 0 &&
	    fstat(sp->tmpfd, &st) == 0 && st.st_nlink > 0 &&
	    fstat(sp->newfd, &st) == 0 && st.st_nlink > 0;
}

void
eh_spool_close(struct eh_spool *sp)
{
	if (sp->seenfd >= 0)
		close(sp->seenfd);
	if (sp->newfd >= 0)
		close(sp->newfd);
	if (sp->tmpfd >= 0)
		close(sp->tmpfd);
	if (sp->dirfd >= 0)
		close(sp->dirfd);
	free(sp->path);
	eh_spool_init(sp);
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
	time_t before;
	const char *host;
	unsigned long removed;
};

/*
 * Whether the writer of tmp/<name>.<host>.<pid> is gone: it ran on this
 * host and no process has that pid now.  Another host's (or another pid
 * namespace's, which has another host name) files only go when stale;
 * a reused pid keeps a file until it is stale too: the safe side.
 */
static int
writer_dead(const char *name, const char *host)
{
	const char *dot = strrchr(name, '.'), *hdot;
	size_t hlen = strlen(host);
	char *end;
	long pid;

	if (dot == NULL || dot[1] < '1' || dot[1] > '9' ||
	    (size_t)(dot - name) < hlen + 1)
		return 0;
	hdot = dot - hlen - 1;
	if (*hdot != '.' || memcmp(hdot + 1, host, hlen) != 0)
		return 0;
	pid = strtol(dot + 1, &end, 10);
	if (*end != '\0' || pid <= 0 || pid > 0x7fffffffL)
		return 0;
	return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

static int
clean_one(void *ctx, int dfd, const char *name)
{
	struct clean_ctx *c = ctx;
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return 0;
	if ((st.st_mtime < c->before || writer_dead(name, c->host)) &&
	    unlinkat(dfd, name, 0) == 0)
		c->removed++;
	return 0;
}

unsigned long
eh_spool_clean_tmp(struct eh_spool *sp, time_t max_age)
{
	struct clean_ctx c;

	c.before = time(NULL) - max_age;
	c.host = sp->host;
	c.removed = 0;
	(void)each_entry(sp->tmpfd, clean_one, &c);
	return c.removed;
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

	if (fstatvfs(sp->newfd, &vfs) != 0)
		return fail(sp, "statvfs");
	if ((unsigned long long)vfs.f_bavail * vfs.f_frsize < cfg->min_free) {
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
 * seen/<dedupe_key> -> <id>: one system call to make, and its short
 * target lives in the inode (no data block), where a regular file with
 * the id in it took three calls and a block per event.
 */

/* Whether a OneSpan event with this key was accepted; fills id if so. */
static int
seen(struct eh_spool *sp, const char *key, char id[EH_ID_LEN + 1])
{
	ssize_t n;

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
	if (symlinkat(id, sp->seenfd, key) != 0)
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

enum eh_err
eh_spool_put(struct eh_spool *sp, const struct eh_event *ev,
    const char *remote_addr, char id[EH_ID_LEN + 1], int *dup)
{
	struct timespec now;
	char name[EH_ID_LEN + sizeof(".json")], tmp[EH_ID_LEN + 64];
	char *rec = NULL;
	size_t len;
	enum eh_err err;
	int fd, e;

	*dup = 0;
	id[0] = '\0';
	if (ev->provider == EH_PROVIDER_ONESPAN &&
	    seen(sp, ev->dedupe_key, id)) {
		*dup = 1;
		return EH_OK;
	}
	arrival(sp, &now);
	eh_id_make(id, &now);
	err = eh_record_build(&rec, &len, ev, id, &now, remote_addr);
	if (err != EH_OK) {
		id[0] = '\0';
		return err;
	}
	memcpy(name, id, EH_ID_LEN);
	memcpy(name + EH_ID_LEN, ".json", sizeof(".json"));
	/* The writer's host and pid in the tmp/ name let start-up remove
	 * what a killed worker left behind (eh_spool_clean_tmp). */
	snprintf(tmp, sizeof(tmp), "%s.%s.%ld", id, sp->host, (long)sp->pid);

	fd = openat(sp->tmpfd, tmp,
	    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		err = fail(sp, "create tmp file");
		goto out;
	}
	if (eh_write_all(fd, rec, len) != 0) {
		err = fail(sp, "write");
		close(fd);
		goto unlink_tmp;
	}
	if (fsync(fd) != 0) {
		err = fail(sp, "fsync");
		close(fd);
		goto unlink_tmp;
	}
	if (close(fd) != 0) {
		err = fail(sp, "close");
		goto unlink_tmp;
	}
	if (renameat(sp->tmpfd, tmp, sp->newfd, name) != 0) {
		err = fail(sp, "rename");
		goto unlink_tmp;
	}
	if (fsync(sp->newfd) != 0) {
		/* Not known to be durable: take it back rather than leave an
		 * unacknowledged event that may or may not survive. */
		err = fail(sp, "fsync new/");
		e = errno;
		(void)unlinkat(sp->newfd, name, 0);
		errno = e;
		goto out;
	}
	if (ev->provider == EH_PROVIDER_ONESPAN)
		mark_seen(sp, ev->dedupe_key, id);
	sp->count++;
	err = EH_OK;
	goto out;
unlink_tmp:
	e = errno;
	(void)unlinkat(sp->tmpfd, tmp, 0);
	errno = e;
out:
	free(rec);
	if (err != EH_OK)
		id[0] = '\0';
	return err;
}

enum eh_err
eh_spool_probe(struct eh_spool *sp)
{
	char name[128], block[PROBE_BYTES];
	enum eh_err err = EH_OK;
	int fd;

	/* A real create and write tell the truth about read-only mounts,
	 * deleted directories, permissions (access(2) does not, for root)
	 * and a full disk (an empty file needs no block; a record does).
	 * Named like a tmp/ file (one per thread), so a probe left by a
	 * killed worker is cleaned like any. */
	snprintf(name, sizeof(name), "probe-%ld.%s.%ld", (long)gettid(),
	    sp->host, (long)sp->pid);
	fd = openat(sp->tmpfd, name,
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return fail(sp, "create probe file");
	memset(block, '\n', sizeof(block));
	if (eh_write_all(fd, block, sizeof(block)) != 0)
		err = fail(sp, "write probe file");
	close(fd);
	(void)unlinkat(sp->tmpfd, name, 0);
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
