/*
 * The exec action: ESIGNHOOK_EXEC run by /bin/sh -c in a process group
 * of its own, the record's exact bytes on its stdin, an environment
 * built from nothing, and a deadline after which the whole group is
 * killed.  The exit status follows qmail's convention: 0 done, 100
 * permanent failure, anything else (a signal, the timeout) temporary.
 *
 * The command line is the operator's configuration; event data only
 * ever reaches the child through stdin and the ESIGNHOOK_* variables.
 * The child's stdout goes to /dev/null, so nothing it prints can mix
 * into the tool's own output; the first line of its stderr becomes the
 * job's error.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "esignhook.h"

#define EXEC_SHELL "/bin/sh"
/* What the watchdog hears when its drainer dies (PR_SET_PDEATHSIG). */
#define WATCHDOG_SIGNAL SIGUSR2
/* The watchdog's end of the status pipe (close-on-exec). */
#define STATUS_FD 3
#define EXEC_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"
/* qmail's "permanent failure" exit status. */
#define EXEC_EXIT_PERM 100
/* What the child's stderr may contribute to the error: one line. */
#define EXEC_LINE_MAX 200
/* ESIGNHOOK_* (6) + PATH, HOME, LANG. */
#define EXEC_ENV_MAX 9
/* Without a pidfd, how often to look whether the child has exited. */
#define EXEC_POLL_SLICE_MS 10
/* After the child exits, how much more of its stderr to read at most
 * (a grandchild may hold the pipe open and keep writing). */
#define EXEC_DRAIN_MAX (64 * 1024)

/* The variables a child may take from the tool's environment. */
static const char *const exec_pass[] = { "PATH", "HOME", "LANG" };

struct run {
	pid_t pid;
	int in;                      /* write end of the child's stdin */
	int err;                     /* read end of the child's stderr */
	int pidfd;                   /* readable once the child exits, or -1 */
	const char *rec;
	size_t rec_len, rec_off;
	char line[EXEC_LINE_MAX];    /* the first line of stderr so far */
	size_t line_len;
	int line_done;               /* newline seen or line full */
	int status;                  /* from waitpid */
	int reaped;
	int lost;                    /* reaped, but the status is unknown */
};

static void
closefd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int
env_add(char **env, size_t *n, const char *name, const char *value)
{
	size_t len;
	char *s;

	len = strlen(name) + 1 + strlen(value) + 1;
	s = malloc(len);
	if (s == NULL)
		return -1;
	snprintf(s, len, "%s=%s", name, value);
	env[(*n)++] = s;
	return 0;
}

/* The value of name in a NULL-terminated "NAME=value" array, or NULL. */
static const char *
base_lookup(const char *const *base, const char *name)
{
	size_t nl, i;

	if (base == NULL)
		return NULL;
	nl = strlen(name);
	for (i = 0; base[i] != NULL; i++)
		if (strncmp(base[i], name, nl) == 0 && base[i][nl] == '=')
			return base[i] + nl + 1;
	return NULL;
}

