/*
 * Landlock and seccomp for the receiver, in the spirit of OpenBSD's
 * pledge/unveil in slowcgi: after start-up, a worker can reach the
 * spool and the sockets it already holds, and nothing else.
 *
 * Landlock handles every file system right and allows them beneath the
 * spool only; where the kernel has them, it also refuses TCP (ABI 4)
 * and scopes abstract UNIX sockets and signals to the process (ABI 6).
 * seccomp refuses a new socket and connect() everywhere: a pathname
 * UNIX socket (D-Bus, journald, PHP-FPM, ...) is beyond Landlock, and
 * the sockets serving needs are open before the sandbox (the FastCGI
 * listener, syslog's /dev/log, opened with LOG_NDELAY).  A FastCGI
 * worker gets an allow list of the system calls the request path
 * makes; anything else fails with EPERM (an unforeseen call in some
 * libc path becomes a logged 503 instead of a worker killed in
 * mid-request), and the calls an exploit would want (execve, ptrace,
 * ...) kill the process.  A CGI, one request and gone, gets only the
 * refusals and the kills, as a BPF program written out here (about
 * 0.1 ms; libseccomp would take twice that for the short list, and
 * 0.3 ms for the worker's).  Sanitizer builds skip both: LeakSanitizer
 * reads /proc and uses ptrace at exit.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include "sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define EH_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EH_SANITIZED 1
#endif
#endif
#ifndef EH_SANITIZED
#define EH_SANITIZED 0
#endif

/* Rights newer than Debian 12's headers; used when the kernel has them. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#define LL_NET_BIND_TCP (1ULL << 0)             /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ULL << 1)

#define FS_ALL_V1 ((1ULL << 13) - 1) /* EXECUTE .. MAKE_SYM */

/*
 * struct landlock_ruleset_attr as Linux 6.12 has it; Debian 12's
 * header stops at handled_access_fs.  An older kernel takes the longer
 * struct as long as the fields it does not know are 0.
 */
struct ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

static int
landlock(int spoolfd, char *note, size_t notesz)
{
	struct ruleset_attr attr;
	struct landlock_path_beneath_attr rule;
	long abi;
	int rs;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1) {
		snprintf(note, notesz, "Landlock not available (%s)",
		    strerror(errno));
		return 1;
	}
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = FS_ALL_V1;
	if (abi >= 2)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	/* Handled with no rule: refused.  The FastCGI listener is bound
	 * already; accept() is not a Landlock right. */
	if (abi >= 4)
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
	/* No abstract UNIX socket of another process (D-Bus, X11, ...),
	 * no signal to another process; this one's threads are inside. */
	if (abi >= 6)
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
	rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (rs < 0)
		goto fail;
	if (spoolfd >= 0) {
		memset(&rule, 0, sizeof(rule));
		rule.allowed_access = attr.handled_access_fs &
		    ~(uint64_t)LANDLOCK_ACCESS_FS_EXECUTE;
		rule.parent_fd = spoolfd;
		if (syscall(SYS_landlock_add_rule, rs,
		    LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0)
			goto fail;
	}
	if (syscall(SYS_landlock_restrict_self, rs, 0) != 0)
		goto fail;
	close(rs);
	snprintf(note, notesz, "%s", abi >= 6 ? "; no TCP, no abstract "
	    "socket or signal outside" : abi >= 4 ? "; no TCP" : "");
	return 0;
fail:
	snprintf(note, notesz, "Landlock: %s", strerror(errno));
	if (rs >= 0)
		close(rs);
	return -1;
}

/*
 * What serving a request needs in a FastCGI worker, after start-up.
 * Not socket or connect (the top of this file), nor sendmsg (an
 * address hides behind its pointer; sendto is allowed, with none).
 */
