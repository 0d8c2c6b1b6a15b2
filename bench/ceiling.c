/*
 * The durability ceiling: a minimal libfcgi responder that stores each
 * request body the way esignhook does (tmp/ file, write, fsync, close,
 * rename into new/, fsync new/) and answers 200, with no parsing, no
 * authentication, no configuration.  What esignhook is measured against
 * in make bench: the cost of the journal commit on this machine.
 * Threads: $CEILING_THREADS (default 8), accepting on fd 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fcgiapp.h>

static int tmpfd, newfd;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long counter;

static void
store(const char *body, size_t len)
{
	char name[64];
	unsigned long n;
	int fd;

	pthread_mutex_lock(&lock);
	n = counter++;
	pthread_mutex_unlock(&lock);
	snprintf(name, sizeof(name), "%ld-%lu", (long)getpid(), n);
	if ((fd = openat(tmpfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) < 0)
		abort();
	if (write(fd, body, len) != (ssize_t)len || fsync(fd) != 0 ||
	    close(fd) != 0 || renameat(tmpfd, name, newfd, name) != 0 ||
	    fsync(newfd) != 0)
		abort();
}

static void *
serve(void *arg)
{
	FCGX_Request r;
	char body[65536];
	const char *cl;
	int n;

	(void)arg;
	FCGX_InitRequest(&r, 0, 0);
	for (;;) {
		static pthread_mutex_t acc = PTHREAD_MUTEX_INITIALIZER;

		pthread_mutex_lock(&acc);
		n = FCGX_Accept_r(&r);
		pthread_mutex_unlock(&acc);
		if (n < 0)
			break;
		cl = FCGX_GetParam("CONTENT_LENGTH", r.envp);
		n = cl ? (int)strtol(cl, NULL, 10) : 0;
		if (n < 0 || n > (int)sizeof(body))
			n = 0;
		n = FCGX_GetStr(body, n, r.in);
		store(body, (size_t)n);
		FCGX_PutS("Status: 200 OK\r\nContent-Type: application/json\r\n"
		    "Content-Length: 16\r\n\r\n{\"success\":true}", r.out);
		FCGX_Finish_r(&r);
	}
	return NULL;
}

int
main(void)
{
	const char *dir = getenv("CEILING_SPOOL"), *t = getenv("CEILING_THREADS");
	char path[4096];
	pthread_t tid[256];
	int i, nt = t ? atoi(t) : 8;

	if (dir == NULL || nt < 1 || nt > 256)
		return 2;
	snprintf(path, sizeof(path), "%s/tmp", dir);
	mkdir(dir, 0700);
	mkdir(path, 0700);
	tmpfd = open(path, O_RDONLY | O_DIRECTORY);
	snprintf(path, sizeof(path), "%s/new", dir);
	mkdir(path, 0700);
	newfd = open(path, O_RDONLY | O_DIRECTORY);
	if (tmpfd < 0 || newfd < 0 || FCGX_Init() != 0)
		return 1;
	for (i = 0; i < nt; i++)
		pthread_create(&tid[i], NULL, serve, NULL);
	for (i = 0; i < nt; i++)
		pthread_join(tid[i], NULL);
	return 0;
}