void
eh_exec_env_free(char **env)
{
	size_t i;

	if (env == NULL)
		return;
	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

/*
 * Built from scratch, never inherited: whatever secret the tool's own
 * environment holds (a forward secret, an API key) cannot reach the
 * child, because nothing but these names is ever copied.
 */
char **
eh_exec_env(const struct eh_job *job)
{
	const struct eh_record *rec = job->rec;
	struct {
		const char *name, *value;
	} ev[EXEC_ENV_MAX];
	char attempt[24];
	char **env;
	const char *v;
	size_t n = 0, i, k = 0;

	if (rec != NULL) {
		ev[k].name = "ESIGNHOOK_EVENT_ID";
		ev[k++].value = rec->id;
		ev[k].name = "ESIGNHOOK_EVENT";
		ev[k++].value = rec->event;
		ev[k].name = "ESIGNHOOK_PROVIDER";
		ev[k++].value = rec->provider;
		ev[k].name = "ESIGNHOOK_TRANSACTION_ID";
		ev[k++].value = rec->transaction_id;
	}
	snprintf(attempt, sizeof(attempt), "%u", job->attempt);
	ev[k].name = "ESIGNHOOK_ATTEMPT";
	ev[k++].value = attempt;
	ev[k].name = "ESIGNHOOK_DOWNLOAD_PATH";
	ev[k++].value = job->download_path;
	for (i = 0; i < sizeof(exec_pass) / sizeof(exec_pass[0]); i++) {
		v = base_lookup(job->base_env, exec_pass[i]);
		if (v == NULL && i == 0)
			v = EXEC_DEFAULT_PATH;
		ev[k].name = exec_pass[i];
		ev[k++].value = v;
	}

	env = calloc(k + 1, sizeof(*env));
	if (env == NULL)
		return NULL;
	for (i = 0; i < k; i++) {
		if (ev[i].value == NULL)
			continue;
		if (env_add(env, &n, ev[i].name, ev[i].value) == -1) {
			eh_exec_env_free(env);
			return NULL;
		}
	}
	return env;
}

/* Move fd above the standard descriptors, so that the child's dup2
 * onto 0, 1 and 2 can never overwrite one it still needs. */
static int
above_stdio(int fd)
{
	int nfd;

	if (fd < 0 || fd > STDERR_FILENO)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
	close(fd);
	return nfd;
}

static int
set_nonblock(int fd)
{
	int fl;

	fl = fcntl(fd, F_GETFL);
	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	return 0;
}

/* The watchdog's, when its drainer has died: the job goes with it. */
static void
orphaned(int sig)
{
	(void)sig;
	(void)kill(0, SIGKILL);     /* its process group: the whole job */
	_exit(127);
}

/*
 * The child, after fork: async-signal-safe calls only.  Signal
 * dispositions and the mask are reset (the drainer ignores SIGPIPE and
 * blocks SIGTERM/SIGINT; execve keeps both), every descriptor but 0-2
 * closed, and the child leads its own process group so that the
 * timeout can kill everything it started.  It stays as a watchdog
 * between the drainer and the command: a drainer killed with kill -9
 * cannot kill the group, so PR_SET_PDEATHSIG tells the watchdog, which
 * does; the next drainer's attempt never runs beside a leftover.  It
 * passes the command's exit status (or signal) on as its own.
 */
static void __attribute__((noreturn))
child(int in, int out, int err, int st, pid_t parent, char *const argv[],
    char *const envp[], int maxfd, const struct sigaction *dfl)
{
	static const char msg[] = "exec: cannot run " EXEC_SHELL "\n";
	struct sigaction sa;
	sigset_t none;
	pid_t pid;
	int s, fd, status;

	(void)setpgid(0, 0);
	for (s = 1; s < NSIG; s++)
		(void)sigaction(s, dfl, NULL); /* SIGKILL etc. fail: fine */
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(in, STDIN_FILENO) == -1 || dup2(out, STDOUT_FILENO) == -1 ||
	    dup2(err, STDERR_FILENO) == -1 || dup2(st, STATUS_FD) == -1 ||
	    fcntl(STATUS_FD, F_SETFD, FD_CLOEXEC) == -1)
		_exit(127);
	if (close_range(STATUS_FD + 1, ~0U, 0) == -1)
		for (fd = STATUS_FD + 1; fd < maxfd; fd++)
			(void)close(fd);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = orphaned;
	if (sigaction(WATCHDOG_SIGNAL, &sa, NULL) == -1 ||
	    prctl(PR_SET_PDEATHSIG, WATCHDOG_SIGNAL) == -1)
		_exit(127);
	if (getppid() != parent)
		orphaned(0);
	pid = fork();
	if (pid == -1)
		_exit(127);
	if (pid == 0) {
		(void)sigaction(WATCHDOG_SIGNAL, dfl, NULL);
		execve(EXEC_SHELL, argv, envp);
		if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
			_exit(127); /* nobody to tell */
		_exit(127);
	}
	/* The watchdog holds none of the command's pipes open. */
	(void)close(STDIN_FILENO);
	(void)close(STDOUT_FILENO);
	(void)close(STDERR_FILENO);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			_exit(127);
	/* The command's status goes up the status pipe; the watchdog then
	 * ends as abruptly as it can (nothing of the drainer's copy of
	 * memory to tidy: valgrind would call it leaked). */
	(void)!write(STATUS_FD, &status, sizeof(status));
	(void)kill(getpid(), SIGKILL);
	_exit(127);
}

/* Keep the start of stderr's first line; discard the rest. */
static void
take_stderr(struct run *r, const char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n && !r->line_done; i++) {
		if (buf[i] == '\n' || r->line_len == sizeof(r->line)) {
			r->line_done = 1;
			break;
		}
		r->line[r->line_len++] = buf[i];
	}
}

