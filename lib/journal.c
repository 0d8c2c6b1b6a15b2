/*
 * Group commit: a FastCGI process's journal (README, "Group commit").
 *
 * A thread storing an event appends its record, framed and checksummed,
 * to the process's active segment in journal/, then waits for an
 * fdatasync that covers it.  The first thread to wait makes that call
 * for everyone appended by then; the others wait on a condition
 * variable.  So a burst of N callbacks costs one journal commit, not
 * the 2N of file mode.  Then the thread answers, and one publisher
 * thread writes the new/<id>.json files, without an fsync, in the
 * journal's order (without a publisher, each thread writes its own
 * before it answers).
 *
 * A segment is removed only once every event in it is durable in new/:
 * the keeper (eh_journal_tick) seals the active segment once a second,
 * and removes sealed ones after one syncfs(2) of the spool's file system
 * made their new/ files durable.  A segment whose new/ file could not be
 * written is replayed first.  Should the process die, the segment stays,
 * and recovery (eh_journal_recover, at start-up and in drain) writes
 * again every event of it that is missing or not whole.
 *
 * Failures are sticky per segment, as they must be after a failed
 * fdatasync (the kernel may have dropped the pages and will not say so
 * twice): a segment whose write or sync failed is never appended to
 * again.  After a failed sync it is cut back to what was synced, so that
 * the refused records do not come back at recovery.
 *
 * Each segment is held by an OFD write lock for as long as its writer
 * has it open: recovery takes only segments it can lock, whose writer
 * is gone.
 */
#include <sys/stat.h>
#include <sys/uio.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "esignhook.h"
#include "extern.h"

#define JOURNAL_DIR "journal"
#define SEG_SUFFIX ".seg"
/* A segment this large is sealed at the next append, whatever its age. */
#define SEG_MAX (16L * 1024 * 1024)
#define SEG_NAME_MAX 96
/* How far, in bytes of records, new/ may be behind the journal before
 * acknowledgements wait for the publisher: about a second of its work. */
#define LAG_MAX (2UL * 1024 * 1024)
/* What one publish call writes at most before it lets waiting
 * acknowledgements know: some tens of milliseconds of work, not the
 * whole lag. */
#define PUBLISH_CHUNK (32UL * 1024)

static const unsigned char magic[4] = { 'E', 'H', 'J', '1' };
/* What ends a segment cut back when it cannot be cut: a head that
 * parses as none. */
static const unsigned char zero_head[EH__JFRAME_HEAD];

struct seg {
	struct seg *next;
	int fd;
	char name[SEG_NAME_MAX];
	uint64_t written;       /* bytes appended */
	uint64_t synced;        /* of them, covered by an fdatasync */
	uint64_t published;     /* of those, with their new/ files written
	                         * by the publisher (eh_journal_publish) */
	unsigned seq;           /* its number: the publisher goes in order */
	unsigned pending;       /* appended, their new/ file not yet written
	                         * by their own thread (no publisher) */
	int broken;             /* a write or sync failed: append no more */
	int sync_errno;         /* a sync failed (its errno): what was not
	                         * synced is off */
	int replay;             /* an acknowledged record has no new/ file */
	int force;              /* a syncfs failed: rewrite every record,
	                         * durably, before it goes */
	struct timespec born;   /* CLOCK_MONOTONIC */
};

struct eh_journal {
	pthread_mutex_t mu;
	pthread_cond_t synced;  /* a sync ended */
	pthread_cond_t work;    /* records synced: the publisher's wake-up */
	pthread_cond_t room;    /* the publisher caught up some */
	int syncing;            /* a thread is in fdatasync */
	int publisher;          /* new/ files by eh_journal_publish */
	uint64_t lag;           /* bytes synced, not yet published */
	struct eh_spool pub;    /* the publisher's handle */
	struct seg *active;     /* appended to; NULL: made at the next */
	struct seg *sealed;     /* appended to no more, not yet removed */
	int jfd;                /* journal/ */
	struct eh_spool sp;     /* the keeper's own handle: replay, syncfs */
	uint64_t new_dev, new_ino;
	unsigned seq;           /* segments made */
};

/* ---- frames ---- */

static void
put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t
get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

#define SUM_AT (4 + 4 + EH_ID_LEN)
#define SUM_LEN 16

static void
frame_sum(unsigned char out[SUM_LEN], const unsigned char *head,
    const char *rec, size_t len)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, SUM_LEN);
	crypto_generichash_update(&st, head, SUM_AT);
	crypto_generichash_update(&st, (const unsigned char *)rec, len);
	crypto_generichash_final(&st, out, SUM_LEN);
}

void
eh__jframe_head(unsigned char head[EH__JFRAME_HEAD], const char *id,
    const char *rec, size_t len)
{
	memcpy(head, magic, sizeof(magic));
	put_le32(head + 4, (uint32_t)len);
	memcpy(head + 8, id, EH_ID_LEN);
	frame_sum(head + SUM_AT, head, rec, len);
}

