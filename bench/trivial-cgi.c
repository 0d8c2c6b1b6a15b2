/*
 * The CGI baseline: a C program that reads its request body, as every
 * CGI receiving a POST must (Apache's mod_cgid drops the reply of one
 * that exits with its stdin unread), and prints a fixed reply.
 */
#include <unistd.h>

int
main(void)
{
	static const char r[] = "Status: 200 OK\r\nContent-Type: text/plain\r\n"
	    "Content-Length: 2\r\n\r\nOK";
	char buf[8192];

	while (read(0, buf, sizeof(buf)) > 0)
		continue;
	return write(1, r, sizeof(r) - 1) == (ssize_t)sizeof(r) - 1 ? 0 : 1;
}