/* Read what stderr has now.  0: more may come; -1: closed. */
static int
read_stderr(struct run *r)
{
	char buf[4096];
	ssize_t n;

	n = read(r->err, buf, sizeof(buf));
	if (n > 0) {
		take_stderr(r, buf, (size_t)n);
		return 0;
	}
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return 0;
	closefd(&r->err);
	return -1;
}

/*
 * Write what the child's stdin takes now.  0: more to write or done
 * (r->in closed); -1: a write error other than the child not reading.
 */
static int
write_stdin(struct run *r)
{
	ssize_t n;
	int e;

	if (r->rec_off == r->rec_len) {
		closefd(&r->in);
		return 0;
	}
	n = write(r->in, r->rec + r->rec_off, r->rec_len - r->rec_off);
	if (n >= 0) {
		r->rec_off += (size_t)n;
		if (r->rec_off == r->rec_len)
			closefd(&r->in); /* EOF for the child */
		return 0;
	}
	if (errno == EINTR || errno == EAGAIN)
		return 0;
	/* EPIPE: the child closed its stdin or exited; not an error. */
	e = errno;
	closefd(&r->in);
	errno = e;
	return e == EPIPE ? 0 : -1;
}

/* Whether the child has exited (and reap it if so). */
static int
exited(struct run *r)
{
	pid_t p;

	if (r->reaped)
		return 1;
	do
		p = waitpid(r->pid, &r->status, WNOHANG);
	while (p == -1 && errno == EINTR);
	if (p == r->pid)
		r->reaped = 1;
	else if (p == -1) {
		/* ECHILD: SIGCHLD ignored, the kernel reaped it for us. */
		r->reaped = r->lost = 1;
	}
	return r->reaped;
}

/* Kill the child's whole group and wait for the child itself. */
static void
kill_reap(struct run *r)
{
	pid_t p;

	if (r->reaped)
		return;
	(void)kill(-r->pid, SIGKILL);
	(void)kill(r->pid, SIGKILL); /* should the group not exist */
	do
		p = waitpid(r->pid, &r->status, 0);
	while (p == -1 && errno == EINTR);
	r->reaped = 1;
	if (p == -1)
		r->lost = 1;
}

/*
 * Feed stdin and read stderr until the child exits or deadline passes.
 * Returns 0 on exit, 1 on timeout, -1 on a write error (errno set);
 * in every case the child has been reaped.
 */
static int
supervise(struct run *r, int64_t deadline)
{
	struct pollfd pfd[3];
	nfds_t n;
	int64_t left;
	int timeout, e, rc, iin, ierr;

	for (;;) {
		if (exited(r))
			return 0;
		left = deadline - eh_mono_ms();
		if (left <= 0) {
			kill_reap(r);
			return 1;
		}
		timeout = left > INT_MAX ? INT_MAX : (int)left;
		if (r->pidfd == -1 && timeout > EXEC_POLL_SLICE_MS)
			timeout = EXEC_POLL_SLICE_MS;
		n = 0;
		iin = ierr = -1;
		if (r->in != -1) {
			iin = (int)n;
			pfd[n].fd = r->in;
			pfd[n++].events = POLLOUT;
		}
		if (r->err != -1) {
			ierr = (int)n;
			pfd[n].fd = r->err;
			pfd[n++].events = POLLIN;
		}
		if (r->pidfd != -1) {
			pfd[n].fd = r->pidfd;
			pfd[n++].events = POLLIN;
		}
		rc = poll(pfd, n, timeout);
		if (rc == -1 && errno != EINTR) {
			e = errno;
			kill_reap(r);
			errno = e;
			return -1;
		}
		if (rc <= 0)
			continue;
		if (iin != -1 && pfd[iin].revents != 0 &&
		    write_stdin(r) == -1) {
			e = errno;
			kill_reap(r);
			errno = e;
			return -1;
		}
		if (ierr != -1 && pfd[ierr].revents != 0)
			(void)read_stderr(r);
	}
}

