/* The CGI baseline: a C program that prints a fixed reply and exits. */
#include <unistd.h>

int
main(void)
{
	static const char r[] = "Status: 200 OK\r\nContent-Type: text/plain\r\n"
	    "Content-Length: 2\r\n\r\nOK";

	return write(1, r, sizeof(r) - 1) == (ssize_t)sizeof(r) - 1 ? 0 : 1;
}
