/*
 * The CGI durability baseline: a C program that reads its body and
 * stores it as esignhook does (tmp/ file, write, fsync, close, rename
 * into new/, fsync new/) before a fixed 200: what a classic CGI must pay
 * for durability on this machine, whatever its language.
 * Spool: $CEILING_SPOOL (tmp/ and new/ must exist).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int
main(void)
{
	static const char r[] = "Status: 200 OK\r\nContent-Type: text/plain\r\n"
	    "Content-Length: 2\r\n\r\nOK";
	const char *dir = getenv("CEILING_SPOOL");
	char body[65536], tmp[4096], fin[4096];
	ssize_t n;
	size_t len = 0;
	int fd, dfd;

	while (len < sizeof(body) &&
	    (n = read(0, body + len, sizeof(body) - len)) > 0)
		len += (size_t)n;
	if (dir == NULL)
		return 1;
	snprintf(tmp, sizeof(tmp), "%s/tmp/%ld", dir, (long)getpid());
	snprintf(fin, sizeof(fin), "%s/new/%ld-%ld", dir, (long)getpid(),
	    (long)time(NULL));
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, body, len) != (ssize_t)len || fsync(fd) != 0 ||
	    close(fd) != 0 || rename(tmp, fin) != 0)
		return 1;
	snprintf(tmp, sizeof(tmp), "%s/new", dir);
	dfd = open(tmp, O_RDONLY | O_DIRECTORY);
	if (dfd < 0 || fsync(dfd) != 0)
		return 1;
	return write(1, r, sizeof(r) - 1) == (ssize_t)sizeof(r) - 1 ? 0 : 1;
}