/* What stderr still holds once the child is gone, without waiting. */
static void
drain_stderr(struct run *r)
{
	char buf[4096];
	size_t total = 0;
	ssize_t n;

	while (r->err != -1 && !r->line_done && total < EXEC_DRAIN_MAX) {
		n = read(r->err, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		take_stderr(r, buf, (size_t)n);
		total += (size_t)n;
	}
}

/*
 * One clean line of the child's words: a trailing CR dropped, tabs as
 * spaces, other control bytes and anything not valid UTF-8 (a line cut
 * at EXEC_LINE_MAX may end inside a character) as '?', so that the
 * state file's JSON and the log line take it as it is.
 */
static void
clean_line(char *out, size_t outsz, const char *in, size_t len)
{
	size_t i = 0, o = 0, k;
	unsigned char c;

	if (len > 0 && in[len - 1] == '\r')
		len--;
	while (i < len && o + 1 < outsz) {
		c = (unsigned char)in[i];
		k = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 :
		    c >= 0xc0 ? 2 : 0;
		if (k == 1) {
			out[o++] = c == '\t' ? ' ' :
			    (c < 0x20 || c == 0x7f) ? '?' : (char)c;
			i++;
		} else if (k > 1 && i + k <= len && o + k < outsz &&
		    eh_utf8_valid(in + i, k)) {
			memcpy(out + o, in + i, k);
			o += k;
			i += k;
		} else {
			out[o++] = '?';
			i++;
		}
	}
	out[o] = '\0';
}

static void
fmt_ms(char *buf, size_t sz, int64_t ms)
{
	if (ms % 1000 == 0)
		snprintf(buf, sz, "%llds", (long long)(ms / 1000));
	else
		snprintf(buf, sz, "%lldms", (long long)ms);
}

/* The outcome of a finished child, with job->error filled in. */
static enum eh_result
judge(struct eh_job *job, const struct run *r, int timed_out)
{
	char line[EXEC_LINE_MAX + 1], dur[32];
	enum eh_result res;

	clean_line(line, sizeof(line), r->line, r->line_len);
	if (timed_out) {
		fmt_ms(dur, sizeof(dur), job->cfg->exec_timeout_ms);
		snprintf(job->error, sizeof(job->error),
		    "exec: timed out after %s%s%s", dur,
		    line[0] != '\0' ? ": " : "", line);
		return EH_RES_TEMP;
	}
	if (r->lost) {
		snprintf(job->error, sizeof(job->error),
		    "exec: the exit status was lost (SIGCHLD ignored)");
		return EH_RES_TEMP;
	}
	if (WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0)
		return EH_RES_OK;
	res = WIFEXITED(r->status) &&
	    WEXITSTATUS(r->status) == EXEC_EXIT_PERM ? EH_RES_PERM :
	    EH_RES_TEMP;
	if (line[0] != '\0')
		snprintf(job->error, sizeof(job->error), "%s", line);
	else if (WIFEXITED(r->status))
		snprintf(job->error, sizeof(job->error), "exec: exit %d",
		    WEXITSTATUS(r->status));
	else if (WIFSIGNALED(r->status))
		snprintf(job->error, sizeof(job->error),
		    "exec: killed by signal %d", WTERMSIG(r->status));
	else
		snprintf(job->error, sizeof(job->error),
		    "exec: wait status %d", r->status);
	return res;
}

static int
open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	long fd;

	fd = syscall(SYS_pidfd_open, pid, 0);
	if (fd >= 0) {
		(void)fcntl((int)fd, F_SETFD, FD_CLOEXEC);
		return (int)fd;
	}
#else
	(void)pid;
#endif
	return -1; /* an older kernel: poll in slices instead */
}

static enum eh_result
sys_fail(struct eh_job *job, const char *op, int e)
{
	snprintf(job->error, sizeof(job->error), "exec: %s: %s", op,
	    eh_errno_str(e));
	return EH_RES_TEMP;
}

/*
 * Run the command for job: EH_RES_OK on exit 0, EH_RES_PERM on exit
 * 100, EH_RES_TEMP otherwise, with job->error a clean line (empty on
 * success).  The child is always reaped before this returns.  SIGPIPE
 * is blocked while it runs (a child that never reads its stdin must
 * not kill the tool) and one it caused is consumed before the mask is
 * restored.
 */
