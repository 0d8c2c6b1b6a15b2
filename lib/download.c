/*
 * The download action: a completed OneSpan package's signed documents
 * (GET /packages/{id}/documents/zip), and with ESIGNHOOK_DOWNLOAD_EVIDENCE
 * its evidence summary, into ESIGNHOOK_DOWNLOAD_DIR.
 *
 * The packageId comes from the network: it names the file only through
 * eh_download_name, whose output is one path component that is never
 * ".", "..", a dot-file or two packages' file, and the directory is
 * opened once and used through *at() calls.  Each file is written as
 * the spool writes events: a dot-name created O_EXCL, fsync, rename
 * over the final name (a re-download replaces it whole), fsync of the
 * directory.  Anything that goes wrong leaves nothing behind; what a
 * killed drainer leaves (its dot-file) the next download removes.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "esignhook.h"
#include "extern.h"

/* As OneSpan's SDKs send it; the API answers in that version's terms. */
#define ACCEPT "Accept: */*; esl-api-version=11.68.0"
/* A whole package can be large: a generous bound on one transfer. */
#define DOWNLOAD_TIMEOUT_MS (10 * 60 * 1000)
/* The end-of-central-directory record and the longest comment after it. */
#define EOCD_LEN 22
#define EOCD_SEARCH (EOCD_LEN + 65535)

/*
 * s with every byte but letters, digits and those of keep as %XX
 * (uppercase hex, RFC 3986 2.1); with nodot, a leading '.' too.
 * malloc'd, or NULL.
 */
static char *
pct_encode(const char *s, const char *keep, int nodot)
{
	static const char hexdig[] = "0123456789ABCDEF";
	size_t n = strlen(s), i, o = 0;
	unsigned char c;
	char *out;

	out = malloc(3 * n + 1);
	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr(keep, c) != NULL) &&
		    !(nodot && i == 0 && c == '.'))
			out[o++] = (char)c;
		else {
			out[o++] = '%';
			out[o++] = hexdig[c >> 4];
			out[o++] = hexdig[c & 0xf];
		}
	}
	out[o] = '\0';
	return out;
}

/* RFC 3986 2.3: everything but the unreserved characters as %XX. */
char *
eh_url_escape(const char *s)
{
	return pct_encode(s, "-._~", 0);
}

/*
 * '%' itself is escaped, so the encoding is one-to-one: two packageIds
 * never share a file.  '=' is kept because OneSpan's ids are base64
 * ("5n4obeO8jYoPp126Cm-Y3fxdfbo=") and should read as themselves; a
 * leading '.' is escaped so that no name is hidden, "." or "..".
 */
char *
eh_download_name(const char *package_id)
{
	if (*package_id == '\0')
		return NULL;
	return pct_encode(package_id, "-._~=", 1);
}

char *
eh_download_path(const struct eh_ctl_config *cfg, const char *package_id)
{
	const char *dir = cfg->download_dir;
	char *name, *out;
	size_t dn, n;

	if (dir == NULL)
		return NULL;
	name = eh_download_name(package_id);
	if (name == NULL || strlen(name) > EH_DOWNLOAD_NAME_MAX) {
		free(name);
		return NULL;
	}
	/* "/srv/dl/" and "/srv/dl" name the same files. */
	for (dn = strlen(dir); dn > 0 && dir[dn - 1] == '/'; dn--)
		continue;
	n = dn + 1 + strlen(name) + sizeof(".zip");
	out = malloc(n);
	if (out != NULL)
		snprintf(out, n, "%.*s/%s.zip", (int)dn, dir, name);
	free(name);
	return out;
}

/* One file to fetch: where from, what it must look like, where to. */
struct part {
	const char *what;       /* "documents/zip": path tail, for errors */
	const char *suffix;     /* ".zip" */
	int zip;                /* check a zip archive, else a PDF */
};

static const struct part zip_part = { "documents/zip", ".zip", 1 };
static const struct part pdf_part = {
	"evidence/summary", ".evidence.pdf", 0
};