/* An id's shape (eh__id_format): '0' a digit, 'f' a lowercase hex
 * digit, anything else itself.  So no frame names a dot-file, or a
 * path. */
static const char id_shape[EH_ID_LEN + 1] =
    "00000000T000000.000000Z-ffffffffffffffff";

static int
id_char(unsigned char c, char shape)
{
	if (shape == '0')
		return c >= '0' && c <= '9';
	if (shape == 'f')
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
	return c == (unsigned char)shape;
}

int
eh__jframe_parse(const unsigned char head[EH__JFRAME_HEAD],
    char id[EH_ID_LEN + 1], size_t *len)
{
	size_t i;

	if (memcmp(head, magic, sizeof(magic)) != 0)
		return -1;
	*len = get_le32(head + 4);
	if (*len > EH__JFRAME_MAX)
		return -1;
	for (i = 0; i < EH_ID_LEN; i++) {
		if (!id_char(head[8 + i], id_shape[i]))
			return -1;
		id[i] = (char)head[8 + i];
	}
	id[EH_ID_LEN] = '\0';
	return 0;
}

int
eh__jframe_check(const unsigned char head[EH__JFRAME_HEAD],
    const char *rec, size_t len)
{
	unsigned char sum[SUM_LEN];

	if (len != get_le32(head + 4))
		return 0;
	frame_sum(sum, head, rec, len);
	return sodium_memcmp(sum, head + SUM_AT, SUM_LEN) == 0;
}

/* ---- segments ---- */

static int
lock_all(int fd)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));	/* l_pid 0 for OFD locks */
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	return fcntl(fd, F_OFD_SETLK, &fl);
}

static enum eh_err
jfail(struct eh_spool *sp, int e, const char *op)
{
	sp->sys_errno = e;
	sp->sys_op = op;
	return e == ENOSPC || e == EDQUOT ? EH_ERR_SPOOL_FULL :
	    EH_ERR_SPOOL_IO;
}