static const int allowed[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(close), SCMP_SYS(fstat),
	SCMP_SYS(newfstatat), SCMP_SYS(statx), SCMP_SYS(lseek),
	SCMP_SYS(fcntl), SCMP_SYS(dup), SCMP_SYS(openat), SCMP_SYS(open),
	SCMP_SYS(mkdir), SCMP_SYS(mkdirat), SCMP_SYS(renameat),
	SCMP_SYS(renameat2), SCMP_SYS(rename), SCMP_SYS(unlinkat),
	SCMP_SYS(symlinkat), SCMP_SYS(readlinkat), /* seen/ markers */
	SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(getdents64),
	SCMP_SYS(syncfs), SCMP_SYS(ftruncate), /* the journal (group commit) */
	SCMP_SYS(fstatfs), SCMP_SYS(statfs), SCMP_SYS(mmap),
	SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(mprotect),
	SCMP_SYS(brk), SCMP_SYS(madvise), SCMP_SYS(accept),
	SCMP_SYS(accept4), SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	SCMP_SYS(shutdown), SCMP_SYS(setsockopt), SCMP_SYS(getsockopt),
	SCMP_SYS(select), SCMP_SYS(pselect6), SCMP_SYS(poll),
	SCMP_SYS(ppoll), SCMP_SYS(recvfrom),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep), SCMP_SYS(getpid),
	SCMP_SYS(gettid), SCMP_SYS(getuid), SCMP_SYS(geteuid),
	SCMP_SYS(rt_sigaction),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigtimedwait), SCMP_SYS(sigaltstack), SCMP_SYS(futex),
	SCMP_SYS(sched_yield), SCMP_SYS(getrandom), SCMP_SYS(exit),
	SCMP_SYS(exit_group), SCMP_SYS(restart_syscall),
	SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(uname),
	/* Each thread's deadline for a request's params (esignhook.c). */
	SCMP_SYS(timer_create), SCMP_SYS(timer_settime),
	SCMP_SYS(timer_delete),
};

/* What only an exploit would call: the process dies at once. */
static const int fatal[] = {
	SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(ptrace),
	SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev),
	SCMP_SYS(fork), SCMP_SYS(vfork), SCMP_SYS(mount), SCMP_SYS(chroot),
	SCMP_SYS(setuid), SCMP_SYS(setgid), SCMP_SYS(init_module),
	SCMP_SYS(bpf),
};

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

/*
 * A worker's rules, on a filter that refuses what it does not name.
 * SCMP_CMP_EQ and _NE ignore datum_b: the 0 is what the macro would
 * leave implicit, spelled out for clang's -Wmissing-field-initializers.
 */
static int
fcgi_rules(scmp_filter_ctx ctx, scmp_datum_t self)
{
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < NITEMS(allowed); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	/* sendto with an address reaches any datagram socket; syslog()
	 * sends on its connected one with none. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendto), 1,
		    SCMP_A4(SCMP_CMP_EQ, 0, 0));
	/* Signals: only to this process (its own threads, its own stop). */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1,
		    SCMP_A0(SCMP_CMP_EQ, self, 0));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
		    SCMP_A0(SCMP_CMP_EQ, self, 0));
	/* The process stays non-dumpable (esignhook.c, main): no core
	 * file and no ptrace of what a request's memory holds. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
		    SCMP_A0(SCMP_CMP_NE, PR_SET_DUMPABLE, 0));
	/* Threads, not processes (the fork case is below). */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	return rc;
}

/* A FastCGI worker's filter, by libseccomp. */
static int
seccomp_fcgi(char *note, size_t notesz)
{
	scmp_filter_ctx ctx;
	size_t i;
	int rc = 0;

	ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (ctx == NULL) {
		snprintf(note, notesz, "seccomp: cannot initialise libseccomp");
		return -1;
	}
	for (i = 0; rc == 0 && i < NITEMS(fatal); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, fatal[i], 0);
	if (rc == 0)
		rc = fcgi_rules(ctx, (scmp_datum_t)getpid());
	/* Threads, not processes: clone3's flags hide behind a pointer, so
	 * it says ENOSYS and glibc falls back to clone, allowed only with
	 * CLONE_THREAD (a fork without it kills the process). */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
		    SCMP_SYS(clone3), 0);
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS,
		    SCMP_SYS(clone), 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	/* EPERM: a service manager's own filter (systemd's
	 * SystemCallFilter=) forbids it; that filter stays in force. */
	if (rc == -EINVAL || rc == -EOPNOTSUPP || rc == -EPERM) {
		snprintf(note, notesz, "seccomp not available (%s)",
		    strerror(-rc));
		return 1;
	}
	if (rc != 0) {
		snprintf(note, notesz, "seccomp: %s", strerror(-rc));
		return -1;
	}
	return 0;
}

/*
 * A CGI's filter, written out as BPF: libseccomp takes about 0.2 ms to
 * build even a short list, a fifth of a CGI request, where loading a
 * program takes microseconds, plus the kernel's run of it over every
 * system call number (its cache of what is always allowed), which a
 * binary search over the numbers keeps short.  It allows what it does
 * not name; what it names is the worker's policy turned around: no
 * socket, no connect, no sendto with an address, no signal to another
 * process, no way back to dumpable, no exec, no process.  x86-64 and
 * aarch64 (little-endian: an argument's low half comes first);
 * elsewhere a CGI has Landlock only.
 */
#if defined(__x86_64__)
#define CGI_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define CGI_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

