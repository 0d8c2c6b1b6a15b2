/*
 * Small helpers with no module of their own: locale-free string
 * comparison and copying, shared by the lib/ files (extern.h), and
 * eh_write_all, which cgi/ uses too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