static void
seg_free(struct seg *s)
{
	if (s == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

/*
 * Segment number seq, created, locked and its name made durable (an
 * fsync of journal/: a record in it is acknowledged after its
 * fdatasync alone).  Called without j's lock; errors go to err_sp.
 * Opened for reading too: the keeper replays it, and a write lock
 * needs a descriptor open for writing.
 * Between the create and the lock a recoverer (another process) may
 * lock the empty file, find nothing, and remove it: as tmp_create
 * does, a lock refused or a file found unlinked means another name.
 */
#define SEG_TRIES 3

static struct seg *
seg_create(struct eh_journal *j, unsigned seq, struct eh_spool *err_sp)
{
	struct stat st;
	struct seg *s;
	unsigned i;
	int e;

	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		(void)jfail(err_sp, ENOMEM, "journal create");
		return NULL;
	}
	s->fd = -1;
	s->seq = seq;
	for (i = 0; i < SEG_TRIES; i++) {
		if (i == 0)
			snprintf(s->name, sizeof(s->name), "%s.%ld.%u"
			    SEG_SUFFIX, j->sp.host, j->sp.pid, seq);
		else
			snprintf(s->name, sizeof(s->name), "%s.%ld.%u.r%u"
			    SEG_SUFFIX, j->sp.host, j->sp.pid, seq, i);
		s->fd = openat(j->jfd, s->name, O_RDWR | O_CREAT | O_EXCL |
		    O_CLOEXEC | O_NOFOLLOW, 0600);
		if (s->fd < 0)
			goto bad;
		if (lock_all(s->fd) != 0) {
			if (errno != EAGAIN && errno != EACCES)
				goto bad_unlink;
		} else if (fstat(s->fd, &st) != 0)
			goto bad_unlink;
		else if (st.st_nlink > 0)
			break;
		/* A recoverer has it, and removes it. */
		close(s->fd);
		s->fd = -1;
	}
	if (s->fd < 0) {
		errno = EAGAIN;
		goto bad;
	}
	if (fsync(j->jfd) != 0)
		goto bad_unlink;
	return s;
bad_unlink:
	e = errno;
	(void)unlinkat(j->jfd, s->name, 0);
	errno = e;
bad:
	(void)jfail(err_sp, errno, "journal create");
	seg_free(s);
	return NULL;
}

static void
seal(struct eh_journal *j, struct seg *s)
{
	s->next = j->sealed;
	j->sealed = s;
}

enum eh_err
eh_journal_open(struct eh_journal **jp, struct eh_spool *sp)
{
	struct eh_journal *j;
	pthread_condattr_t ca;
	enum eh_err err;
	int created = 0;

	*jp = NULL;
	j = calloc(1, sizeof(*j));
	if (j == NULL)
		return EH_ERR_NOMEM;
	j->jfd = -1;
	eh_spool_init(&j->sp);
	err = eh_spool_open(&j->sp, sp->path);
	if (err != EH_OK) {
		sp->sys_errno = j->sp.sys_errno;
		sp->sys_op = j->sp.sys_op;
		free(j);
		return err;
	}
	j->new_dev = j->sp.new_dev;
	j->new_ino = j->sp.new_ino;
	j->jfd = openat(j->sp.dirfd, JOURNAL_DIR,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (j->jfd < 0 && errno == ENOENT) {
		if (mkdirat(j->sp.dirfd, JOURNAL_DIR, 0700) == 0)
			created = 1;
		else if (errno != EEXIST)
			goto bad;
		j->jfd = openat(j->sp.dirfd, JOURNAL_DIR,
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (j->jfd < 0 || (created && fsync(j->sp.dirfd) != 0))
		goto bad;
	if (pthread_mutex_init(&j->mu, NULL) != 0) {
		errno = ENOMEM;
		goto bad;
	}
	if (pthread_cond_init(&j->synced, NULL) != 0) {
		pthread_mutex_destroy(&j->mu);
		errno = ENOMEM;
		goto bad;
	}
	/* The publisher's timed wait, on a clock that does not step. */
	if (pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&j->work, &ca) != 0 ||
	    pthread_cond_init(&j->room, NULL) != 0) {
		/* Never fails on Linux; a leak if it did. */
		errno = ENOMEM;
		goto bad;
	}
	pthread_condattr_destroy(&ca);
	eh_spool_init(&j->pub);
	/* The first segment now: where it cannot be made or locked (no
	 * OFD locks: recovery could never tell it from a dead writer's),
	 * the caller hears it before serving. */
	j->active = seg_create(j, j->seq++, sp);
	if (j->active == NULL) {
		err = jfail(sp, sp->sys_errno, sp->sys_op);
		pthread_cond_destroy(&j->room);
		pthread_cond_destroy(&j->work);
		pthread_cond_destroy(&j->synced);
		pthread_mutex_destroy(&j->mu);
		close(j->jfd);
		eh_spool_close(&j->sp);
		free(j);
		return err;
	}
	*jp = j;
	return EH_OK;
bad:
	err = jfail(sp, errno, "open journal");
	if (j->jfd >= 0)
		close(j->jfd);
	eh_spool_close(&j->sp);
	free(j);
	return err;
}

int
eh__journal_serves(const struct eh_journal *j, const struct eh_spool *sp)
{
	return sp->newfd >= 0 && sp->new_dev == j->new_dev &&
	    sp->new_ino == j->new_ino;
}

/*
 * Sync what is appended and not yet synced, in every segment, as the
 * one syncing thread: called and returning with j->mu held, let go
 * during the fdatasyncs.
 */
static void
sync_all(struct eh_journal *j)
{
	struct { struct seg *s; uint64_t upto; } want[8];
	struct seg *s;
	size_t n = 0, i;
	int rc[8];

	j->syncing = 1;
	/* Usually the active segment alone; a sealed one has unsynced
	 * records only when it was sealed with a batch under way.  Past
	 * eight, the next sync takes the rest. */
	s = j->active;
	if (s != NULL && s->written > s->synced && s->sync_errno == 0) {
		want[n].s = s;
		want[n++].upto = s->written;
	}
	for (s = j->sealed; s != NULL && n < 8; s = s->next)
		if (s->written > s->synced && s->sync_errno == 0) {
			want[n].s = s;
			want[n++].upto = s->written;
		}
	pthread_mutex_unlock(&j->mu);
	for (i = 0; i < n; i++)
		rc[i] = fdatasync(want[i].s->fd) == 0 ? 0 : errno;
	pthread_mutex_lock(&j->mu);
	for (i = 0; i < n; i++) {
		s = want[i].s;
		if (rc[i] == 0) {
			if (want[i].upto > s->synced) {
				j->lag += want[i].upto - s->synced;
				s->synced = want[i].upto;
			}
			continue;
		}
		/* Sticky: a later fdatasync may say 0 for pages the kernel
		 * dropped.  The records after synced are refused; cut them
		 * off (or, failing that, zero the first one's head), so that
		 * recovery does not bring them back. */
		s->broken = 1;
		s->sync_errno = rc[i];
		if (ftruncate(s->fd, (off_t)s->synced) == 0 ||
		    pwrite(s->fd, zero_head, sizeof(zero_head),
		    (off_t)s->synced) == (ssize_t)sizeof(zero_head))
			(void)fdatasync(s->fd);
	}
	j->syncing = 0;
	pthread_cond_broadcast(&j->synced);
	if (j->publisher)
		pthread_cond_signal(&j->work);
}

enum eh_err
eh__journal_commit(struct eh_journal *j, struct eh_spool *sp,
    const char *id, const char *rec, size_t len, void **segp)
{
	unsigned char head[EH__JFRAME_HEAD];
	struct iovec iov[2];
	struct seg *s, *made;
	uint64_t end;
	ssize_t n;
	unsigned seq;
	int e;

	*segp = NULL;
	if (len > EH__JFRAME_MAX)
		return jfail(sp, EFBIG, "journal write");
	eh__jframe_head(head, id, rec, len);
	iov[0].iov_base = head;
	iov[0].iov_len = sizeof(head);
	iov[1].iov_base = (void *)(uintptr_t)rec;
	iov[1].iov_len = len;
	pthread_mutex_lock(&j->mu);
	/* The publisher keeps up, or the acknowledgements wait for it:
	 * new/ stays within LAG_MAX of what was acknowledged. */
	while (j->publisher && j->lag > LAG_MAX)
		pthread_cond_wait(&j->room, &j->mu);
	/* Until the active segment is fit: another thread's may have
	 * broken while this one made its own. */
	while ((s = j->active) == NULL || s->broken || s->written >= SEG_MAX) {
		/* The keeper makes the next one ahead of time; here only
		 * after a failure, or a segment full within a second. */
		if (s != NULL) {
			seal(j, s);
			j->active = NULL;
		}
		seq = j->seq++;
		pthread_mutex_unlock(&j->mu);
		made = seg_create(j, seq, sp);
		if (made == NULL)
			return jfail(sp, sp->sys_errno, sp->sys_op);
		pthread_mutex_lock(&j->mu);
		if (j->active == NULL)
			j->active = made;
		else
			seal(j, made);  /* another thread made one too */
	}
	n = writev(s->fd, iov, 2);
	if (n < 0 || (size_t)n != sizeof(head) + len) {
		/* Whatever went in is a torn tail, dropped at recovery;
		 * the records before it are whole. */
		e = n < 0 ? errno : ENOSPC;
		s->broken = 1;
		s->written += n > 0 ? (uint64_t)n : 0;
		pthread_mutex_unlock(&j->mu);
		return jfail(sp, e, "journal write");
	}
	/* A segment's age counts from its first record: the keeper makes
	 * the next one ahead of time, empty. */
	if (s->written == 0)
		clock_gettime(CLOCK_MONOTONIC, &s->born);
	s->written += (uint64_t)n;
	end = s->written;
	/* Waiting for its sync, the thread holds the segment: the keeper
	 * retires none with a waiter (a broken one might look done). */
	s->pending++;
	while (s->synced < end && s->sync_errno == 0) {
		if (!j->syncing)
			sync_all(j);
		else
			pthread_cond_wait(&j->synced, &j->mu);
	}
	if (s->synced < end) {
		e = s->sync_errno;
		s->pending--;
		pthread_mutex_unlock(&j->mu);
		return jfail(sp, e, "journal fdatasync");
	}
	/* With a publisher, its new/ file is the publisher's to write;
	 * else the thread's, which gives the segment back after it. */
	if (j->publisher)
		s->pending--;
	else
		*segp = s;
	pthread_mutex_unlock(&j->mu);
	return EH_OK;
}

void
eh__journal_release(struct eh_journal *j, void *segp, int in_new)
{
	struct seg *s = segp;

	pthread_mutex_lock(&j->mu);
	s->pending--;
	if (!in_new)
		s->replay = 1;
	pthread_mutex_unlock(&j->mu);
}

/* ---- replay and recovery ---- */

/* Where a record may be (README, "Processing"), new/ first.  Named here
 * and not taken from lib/queue.c: the receiver does not link it. */
static const char *const folders[] = {
	"new", "cur", "retry", "done", "failed"
};
#define NFOLDERS (sizeof(folders) / sizeof(folders[0]))

/* The spool's folders, for one replay: -1 for one not there. */
struct where {
	int fd[NFOLDERS];
};

static void
where_open(struct where *w, const struct eh_spool *sp)
{
	size_t i;

	for (i = 0; i < NFOLDERS; i++)
		w->fd[i] = i == 0 ? -1 : openat(sp->dirfd, folders[i],
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
}

static void
where_close(struct where *w)
{
	size_t i;

	for (i = 0; i < NFOLDERS; i++)
		if (w->fd[i] >= 0)
			close(w->fd[i]);
}

/*
 * Which folder holds name: its descriptor, with *same set when the file
 * there is rec byte for byte; -1 when none does, -2 on a read that
 * failed but for the file moving away (sp says why).
 */
static int
find_copy(struct eh_spool *sp, struct where *w, const char *name,
    const char *rec, size_t len, int *same)
{
	struct stat st;
	size_t i, n;
	char *buf;
	int fd;

	for (i = 0; i < NFOLDERS; i++) {
		fd = i == 0 ? sp->newfd : w->fd[i];
		if (fd < 0 ||
		    fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		*same = 0;
		if (!S_ISREG(st.st_mode) || (size_t)st.st_size != len)
			return fd;
		if (eh__read_file(fd, name, O_NOFOLLOW, len + 1, &buf,
		    &n) != 0) {
			if (errno == ENOENT)
				continue;   /* a drainer moved it on */
			(void)jfail(sp, errno, "journal replay read");
			return -2;
		}
		*same = n == len && memcmp(buf, rec, len) == 0;
		free(buf);
		return fd;
	}
	return -1;
}

/*
 * Put rec back in the spool: a folder holding a whole copy of it is
 * left alone (unless force: after a failed syncfs its pages may never
 * reach the disk, and the kernel says so once; then it is written
 * again and fsynced); one holding it not whole gets it again; none,
 * new/ does.  Not found, the
 * folders are looked at twice: a drainer moves files from retry/ back
 * to cur/, which the first look may have passed.  1 if written, 0 if
 * it was there, -1 on failure (sp says).
 */
static int
put_back(struct eh_spool *sp, struct where *w, const char *id,
    const char *rec, size_t len, int force)
{
	char name[EH_ID_LEN + sizeof(".json")];
	int fd, same = 0;

	memcpy(name, id, EH_ID_LEN);
	memcpy(name + EH_ID_LEN, ".json", sizeof(".json"));
	fd = find_copy(sp, w, name, rec, len, &same);
	if (fd == -1)
		fd = find_copy(sp, w, name, rec, len, &same);
	if (fd == -2)
		return -1;
	if (fd >= 0 && same && !force)
		return 0;
	/* After a power loss, a file renamed but never synced may be
	 * there empty or short: its folder is where the queue has it.
	 * Not fsynced, but forced: the caller's syncfs comes before the
	 * segment goes (one for all, not two per record). */
	return eh__spool_file(sp, fd >= 0 ? fd : sp->newfd, id, rec, len,
	    (force ? EH__FILE_SYNC : 0) | (fd >= 0 ? EH__FILE_REPLACE : 0)) ==
	    EH_OK ? 1 : -1;
}

/*
 * Put back every whole record of the segment at fd, up to the first
 * that is not (force: rewrite each, durably, even one found whole).
 * 0, or -1 (sp says why) with the segment to be kept.
 */
static int
replay(struct eh_spool *sp, int fd, int force, struct eh_journal_report *rep)
{
	unsigned char head[EH__JFRAME_HEAD];
	char id[EH_ID_LEN + 1], *rec;
	struct where w;
	struct stat st;
	off_t at = 0;
	size_t len;
	ssize_t n;
	int rc = 0, r;

	if (fstat(fd, &st) != 0) {
		(void)jfail(sp, errno, "journal read");
		return -1;
	}
	where_open(&w, sp);
	for (;;) {
		n = pread(fd, head, sizeof(head), at);
		if (n < 0) {
			(void)jfail(sp, errno, "journal read");
			rc = -1;
			break;
		}
		if (n == 0)
			break;
		if ((size_t)n < sizeof(head) ||
		    eh__jframe_parse(head, id, &len) != 0 ||
		    (off_t)len > st.st_size - at - (off_t)sizeof(head)) {
			rep->torn++;
			break;
		}
		rec = malloc(len > 0 ? len : 1);
		if (rec == NULL) {
			(void)jfail(sp, ENOMEM, "journal read");
			rc = -1;
			break;
		}
		n = pread(fd, rec, len, at + (off_t)sizeof(head));
		if (n < 0 || (size_t)n != len ||
		    !eh__jframe_check(head, rec, len)) {
			free(rec);
			if (n < 0) {
				(void)jfail(sp, errno, "journal read");
				rc = -1;
			} else
				rep->torn++;
			break;
		}
		rep->records++;
		r = put_back(sp, &w, id, rec, len, force);
		free(rec);
		if (r < 0) {
			rc = -1;
			break;
		}
		rep->rewritten += (unsigned long)r;
		at += (off_t)(sizeof(head) + len);
	}
	where_close(&w);
	return rc;
}

/* Segments one recovery holds at once; more wait for the next round. */
#define RECOVER_BATCH 32

struct found {
	int fd;
	char name[256];
};

/*
 * Up to RECOVER_BATCH segments of jfd that no writer holds, each open
 * and locked, into f; how many (*more: 1 if there are others, -1 if
 * journal/ cannot be read).  One recovered and removed by another
 * process meanwhile has no link left.
 */
static size_t
lock_dead(int jfd, struct found *f, int *more)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	size_t n = 0, nl;
	int fd;

	*more = 0;
	d = eh__dir_open(jfd);
	if (d == NULL) {
		*more = -1;
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		nl = strlen(de->d_name);
		if (de->d_name[0] == '.' || nl <= strlen(SEG_SUFFIX) ||
		    nl >= sizeof(f[0].name) ||
		    strcmp(de->d_name + nl - strlen(SEG_SUFFIX),
		    SEG_SUFFIX) != 0)
			continue;
		if (n == RECOVER_BATCH) {
			*more = 1;
			break;
		}
		fd = openat(jfd, de->d_name,
		    O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd < 0)
			continue;
		if (lock_all(fd) != 0 || fstat(fd, &st) != 0 ||
		    st.st_nlink == 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			continue;
		}
		f[n].fd = fd;
		memcpy(f[n].name, de->d_name, nl + 1);
		n++;
	}
	closedir(d);
	return n;
}

/*
 * Replay, then one syncfs, then remove: a record found whole in its
 * folder may be whole only in the page cache (its writer was killed,
 * the machine runs on), so no segment goes before the files it vouches
 * for are on disk.
 */
enum eh_err
eh_journal_recover(struct eh_spool *sp, struct eh_journal_report *rep)
{
	struct found f[RECOVER_BATCH];
	size_t n, i;
	int jfd, more, removed = 0, ok[RECOVER_BATCH];
	enum eh_err err = EH_OK;

	memset(rep, 0, sizeof(*rep));
	jfd = openat(sp->dirfd, JOURNAL_DIR,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (jfd < 0) {
		if (errno == ENOENT)
			return EH_OK;
		rep->sys_errno = errno;
		rep->sys_op = "open journal";
		return jfail(sp, rep->sys_errno, rep->sys_op);
	}
	do {
		n = lock_dead(jfd, f, &more);
		if (more < 0) {
			rep->sys_errno = errno;
			rep->sys_op = "open journal";
			err = jfail(sp, rep->sys_errno, rep->sys_op);
			break;
		}
		for (i = 0; i < n; i++) {
			ok[i] = replay(sp, f[i].fd, 0, rep) == 0;
			if (!ok[i]) {
				err = jfail(sp, sp->sys_errno, sp->sys_op);
				rep->sys_errno = sp->sys_errno;
				rep->sys_op = sp->sys_op;
			}
		}
		/* A failed syncfs says so once (the next would say 0): each
		 * record is then written again and fsynced on its own. */
		if (n > 0 && syncfs(sp->newfd) != 0) {
			err = jfail(sp, errno, "syncfs");
			rep->sys_errno = sp->sys_errno;
			rep->sys_op = sp->sys_op;
			more = 0;
			for (i = 0; i < n; i++)
				if (ok[i])
					ok[i] = replay(sp, f[i].fd, 1, rep) == 0;
		}
		for (i = 0; i < n; i++) {
			if (ok[i] && unlinkat(jfd, f[i].name, 0) == 0) {
				rep->segments++;
				removed = 1;
			} else if (ok[i] && errno != ENOENT) {
				/* Else the same batch would come back forever. */
				err = jfail(sp, errno, "remove segment");
				rep->sys_errno = sp->sys_errno;
				rep->sys_op = sp->sys_op;
			}
			close(f[i].fd);
		}
		/* A batch that failed is not tried again in this call. */
	} while (more && err == EH_OK);
	/* Else a segment could come back after a crash and cost its
	 * events a duplicate each. */
	if (removed && fsync(jfd) != 0 && err == EH_OK) {
		err = jfail(sp, errno, "fsync journal/");
		rep->sys_errno = sp->sys_errno;
		rep->sys_op = sp->sys_op;
	}
	close(jfd);
	return err;
}

/* ---- the keeper ---- */

static int64_t
age_ms(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - t->tv_sec) * 1000 +
	    (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* Whether s may go: nobody is between its append and its new/ file,
 * and nothing in it waits for a sync (past a failed write, a torn
 * tail that no one waits for). */
static int
retirable(const struct eh_journal *j, const struct seg *s)
{
	return s->pending == 0 && (s->synced == s->written || s->broken) &&
	    (!j->publisher || s->published >= s->synced);
}

static int
due_to_seal(const struct seg *s, int64_t max_age_ms)
{
	return s->written > 0 &&
	    (max_age_ms <= 0 || age_ms(&s->born) >= max_age_ms);
}

/*
 * Seal the active segment if due (max_age_ms old; making the next one
 * first if make_next), then retire the sealed segments no one
 * is using: replay those that need it, one syncfs, remove.  A failure
 * keeps the segments concerned for the next call.
 */
static enum eh_err
retire(struct eh_journal *j, int make_next, int64_t max_age_ms,
    struct eh_journal_report *rep)
{
	struct seg *s, **pp, *done = NULL, *made = NULL;
	enum eh_err err = EH_OK;
	unsigned seq = 0;
	int need, e, synced_fs;

	memset(rep, 0, sizeof(*rep));
	pthread_mutex_lock(&j->mu);
	need = make_next && (j->active == NULL || j->active->broken ||
	    due_to_seal(j->active, max_age_ms));
	if (need)
		seq = j->seq++;
	pthread_mutex_unlock(&j->mu);
	/* The next segment before the swap, so that no request waits for
	 * its fsync of journal/.  Failing, the active one stays (or a
	 * request makes one); what is sealed still goes. */
	if (need) {
		made = seg_create(j, seq, &j->sp);
		if (made == NULL) {
			err = jfail(&j->sp, j->sp.sys_errno, j->sp.sys_op);
			rep->sys_errno = j->sp.sys_errno;
			rep->sys_op = j->sp.sys_op;
		}
	}
	pthread_mutex_lock(&j->mu);
	s = j->active;
	/* Sealed when due, if there is a next one (or none is wanted). */
	if (s != NULL && (s->broken || ((made != NULL || !make_next) &&
	    due_to_seal(s, max_age_ms)))) {
		seal(j, s);
		j->active = NULL;
	}
	if (made != NULL) {
		if (j->active == NULL)
			j->active = made;
		else
			seal(j, made);  /* empty: goes below */
	}
	for (pp = &j->sealed; *pp != NULL;) {
		s = *pp;
		if (retirable(j, s)) {
			*pp = s->next;
			s->next = done;
			done = s;
		} else
			pp = &s->next;
	}
	pthread_mutex_unlock(&j->mu);
	if (done == NULL)
		return err;
	/* Only the keeper (or the closing thread) gets here: the segments
	 * in done are no one else's now. */
	for (s = done; s != NULL; s = s->next) {
		if (!s->replay && !s->force)
			continue;
		if (replay(&j->sp, s->fd, s->force, rep) == 0) {
			/* Forced, each record was fsynced on its own. */
			s->replay = 0;
			s->force = s->force ? -1 : 0;
		} else if (err == EH_OK) {
			err = jfail(&j->sp, j->sp.sys_errno, j->sp.sys_op);
			rep->sys_errno = j->sp.sys_errno;
			rep->sys_op = j->sp.sys_op;
		}
	}
	/* One syncfs makes every new/ file written so far durable, theirs
	 * among them.  Failing, it says so once: the pages it could not
	 * write may be gone from the cache's view, so those segments'
	 * records are all written again, each fsynced, before they go. */
	synced_fs = syncfs(j->sp.newfd) == 0;
	if (!synced_fs) {
		e = errno;
		err = jfail(&j->sp, e, "syncfs");
		rep->sys_errno = e;
		rep->sys_op = "syncfs";
	}
	pthread_mutex_lock(&j->mu);
	/* Not only those in hand: any segment with a record may have a
	 * new/ file among the pages that syncfs could not write. */
	if (!synced_fs) {
		if (j->active != NULL && j->active->written > 0)
			j->active->force = 1;
		for (s = j->sealed; s != NULL; s = s->next)
			if (s->written > 0)
				s->force = 1;
	}
	while (done != NULL) {
		s = done;
		done = s->next;
		/* force -1: rewritten and fsynced in this call. */
		if (s->replay || s->force == 1 ||
		    (!synced_fs && s->force == 0 && s->written > 0)) {
			if (!synced_fs)
				s->force = 1;
			seal(j, s);     /* the next call tries again */
			continue;
		}
		if (unlinkat(j->jfd, s->name, 0) != 0 && errno != ENOENT) {
			seal(j, s);
			continue;
		}
		rep->segments++;
		seg_free(s);
	}
	pthread_mutex_unlock(&j->mu);
	if (rep->segments > 0 && fsync(j->jfd) != 0 && err == EH_OK) {
		e = errno;
		err = jfail(&j->sp, e, "fsync journal/");
		rep->sys_errno = e;
		rep->sys_op = "fsync journal/";
	}
	return err;
}

enum eh_err
eh_journal_tick(struct eh_journal *j, int64_t max_age_ms,
    struct eh_journal_report *rep)
{
	return retire(j, 1, max_age_ms, rep);
}

void
eh_journal_describe(char *buf, size_t cap, enum eh_err err,
    const struct eh_journal_report *rep)
{
	if (err != EH_OK)
		snprintf(buf, cap, "%lu records read, %lu written again, %u "
		    "segments removed; failed: %s (%s: %s); the rest is kept "
		    "for the next try", rep->records, rep->rewritten,
		    rep->segments, eh_strerror(err), rep->sys_op != NULL ?
		    rep->sys_op : "?", eh_errno_str(rep->sys_errno));
	else
		snprintf(buf, cap, "%u segment%s, %lu record%s, %lu written "
		    "again, %lu torn tail%s dropped", rep->segments,
		    rep->segments == 1 ? "" : "s", rep->records,
		    rep->records == 1 ? "" : "s", rep->rewritten, rep->torn,
		    rep->torn == 1 ? "" : "s");
}

/* ---- the publisher ---- */

enum eh_err
eh_journal_set_publisher(struct eh_journal *j)
{
	enum eh_err err;

	err = eh_spool_open(&j->pub, j->sp.path);
	if (err == EH_OK)
		j->publisher = 1;
	return err;
}

/* The oldest segment with records synced and not published; NULL. */
static struct seg *
unpublished(struct eh_journal *j)
{
	struct seg *s, *best = NULL;

	if (j->active != NULL && j->active->published < j->active->synced)
		best = j->active;
	for (s = j->sealed; s != NULL; s = s->next)
		if (s->published < s->synced &&
		    (best == NULL || s->seq < best->seq))
			best = s;
	return best;
}

/*
 * Write the new/ files of the frames in [from, to) of the segment at
 * fd, read back from it (the page cache: they were just written), and
 * stop after PUBLISH_CHUNK bytes of them.  The number of bytes gone
 * through; *missed set when a file could not be written (the segment
 * is then replayed before it goes).
 */
static uint64_t
publish_range(struct eh_journal *j, int fd, uint64_t from, uint64_t to,
    int broken, int *missed, struct eh_journal_report *rep)
{
	unsigned char head[EH__JFRAME_HEAD];
	char id[EH_ID_LEN + 1], *rec;
	uint64_t at = from;
	size_t len;
	ssize_t n;

	while (at < to && at - from < PUBLISH_CHUNK) {
		n = pread(fd, head, sizeof(head), (off_t)at);
		if (n != (ssize_t)sizeof(head) ||
		    eh__jframe_parse(head, id, &len) != 0 ||
		    at + sizeof(head) + len > to) {
			/* In a broken segment, the torn tail a failed write
			 * left (synced with the frames before it): the end.
			 * Elsewhere it cannot be: the keeper's replay reads
			 * the segment again before it goes. */
			if (!broken) {
				*missed = 1;
				rep->sys_op = "journal read";
			}
			return to - from;
		}
		rec = malloc(len > 0 ? len : 1);
		n = rec == NULL ? -1 : pread(fd, rec, len,
		    (off_t)(at + sizeof(head)));
		if (n != (ssize_t)len ||
		    eh__spool_file(&j->pub, j->pub.newfd, id, rec, len, 0) !=
		    EH_OK) {
			*missed = 1;
			rep->sys_errno = j->pub.sys_errno;
			rep->sys_op = j->pub.sys_op;
		} else
			rep->records++;
		free(rec);
		at += sizeof(head) + len;
	}
	return at - from;
}

enum eh_err
eh_journal_publish(struct eh_journal *j, int64_t wait_ms,
    struct eh_journal_report *rep)
{
	struct timespec until;
	struct seg *s;
	uint64_t from, to, done;
	int missed = 0, broken;

	memset(rep, 0, sizeof(*rep));
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)(wait_ms / 1000);
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&j->mu);
	while ((s = unpublished(j)) == NULL)
		if (wait_ms <= 0 || pthread_cond_timedwait(&j->work, &j->mu,
		    &until) != 0) {
			pthread_mutex_unlock(&j->mu);
			return EH_OK;
		}
	from = s->published;
	to = s->synced;
	/* Set before a torn write's bytes can be synced. */
	broken = s->broken;
	pthread_mutex_unlock(&j->mu);
	/* Only the publisher moves published, and a segment with records
	 * unpublished is not retired: s stays while the lock is let go. */
	done = publish_range(j, s->fd, from, to, broken, &missed, rep);
	pthread_mutex_lock(&j->mu);
	s->published = from + done;
	j->lag -= done < j->lag ? done : j->lag;
	if (missed)
		s->replay = 1;
	pthread_cond_broadcast(&j->room);
	pthread_mutex_unlock(&j->mu);
	return missed ? jfail(&j->pub, rep->sys_errno, rep->sys_op != NULL ?
	    rep->sys_op : "journal publish") : EH_OK;
}

enum eh_err
eh_journal_close(struct eh_journal *j, struct eh_journal_report *rep)
{
	struct eh_journal_report prep;
	struct seg *s;
	enum eh_err err;

	memset(rep, 0, sizeof(*rep));
	if (j == NULL)
		return EH_OK;
	/* The publisher has stopped: what it left is published here. */
	if (j->publisher)
		while (unpublished(j) != NULL)
			(void)eh_journal_publish(j, 0, &prep);
	err = retire(j, 0, 0, rep);
	/* What is left stays on disk, unlocked once closed: recovery's. */
	while (j->active != NULL || j->sealed != NULL) {
		if (j->active != NULL) {
			s = j->active;
			j->active = NULL;
		} else {
			s = j->sealed;
			j->sealed = s->next;
		}
		if (s->written == 0)
			(void)unlinkat(j->jfd, s->name, 0);
		seg_free(s);
	}
	pthread_cond_destroy(&j->room);
	pthread_cond_destroy(&j->work);
	pthread_cond_destroy(&j->synced);
	pthread_mutex_destroy(&j->mu);
	close(j->jfd);
	eh_spool_close(&j->pub);
	eh_spool_close(&j->sp);
	free(j);
	return err;
}