static enum eh_result
fail(struct eh_job *job, enum eh_result r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum eh_result
fail(struct eh_job *job, enum eh_result r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(job->error, sizeof(job->error), fmt, ap);
	va_end(ap);
	return r;
}

/* Bytes free to an unprivileged writer on dirfd's file system. */
static int
free_bytes(int dirfd, unsigned long long *out)
{
	struct statvfs sv;

	if (fstatvfs(dirfd, &sv) != 0)
		return -1;
	*out = (unsigned long long)sv.f_bavail * sv.f_frsize;
	return 0;
}

static int
pread_all(int fd, unsigned char *buf, size_t len, off_t off)
{
	ssize_t r;

	while (len > 0) {
		r = pread(fd, buf, len, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		buf += r;
		len -= (size_t)r;
		off += r;
	}
	return 0;
}

static unsigned
le16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static unsigned long
le32(const unsigned char *p)
{
	return (unsigned long)p[0] | (unsigned long)p[1] << 8 |
	    (unsigned long)p[2] << 16 | (unsigned long)p[3] << 24;
}

/*
 * Whether the size-byte file ends in a zip end-of-central-directory
 * record whose comment runs exactly to the end (APPNOTE 4.3.16): what
 * a cut transfer lacks, whatever the HTTP layer made of it.  1 yes,
 * 0 no, -1 read error.
 */
static int
zip_complete(int fd, off_t size)
{
	unsigned char *buf;
	size_t n, i;
	off_t start;
	unsigned long cdsize, cdoff;
	int found = 0;

	if (size < EOCD_LEN)
		return 0;
	n = size < EOCD_SEARCH ? (size_t)size : EOCD_SEARCH;
	start = size - (off_t)n;
	buf = malloc(n);
	if (buf == NULL)
		return -1;
	if (pread_all(fd, buf, n, start) != 0) {
		free(buf);
		return -1;
	}
	for (i = n - EOCD_LEN + 1; i-- > 0;) {
		if (memcmp(buf + i, "PK\x05\x06", 4) != 0 ||
		    le16(buf + i + 20) != n - i - EOCD_LEN)
			continue;
		/* The central directory lies before the record (0xffffffff:
		 * Zip64, whose own record says where). */
		cdsize = le32(buf + i + 12);
		cdoff = le32(buf + i + 16);
		if (cdsize == 0xffffffffUL || cdoff == 0xffffffffUL ||
		    (unsigned long long)cdoff + cdsize <=
		    (unsigned long long)(start + (off_t)i)) {
			found = 1;
			break;
		}
	}
	free(buf);
	return found;
}

/* Why the file at fd is not what part promises, or NULL when it is. */
static const char *
check_body(int fd, const struct part *p, off_t size, int *ioerr)
{
	unsigned char sig[4];
	int c;

	*ioerr = 0;
	if (size < 4)
		return p->zip ? "not a zip archive" : "not a PDF";
	if (pread_all(fd, sig, sizeof(sig), 0) != 0) {
		*ioerr = 1;
		return "read back";
	}
	if (!p->zip)
		return memcmp(sig, "%PDF", 4) == 0 ? NULL : "not a PDF";
	/* APPNOTE 4.3.7 local file header; 4.3.16 for an empty archive. */
	if (memcmp(sig, "PK\x03\x04", 4) != 0 &&
	    memcmp(sig, "PK\x05\x06", 4) != 0)
		return "not a zip archive";
	c = zip_complete(fd, size);
	if (c < 0) {
		*ioerr = 1;
		return "read back";
	}
	return c ? NULL : "zip archive incomplete (transfer cut?)";
}

/*
 * A new dot-file in dirfd: ".<name>.<pid>.<5 hex>", at most
 * 1 + EH_DOWNLOAD_NAME_MAX + 1 + 7 + 1 + 5 = 255 bytes (pids stay
 * under 2^22).  Returns the descriptor (tmp holds the name), or -1.
 */
static int
make_temp(int dirfd, const char *name, char *tmp, size_t tmpsz)
{
	int fd, i, n;

	for (i = 0; i < 16; i++) {
		n = snprintf(tmp, tmpsz, ".%s.%ld.%05x", name, (long)getpid(),
		    (unsigned)randombytes_uniform(0x100000));
		if (n < 0 || (size_t)n >= tmpsz) {
			errno = ENAMETOOLONG;
			return -1;
		}
		/* Read and write: the body is checked once written. */
		fd = openat(dirfd, tmp,
		    O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

/*
 * How old a temporary must be to be a dead drainer's (killed in the
 * middle of a transfer): older than any transfer (DOWNLOAD_TIMEOUT_MS).
 */
#define STALE_SECONDS 3600

/* Whether s is a name make_temp makes: ".<name>.<digits>.<5 hex>". */
static int
temp_name(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 10 || s[0] != '.' || s[n - 6] != '.')
		return 0;
	for (i = n - 5; i < n; i++)
		if (strchr("0123456789abcdef", s[i]) == NULL)
			return 0;
	for (i = n - 7; i > 1 && s[i] >= '0' && s[i] <= '9'; i--)
		continue;
	return i < n - 7 && i > 1 && s[i] == '.';
}

/* Remove dirfd's temporaries of downloads that died before 'before'. */
static void
remove_stale(int dirfd, time_t before)
{
	DIR *d;
	struct dirent *de;
	struct stat st;

	d = eh__dir_open(dirfd);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (temp_name(de->d_name) &&
		    fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && st.st_mtime < before)
			(void)unlinkat(dirfd, de->d_name, 0);
	closedir(d);
}

/* Refused under ESIGNHOOK_SPOOL_MIN_FREE: the same floor as the spool's. */
#define LOW_SPACE "download: less free space than ESIGNHOOK_SPOOL_MIN_FREE " \
	"in ESIGNHOOK_DOWNLOAD_DIR"

/* Fetch one part of the package into dirfd/<name><suffix>. */
static enum eh_result
fetch(struct eh_job *job, int dirfd, const char *name, const char *esc_id,
    const struct part *p)
{
	const char *hdrs[] = { ACCEPT, NULL };
	char tmp[NAME_MAX + 1], final[NAME_MAX + 1], *path = NULL;
	struct eh_http_req req;
	struct eh_http_resp resp;
	struct stat st;
	unsigned long long min_free, before, after;
	const char *bad;
	enum eh_result r;
	size_t pn;
	int fd = -1, n, ioerr;

	min_free = job->rcfg != NULL ? job->rcfg->min_free : 0;
	resp.body = NULL;
	n = snprintf(final, sizeof(final), "%s%s", name, p->suffix);
	if (n < 0 || (size_t)n >= sizeof(final))
		return fail(job, EH_RES_PERM, "download: packageId too long");
	if (free_bytes(dirfd, &before) != 0)
		return fail(job, EH_RES_TEMP, "download: statvfs: %s",
		    eh_errno_str(errno));
	/* At the floor already: not one byte may be written (and a bound
	 * of 0 below would mean none at all). */
	if (before <= min_free)
		return fail(job, EH_RES_TEMP, LOW_SPACE);
	pn = strlen("/packages/") + strlen(esc_id) + 1 + strlen(p->what) + 1;
	path = malloc(pn);
	if (path == NULL)
		return fail(job, EH_RES_TEMP, "download: out of memory");
	snprintf(path, pn, "/packages/%s/%s", esc_id, p->what);

	fd = make_temp(dirfd, name, tmp, sizeof(tmp));
	if (fd < 0) {
		r = fail(job, EH_RES_TEMP, "download: create temporary file: %s",
		    eh_errno_str(errno));
		free(path);
		return r;
	}

	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.headers = hdrs;
	req.timeout_ms = DOWNLOAD_TIMEOUT_MS;
	req.out_fd = fd;
	/* The transfer stops where the floor would be crossed, not after. */
	req.max_body = (size_t)(before - min_free);
	if (eh_onespan_call(job->onespan, path, &req, &resp) != 0) {
		if (resp.too_large)
			r = fail(job, EH_RES_TEMP, LOW_SPACE);
		else
			r = fail(job, EH_RES_TEMP, "download: %s: %s", p->what,
			    resp.error);
		goto out;
	}
	if (resp.status < 200 || resp.status > 299) {
		/* Wrong credentials, no access, no such package: asking
		 * again will not change the answer. */
		if (resp.status == 401 || resp.status == 403 ||
		    resp.status == 404)
			r = EH_RES_PERM;
		else
			r = eh_http_classify(resp.status);
		if (r == EH_RES_OK)
			r = EH_RES_TEMP;
		if (resp.retry_after_s > 0)
			job->retry_after_ms = (int64_t)resp.retry_after_s * 1000;
		fail(job, r, "download: %s: HTTP %ld%s%s%s", p->what,
		    resp.status, resp.error[0] != '\0' ? " (" : "",
		    resp.error, resp.error[0] != '\0' ? ")" : "");
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		r = fail(job, EH_RES_TEMP, "download: fstat: %s",
		    eh_errno_str(errno));
		goto out;
	}
	bad = check_body(fd, p, st.st_size, &ioerr);
	if (bad != NULL) {
		if (ioerr)
			r = fail(job, EH_RES_TEMP, "download: %s: %s: %s",
			    p->what, bad, eh_errno_str(errno));
		else
			r = fail(job, EH_RES_TEMP, "download: %s: %s", p->what,
			    bad);
		goto out;
	}
	/*
	 * The file is written by now, so check both: what was free before,
	 * less what we wrote (the bound on the transfer kept that), and
	 * what is free now (others write too).
	 */
	if (free_bytes(dirfd, &after) != 0) {
		r = fail(job, EH_RES_TEMP, "download: statvfs: %s",
		    eh_errno_str(errno));
		goto out;
	}
	if (before < (unsigned long long)st.st_size ||
	    before - (unsigned long long)st.st_size < min_free ||
	    after < min_free) {
		r = fail(job, EH_RES_TEMP, LOW_SPACE);
		goto out;
	}
	if (fsync(fd) != 0) {
		r = fail(job, EH_RES_TEMP, "download: fsync: %s",
		    eh_errno_str(errno));
		goto out;
	}
	n = close(fd);
	fd = -1;
	if (n != 0) {
		r = fail(job, EH_RES_TEMP, "download: close: %s",
		    eh_errno_str(errno));
		goto out;
	}
	if (renameat(dirfd, tmp, dirfd, final) != 0) {
		r = fail(job, EH_RES_TEMP, "download: rename: %s",
		    eh_errno_str(errno));
		goto out;
	}
	tmp[0] = '\0';
	if (fsync(dirfd) != 0) {
		r = fail(job, EH_RES_TEMP, "download: fsync directory: %s",
		    eh_errno_str(errno));
		goto out;
	}
	r = EH_RES_OK;
out:
	if (fd >= 0)
		close(fd);
	if (tmp[0] != '\0')
		(void)unlinkat(dirfd, tmp, 0);
	eh_http_resp_free(&resp);
	free(path);
	return r;
}

/* The download directory, created 0700 if missing (not its parents). */
static int
open_dir(const char *path)
{
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return -1;
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

enum eh_result
eh_download_run(struct eh_job *job)
{
	const struct eh_ctl_config *cfg = job->cfg;
	const struct eh_record *rec = job->rec;
	char *name = NULL, *esc = NULL;
	enum eh_result r;
	int dirfd = -1;

	if (cfg->download_dir == NULL)
		return fail(job, EH_RES_PERM,
		    "download: ESIGNHOOK_DOWNLOAD_DIR is not set");
	if (rec->provider == NULL || strcmp(rec->provider, "onespan") != 0)
		return fail(job, EH_RES_PERM,
		    "download: not a OneSpan event (only OneSpan packages "
		    "can be downloaded)");
	if (rec->transaction_id == NULL || rec->transaction_id[0] == '\0')
		return fail(job, EH_RES_PERM,
		    "download: the event has no packageId");
	/*
	 * "." and ".." are unreserved, so they go into the URL as they are,
	 * and a URL path's dot segments are removed (RFC 3986 5.2.4; libcurl
	 * does it): the request would go to another endpoint.
	 */
	if (strcmp(rec->transaction_id, ".") == 0 ||
	    strcmp(rec->transaction_id, "..") == 0)
		return fail(job, EH_RES_PERM,
		    "download: packageId is \".\" or \"..\", not a package");
	if (cfg->onespan_api_key == NULL && (cfg->onespan_client_id == NULL ||
	    cfg->onespan_client_secret == NULL))
		return fail(job, EH_RES_PERM, "download: no OneSpan credentials "
		    "(ESIGNHOOK_ONESPAN_API_KEY or _CLIENT_ID/_CLIENT_SECRET)");
	if (job->onespan == NULL)
		return fail(job, EH_RES_PERM,
		    "download: no OneSpan API client (internal error)");
	name = eh_download_name(rec->transaction_id);
	esc = eh_url_escape(rec->transaction_id);
	if (name == NULL || esc == NULL) {
		r = fail(job, EH_RES_TEMP, "download: out of memory");
		goto out;
	}
	if (strlen(name) > EH_DOWNLOAD_NAME_MAX) {
		r = fail(job, EH_RES_PERM, "download: packageId too long");
		goto out;
	}
	dirfd = open_dir(cfg->download_dir);
	if (dirfd < 0) {
		r = fail(job, EH_RES_TEMP,
		    "download: open ESIGNHOOK_DOWNLOAD_DIR: %s",
		    eh_errno_str(errno));
		goto out;
	}
	/* Nothing else removes what a killed drainer left. */
	remove_stale(dirfd, (time_t)(eh_now_ms() / 1000) - STALE_SECONDS);
	r = fetch(job, dirfd, name, esc, &zip_part);
	if (r == EH_RES_OK && cfg->download_evidence)
		r = fetch(job, dirfd, name, esc, &pdf_part);
out:
	if (dirfd >= 0)
		close(dirfd);
	free(name);
	free(esc);
	return r;
}