#ifdef CGI_AUDIT_ARCH
enum cgi_act {
	ACT_EPERM,              /* refused */
	ACT_KILL,               /* only an exploit calls it */
	ACT_ENOSYS,             /* clone3: glibc falls back to clone */
	ACT_SENDTO,             /* refused with an address */
	ACT_NOTSELF,            /* a signal: refused but to this process */
	ACT_DUMPABLE,           /* prctl: refused for PR_SET_DUMPABLE */
	ACT_CLONE               /* killed without CLONE_THREAD */
};

struct cgi_rule {
	int nr;
	enum cgi_act act;
};

static const struct cgi_rule cgi_rules[] = {
	{ __NR_socket, ACT_EPERM }, { __NR_connect, ACT_EPERM },
	{ __NR_sendmsg, ACT_EPERM }, { __NR_sendmmsg, ACT_EPERM },
	/* io_uring makes sockets and connects behind seccomp's back. */
	{ __NR_io_uring_setup, ACT_EPERM }, { __NR_io_uring_enter, ACT_EPERM },
	{ __NR_io_uring_register, ACT_EPERM }, { __NR_pidfd_getfd, ACT_EPERM },
	{ __NR_sendto, ACT_SENDTO }, { __NR_kill, ACT_NOTSELF },
	{ __NR_tgkill, ACT_NOTSELF }, { __NR_tkill, ACT_NOTSELF },
	{ __NR_prctl, ACT_DUMPABLE }, { __NR_clone, ACT_CLONE },
	{ __NR_clone3, ACT_ENOSYS },
	{ __NR_execve, ACT_KILL }, { __NR_execveat, ACT_KILL },
	{ __NR_ptrace, ACT_KILL }, { __NR_process_vm_readv, ACT_KILL },
	{ __NR_process_vm_writev, ACT_KILL }, { __NR_mount, ACT_KILL },
	{ __NR_chroot, ACT_KILL }, { __NR_setuid, ACT_KILL },
	{ __NR_setgid, ACT_KILL }, { __NR_init_module, ACT_KILL },
	{ __NR_bpf, ACT_KILL },
#ifdef __NR_fork
	{ __NR_fork, ACT_KILL }, { __NR_vfork, ACT_KILL },
#endif
};

#define CGI_BPF_MAX 192
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define ARG_HI(i) (ARG_LO(i) + 4)
#define RET_EPERM (SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA))
#define RET_ENOSYS (SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA))

struct bpf {
	struct sock_filter f[CGI_BPF_MAX];
	size_t n;
	int bad;                /* too long, or a jump too far */
};

static void
op(struct bpf *b, unsigned short code, unsigned char jt, unsigned char jf,
    uint32_t k)
{
	if (b->n < CGI_BPF_MAX) {
		b->f[b->n].code = code;
		b->f[b->n].jt = jt;
		b->f[b->n].jf = jf;
		b->f[b->n].k = k;
	} else
		b->bad = 1;
	b->n++;
}

/* Point the jump at at (its jt or its jf) to the next instruction. */
static void
land(struct bpf *b, size_t at, int jt)
{
	size_t d = b->n - at - 1;

	if (at >= CGI_BPF_MAX || d > 255) {
		b->bad = 1;
		return;
	}
	if (jt)
		b->f[at].jt = (unsigned char)d;
	else
		b->f[at].jf = (unsigned char)d;
}

#define LD(b, off) op(b, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)(off))
#define RET(b, v) op(b, BPF_RET | BPF_K, 0, 0, v)
#define JEQ(b, v, t, f) op(b, BPF_JMP | BPF_JEQ | BPF_K, t, f, (uint32_t)(v))

/* What a named call gets; a block that does not refuse allows. */
static void
act(struct bpf *b, enum cgi_act a)
{
	switch (a) {
	case ACT_EPERM:
		RET(b, RET_EPERM);
		return;
	case ACT_KILL:
		RET(b, SECCOMP_RET_KILL_PROCESS);
		return;
	case ACT_ENOSYS:
		RET(b, RET_ENOSYS);
		return;
	case ACT_SENDTO:
		/* The address, both halves. */
		LD(b, ARG_LO(4));
		JEQ(b, 0, 0, 2);
		LD(b, ARG_HI(4));
		JEQ(b, 0, 1, 0);
		RET(b, RET_EPERM);
		break;
	case ACT_NOTSELF:
		/* A pid_t is the low half; the kernel reads no more. */
		LD(b, ARG_LO(0));
		JEQ(b, (uint32_t)getpid(), 1, 0);
		RET(b, RET_EPERM);
		break;
	case ACT_DUMPABLE:
		LD(b, ARG_LO(0));
		JEQ(b, PR_SET_DUMPABLE, 0, 1);
		RET(b, RET_EPERM);
		break;
	case ACT_CLONE:
		LD(b, ARG_LO(0));
		op(b, BPF_JMP | BPF_JSET | BPF_K, 1, 0, CLONE_THREAD);
		RET(b, SECCOMP_RET_KILL_PROCESS);
		break;
	}
	RET(b, SECCOMP_RET_ALLOW);
}

