/*
 * Small helpers with no module of their own: locale-free string
 * comparison and copying, wiping, directory reading, shared by the lib/
 * files (extern.h); and the public ones cgi/ uses too (esignhook.h):
 * writing and reading whole buffers, replacing a small file atomically,
 * the clocks, comma-separated lists.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "esignhook.h"
#include "extern.h"

int
eh__strncaseeq(const char *a, const char *b, size_t n)
{
	size_t i;
	unsigned char ca, cb;

	for (i = 0; i < n; i++) {
		ca = (unsigned char)a[i];
		cb = (unsigned char)b[i];
		if (ca >= 'A' && ca <= 'Z')
			ca += 'a' - 'A';
		if (cb >= 'A' && cb <= 'Z')
			cb += 'a' - 'A';
		if (ca != cb)
			return 0;
		if (ca == '\0')
			return 1;
	}
	return 1;
}

/* Media types compare case-insensitively; parameters are allowed
 * (RFC 9110 8.3.1). */
int
eh__media_type_is(const char *ct, const char *want)
{
	size_t n = strlen(want);

	if (ct == NULL)
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (!eh__strncaseeq(ct, want, n))
		return 0;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' ||
	    ct[n] == '\t';
}

static int
blank(char c, int cr)
{
	return c == ' ' || c == '\t' || (cr && c == '\r');
}

void
eh__trim(const char **s, const char **e, int cr)
{
	while (*s < *e && blank(**s, cr))
		(*s)++;
	while (*e > *s && blank((*e)[-1], cr))
		(*e)--;
}

char *
eh__strndup(const char *s, size_t n)
{
	char *p;

	p = malloc(n + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int
eh_write_all(int fd, const char *buf, size_t len)
{
	ssize_t w;

	while (len > 0) {
		w = write(fd, buf, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* strerror(3) is not thread-safe; glibc's descriptions are constants. */
const char *
eh_errno_str(int e)
{
	const char *s = strerrordesc_np(e);

	return s != NULL ? s : "unknown error";
}

void
eh__wipe_free(char **s)
{
	if (*s != NULL)
		sodium_memzero(*s, strlen(*s));
	free(*s);
	*s = NULL;
}

int
eh__printable(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

DIR *
eh__dir_open(int dirfd)
{
	DIR *d;
	int fd, e;

	/* A descriptor of its own: closedir closes it, not dirfd. */
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (d == NULL) {
		e = errno;
		close(fd);
		errno = e;
	}
	return d;
}

/* First allocation of eh_read_fd; it doubles from there. */
#define READ_FIRST 4096

/* Forget p[0..n) and free it: a buffer may hold a configuration's secrets. */
static void
wipe_buf(char *p, size_t n)
{
	if (p != NULL)
		sodium_memzero(p, n);
	free(p);
}

int
eh_read_fd(int fd, size_t max, char **buf, size_t *len)
{
	char *p = NULL, *np;
	size_t got = 0, cap = 0, ncap;
	ssize_t n;
	int e;

	*buf = NULL;
	*len = 0;
	/* max + 1 below must not wrap; nothing that large is read anyway. */
	if (max > SIZE_MAX / 4)
		max = SIZE_MAX / 4;
	for (;;) {
		if (got == cap) {
			/* Room for one byte past max: how a read finds it
			 * too long.  Grown by hand, not realloc(3), so that
			 * no copy is left unwiped in the heap. */
			ncap = cap == 0 ? READ_FIRST : cap * 2;
			if (ncap > max + 1)
				ncap = max + 1;
			np = malloc(ncap + 1);
			if (np == NULL) {
				e = ENOMEM;
				goto fail;
			}
			if (got > 0)
				memcpy(np, p, got);
			wipe_buf(p, got);
			p = np;
			cap = ncap;
		}
		n = read(fd, p + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > max) {
			e = EFBIG;
			goto fail;
		}
	}
	p[got] = '\0';
	*buf = p;
	*len = got;
	return 0;
fail:
	wipe_buf(p, got);
	errno = e;
	return -1;
}

int
eh__read_file(int dirfd, const char *path, int flags, size_t max,
    char **buf, size_t *len)
{
	int fd, rc, e;

	*buf = NULL;
	*len = 0;
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | flags);
	if (fd < 0)
		return -1;
	rc = eh_read_fd(fd, max, buf, len);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

int
eh_write_atomic(int dirfd, const char *name, const char *buf, size_t len,
    mode_t mode, enum eh_wstep *step)
{
	enum eh_wstep st = EH_WSTEP_CREATE;
	char tmp[NAME_MAX + 1];
	int fd, n, e;

	/* The pid last: the temporary never ends in name's suffix (node
	 * exporter's textfile collector reads *.prom only), and two
	 * processes never share one. */
	n = snprintf(tmp, sizeof(tmp), ".%s.%ld", name, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		e = ENAMETOOLONG;
		goto fail;
	}
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd < 0) {
		e = errno;
		goto fail;
	}
	st = EH_WSTEP_CHMOD;
	if (fchmod(fd, mode) != 0)
		goto bad;
	st = EH_WSTEP_WRITE;
	if (eh_write_all(fd, buf, len) != 0)
		goto bad;
	st = EH_WSTEP_FSYNC;
	if (fsync(fd) != 0)
		goto bad;
	st = EH_WSTEP_CLOSE;
	n = close(fd);
	fd = -1;
	if (n != 0)
		goto bad;
	st = EH_WSTEP_RENAME;
	if (renameat(dirfd, tmp, dirfd, name) != 0)
		goto bad;
	return 0;
bad:
	e = errno;
	if (fd >= 0)
		close(fd);
	(void)unlinkat(dirfd, tmp, 0);
fail:
	if (step != NULL)
		*step = st;
	errno = e;
	return -1;
}

static int64_t
clock_ms(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
eh_now_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

int64_t
eh_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

int
eh_list_next(const char **cursor, const char **item, size_t *len)
{
	const char *p = *cursor, *e, *comma;

	if (p == NULL)
		return 0;
	comma = strchr(p, ',');
	*cursor = comma != NULL ? comma + 1 : NULL;
	e = comma != NULL ? comma : p + strlen(p);
	eh__trim(&p, &e, 0);
	*item = p;
	*len = (size_t)(e - p);
	return 1;
}
