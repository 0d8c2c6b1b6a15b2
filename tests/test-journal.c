/* lib/journal.c: frames, group commit through eh_spool_put, recovery. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
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
	{ NULL, NULL }
};