enum eh_result
eh_exec_run(struct eh_job *job)
{
	struct run r;
	struct sigaction dfl;
	struct rlimit rl;
	sigset_t pipeset, oldmask, pend;
	struct timespec zero = { 0, 0 };
	char sh[] = "sh", dash_c[] = "-c";
	char *argv[4];
	char **env = NULL;
	int inp[2] = { -1, -1 }, errp[2] = { -1, -1 }, stp[2] = { -1, -1 };
	int devnull = -1, cmd_status;
	int maxfd, was_pending, rc = 0, e;
	pid_t parent;
	enum eh_result res;
	int64_t deadline;

	job->error[0] = '\0';
	memset(&r, 0, sizeof(r));
	r.in = r.err = r.pidfd = -1;
	if (job->cfg == NULL || job->cfg->exec == NULL) {
		snprintf(job->error, sizeof(job->error),
		    "exec: ESIGNHOOK_EXEC is not set");
		return EH_RES_TEMP;
	}

	sigemptyset(&pipeset);
	sigaddset(&pipeset, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipeset, &oldmask);
	sigpending(&pend);
	was_pending = sigismember(&pend, SIGPIPE);

	env = eh_exec_env(job);
	if (env == NULL) {
		res = sys_fail(job, "environment", ENOMEM);
		goto out;
	}
	argv[0] = sh;
	argv[1] = dash_c;
	argv[2] = job->cfg->exec;
	argv[3] = NULL;
	maxfd = 1024;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < INT_MAX)
		maxfd = (int)rl.rlim_cur;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);

	if (pipe2(inp, O_CLOEXEC) == -1 || pipe2(errp, O_CLOEXEC) == -1 ||
	    pipe2(stp, O_CLOEXEC) == -1) {
		res = sys_fail(job, "pipe", errno);
		goto out;
	}
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull == -1) {
		res = sys_fail(job, "open /dev/null", errno);
		goto out;
	}
	inp[0] = above_stdio(inp[0]);
	inp[1] = above_stdio(inp[1]);
	errp[0] = above_stdio(errp[0]);
	errp[1] = above_stdio(errp[1]);
	stp[0] = above_stdio(stp[0]);
	stp[1] = above_stdio(stp[1]);
	devnull = above_stdio(devnull);
	if (inp[0] == -1 || inp[1] == -1 || errp[0] == -1 || errp[1] == -1 ||
	    stp[0] == -1 || stp[1] == -1 || devnull == -1) {
		res = sys_fail(job, "dup", errno);
		goto out;
	}
	if (set_nonblock(inp[1]) == -1 || set_nonblock(errp[0]) == -1) {
		res = sys_fail(job, "fcntl", errno);
		goto out;
	}

	deadline = eh_mono_ms() + job->cfg->exec_timeout_ms;
	parent = getpid();
	r.pid = fork();
	if (r.pid == -1) {
		res = sys_fail(job, "fork", errno);
		goto out;
	}
	if (r.pid == 0)
		child(inp[0], devnull, errp[1], stp[1], parent, argv, env, maxfd,
		    &dfl);
	/* Both sides set the group, so a kill(-pid) never finds none. */
	(void)setpgid(r.pid, r.pid);
	closefd(&inp[0]);
	closefd(&errp[1]);
	closefd(&stp[1]);
	closefd(&devnull);
	r.in = inp[1];
	r.err = errp[0];
	inp[1] = errp[0] = -1;
	r.rec = job->record;
	r.rec_len = job->record != NULL ? job->record_len : 0;
	r.pidfd = open_pidfd(r.pid);

	rc = supervise(&r, deadline);
	e = errno;
	drain_stderr(&r);
	/* The watchdog (reaped) passed the command's own status on; none
	 * when it was killed with its job (the timeout). */
	if (rc == 0 && r.reaped &&
	    read(stp[0], &cmd_status, sizeof(cmd_status)) ==
	    (ssize_t)sizeof(cmd_status))
		r.status = cmd_status;
	if (rc == -1)
		res = sys_fail(job, "writing the record", e);
	else
		res = judge(job, &r, rc == 1);

out:
	closefd(&r.in);
	closefd(&r.err);
	closefd(&r.pidfd);
	closefd(&inp[0]);
	closefd(&inp[1]);
	closefd(&errp[0]);
	closefd(&errp[1]);
	closefd(&stp[0]);
	closefd(&stp[1]);
	closefd(&devnull);
	eh_exec_env_free(env);
	if (!was_pending) {
		sigpending(&pend);
		if (sigismember(&pend, SIGPIPE))
			while (sigtimedwait(&pipeset, NULL, &zero) == -1 &&
			    errno == EINTR)
				;
	}
	pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
	return res;
}
