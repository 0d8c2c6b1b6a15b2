/*
 * sandbox-probe.c: an LD_PRELOAD library that tries, from inside the
 * real cgi/esignhook once its sandbox is in force, what an exploit of
 * a parser bug would try, and writes what happened.  Used by
 * tests/fcgi_lifecycle.py, which builds it with
 *   cc -shared -fPIC -O2 -o sandbox-probe.so tests/sandbox-probe.c -ldl
 *
 * When: a FastCGI worker, at its first FCGX_Accept_r (a connection has
 * come; the sandbox went in before the threads); a CGI, at its lookup
 * of REQUEST_METHOD (request_from, right after the sandbox).
 *
 * Environment (read at load, before the sandbox):
 *   PROBE_OUT=PATH       where the lines go (opened at load), required
 *   PROBE_PATH=PATH      a listening pathname UNIX stream socket
 *   PROBE_ABSTRACT=NAME  a listening abstract UNIX stream socket
 *   PROBE_DGRAM=PATH     a bound pathname UNIX datagram socket
 *   PROBE_TCP=PORT       a listening TCP port on 127.0.0.1
 *   PROBE_PID=PID        a process to send signal 0
 *   PROBE_NO_SECCOMP=1   seccomp_load() fails with EPERM, as under a
 *                        service manager's filter that forbids it (the
 *                        Landlock layer is then alone)
 *
 * Lines, one each, "NAME RESULT" where RESULT is "ok" or the errno name:
 *   socket          socket(AF_UNIX, SOCK_STREAM): a new socket
 *   connect-path    connect() of a socket made at load to PROBE_PATH
 *   connect-abstract  ... to PROBE_ABSTRACT
 *   connect-tcp     connect() of a TCP socket made at load to PROBE_TCP
 *   sendto-path     sendto() with PROBE_DGRAM's address, from a
 *                   datagram socket made at load (syslog's is one)
 *   kill            kill(PROBE_PID, 0)
 *   dumpable N      prctl(PR_GET_DUMPABLE): 0 or 1
 *   set-dumpable    prctl(PR_SET_DUMPABLE, 1)
 *   core N          RLIMIT_CORE's soft limit ("inf" for none), or the
 *                   errno name of getrlimit's failure
 *   done
 */
#define _GNU_SOURCE
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int out = -1, s_path = -1, s_abs = -1, s_tcp = -1, s_dgram = -1;
static int probed;

static void __attribute__((constructor))
probe_init(void)
{
	const char *p = getenv("PROBE_OUT");

	if (p == NULL)
		return;
	out = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	s_path = socket(AF_UNIX, SOCK_STREAM, 0);
	s_abs = socket(AF_UNIX, SOCK_STREAM, 0);
	s_tcp = socket(AF_INET, SOCK_STREAM, 0);
	s_dgram = socket(AF_UNIX, SOCK_DGRAM, 0);
}

static void
line(const char *name, int rc, int e)
{
	char buf[128];
	int n;

	n = snprintf(buf, sizeof(buf), "%s %s\n", name, rc >= 0 ? "ok" :
	    strerrorname_np(e) != NULL ? strerrorname_np(e) : "?");
	if (n > 0)
		(void)write(out, buf, (size_t)n);
}

static void
try_connect(const char *name, int fd, const struct sockaddr *sa,
    socklen_t len)
{
	int rc;

	errno = 0;
	rc = connect(fd, sa, len);
	line(name, rc, errno);
}

static void
probe(void)
{
	struct sockaddr_un un;
	struct sockaddr_in in;
	struct rlimit rl;
	const char *v;
	char buf[64];
	int rc, n;

	if (out < 0 || probed)
		return;
	probed = 1;
	errno = 0;
	rc = socket(AF_UNIX, SOCK_STREAM, 0);
	line("socket", rc, errno);
	if (rc >= 0)
		close(rc);
	if ((v = getenv("PROBE_PATH")) != NULL) {
		memset(&un, 0, sizeof(un));
		un.sun_family = AF_UNIX;
		snprintf(un.sun_path, sizeof(un.sun_path), "%s", v);
		try_connect("connect-path", s_path, (struct sockaddr *)&un,
		    sizeof(un));
	}
	if ((v = getenv("PROBE_DGRAM")) != NULL) {
		memset(&un, 0, sizeof(un));
		un.sun_family = AF_UNIX;
		snprintf(un.sun_path, sizeof(un.sun_path), "%s", v);
		errno = 0;
		rc = (int)sendto(s_dgram, "x", 1, 0, (struct sockaddr *)&un,
		    sizeof(un));
		line("sendto-path", rc, errno);
	}
	if ((v = getenv("PROBE_ABSTRACT")) != NULL) {
		memset(&un, 0, sizeof(un));
		un.sun_family = AF_UNIX;
		snprintf(un.sun_path + 1, sizeof(un.sun_path) - 1, "%s", v);
		try_connect("connect-abstract", s_abs, (struct sockaddr *)&un,
		    (socklen_t)(sizeof(un.sun_family) + 1 + strlen(v)));
	}
	if ((v = getenv("PROBE_TCP")) != NULL) {
		memset(&in, 0, sizeof(in));
		in.sin_family = AF_INET;
		in.sin_port = htons((unsigned short)strtoul(v, NULL, 10));
		in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		try_connect("connect-tcp", s_tcp, (struct sockaddr *)&in,
		    sizeof(in));
	}
	if ((v = getenv("PROBE_PID")) != NULL) {
		errno = 0;
		rc = kill((pid_t)strtol(v, NULL, 10), 0);
		line("kill", rc, errno);
	}
	n = snprintf(buf, sizeof(buf), "dumpable %d\n",
	    prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	(void)write(out, buf, (size_t)n);
	errno = 0;
	rc = prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	line("set-dumpable", rc, errno);
	errno = 0;
	if (getrlimit(RLIMIT_CORE, &rl) != 0)
		line("core", -1, errno);
	else {
		if (rl.rlim_cur == RLIM_INFINITY)
			n = snprintf(buf, sizeof(buf), "core inf\n");
		else
			n = snprintf(buf, sizeof(buf), "core %llu\n",
			    (unsigned long long)rl.rlim_cur);
		(void)write(out, buf, (size_t)n);
	}
	(void)write(out, "done\n", 5);
}

int
FCGX_Accept_r(void *req)
{
	static int (*real)(void *);

	if (real == NULL)
		real = (int (*)(void *))dlsym(RTLD_NEXT, "FCGX_Accept_r");
	probe();
	return real(req);
}

char *
getenv(const char *name)
{
	static char *(*real)(const char *);

	if (real == NULL)
		real = (char *(*)(const char *))dlsym(RTLD_NEXT, "getenv");
	if (!probed && out >= 0 && strcmp(name, "REQUEST_METHOD") == 0)
		probe();
	return real(name);
}

int
seccomp_load(void *ctx)
{
	static int (*real)(void *);
	const char *no = secure_getenv("PROBE_NO_SECCOMP");

	if (no != NULL && strcmp(no, "1") == 0)
		return -EPERM;
	if (real == NULL)
		real = (int (*)(void *))dlsym(RTLD_NEXT, "seccomp_load");
	return real(ctx);
}