/* A binary search over r[0..n), sorted by number; A holds it. */
static void
tree(struct bpf *b, const struct cgi_rule *r, size_t n)
{
	size_t at = b->n, mid = n / 2;

	if (n == 1) {
		JEQ(b, r->nr, 0, 0);
		act(b, r->act);
		land(b, at, 0);
		RET(b, SECCOMP_RET_ALLOW);
		return;
	}
	op(b, BPF_JMP | BPF_JGE | BPF_K, 0, 0, (uint32_t)r[mid].nr);
	tree(b, r, mid);
	land(b, at, 1);
	tree(b, r + mid, n - mid);
}

static int
by_nr(const void *a, const void *b)
{
	const struct cgi_rule *x = a, *y = b;

	return (x->nr > y->nr) - (x->nr < y->nr);
}

static int
seccomp_cgi(char *note, size_t notesz)
{
	struct cgi_rule r[NITEMS(cgi_rules)];
	struct sock_fprog prog;
	struct bpf b;

	memcpy(r, cgi_rules, sizeof(r));
	qsort(r, NITEMS(r), sizeof(r[0]), by_nr);
	b.n = 0;
	b.bad = 0;
	LD(&b, offsetof(struct seccomp_data, arch));
	JEQ(&b, CGI_AUDIT_ARCH, 1, 0);
	RET(&b, SECCOMP_RET_KILL_PROCESS);
	LD(&b, offsetof(struct seccomp_data, nr));
#ifdef __x86_64__
	/* x32's numbers: the same architecture to the filter. */
	op(&b, BPF_JMP | BPF_JGE | BPF_K, 0, 1, 0x40000000);
	RET(&b, SECCOMP_RET_KILL_PROCESS);
#endif
	tree(&b, r, NITEMS(r));
	if (b.bad) {
		snprintf(note, notesz, "seccomp: the CGI filter does not fit");
		return -1;
	}
	prog.len = (unsigned short)b.n;
	prog.filter = b.f;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) {
		/* EINVAL: no seccomp, or no SECCOMP_RET_KILL_PROCESS (before
		 * Linux 4.14); EACCES, EPERM: a service manager's filter
		 * forbids it, and stays in force. */
		snprintf(note, notesz, "seccomp not available (%s)",
		    strerror(errno));
		return 1;
	}
	return 0;
}
#else
static int
seccomp_cgi(char *note, size_t notesz)
{
	snprintf(note, notesz, "seccomp for a CGI not built for this "
	    "architecture");
	return 1;
}
#endif

int
eh_sandbox_enter(int spoolfd, enum eh_sandbox_kind kind, int *landlocked,
    char *note, size_t notesz)
{
	char n1[160] = "", n2[160] = "";
	int a, b;

	note[0] = '\0';
	*landlocked = 0;
	if (EH_SANITIZED) {
		snprintf(note, notesz, "sandbox off in a sanitizer build");
		return 1;
	}
	/* glibc reads /etc/localtime lazily; Landlock would refuse it. */
	tzset();
	/* Both layers need it, and it keeps set-id binaries inert too. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 &&
	    prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		snprintf(note, notesz, "sandbox not available: no_new_privs: "
		    "%s", strerror(errno));
		return 1;
	}
	a = landlock(spoolfd, n1, sizeof(n1));
	if (a < 0) {
		snprintf(note, notesz, "%s", n1);
		return -1;
	}
	*landlocked = a == 0;
	b = kind == EH_SANDBOX_FCGI ? seccomp_fcgi(n2, sizeof(n2)) :
	    seccomp_cgi(n2, sizeof(n2));
	if (b < 0) {
		snprintf(note, notesz, "%s", n2);
		return -1;
	}
	if (a == 0 && b == 0) {
		snprintf(note, notesz, "sandbox: Landlock (spool only) and "
		    "seccomp in force (no new socket%s)", n1);
		return 0;
	}
	snprintf(note, notesz, "sandbox partial: %s%s%s",
	    a == 0 ? "Landlock in force" : n1, "; ",
	    b == 0 ? "seccomp in force" : n2);
	return 1;
}
