/*
 * Landlock and seccomp for the receiver, in the spirit of OpenBSD's
 * pledge/unveil in slowcgi: after start-up, a worker can reach the
 * spool and the sockets it already holds, and nothing else.
 *
 * Landlock handles every file system right and allows them beneath the
 * spool only.  seccomp allows the system calls the request path makes;
 * anything else fails with EPERM (an unforeseen call in some libc path
 * becomes a logged 503 instead of a worker killed in mid-request), and
 * the calls an exploit would want (execve, ptrace, ...) kill the
 * process.  Sanitizer builds skip both: LeakSanitizer reads /proc and
 * uses ptrace at exit.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/landlock.h>
#include <seccomp.h>

#include "sandbox.h"

#include <time.h>

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

#define FS_ALL_V1 ((1ULL << 13) - 1) /* EXECUTE .. MAKE_SYM */

static int
landlock(const char *spool, char *note, size_t notesz)
{
	struct landlock_ruleset_attr attr;
	struct landlock_path_beneath_attr rule;
	long abi;
	int rs, fd;

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
	rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (rs < 0)
		goto fail;
	if (spool != NULL) {
		/* The spool may not exist yet: it is created on first use. */
		fd = open(spool, O_PATH | O_CLOEXEC | O_DIRECTORY);
		if (fd < 0) {
			snprintf(note, notesz, "Landlock: cannot open spool %s:"
			    " %s", spool, strerror(errno));
			close(rs);
			return -1;
		}
		memset(&rule, 0, sizeof(rule));
		rule.allowed_access = attr.handled_access_fs &
		    ~(uint64_t)LANDLOCK_ACCESS_FS_EXECUTE;
		rule.parent_fd = fd;
		if (syscall(SYS_landlock_add_rule, rs,
		    LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0) {
			close(fd);
			goto fail;
		}
		close(fd);
	}
	if (syscall(SYS_landlock_restrict_self, rs, 0) != 0)
		goto fail;
	close(rs);
	return 0;
fail:
	snprintf(note, notesz, "Landlock: %s", strerror(errno));
	if (rs >= 0)
		close(rs);
	return -1;
}

/* What serving a request needs, in FastCGI or CGI mode, after start-up. */
static const int allowed[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(close), SCMP_SYS(fstat),
	SCMP_SYS(newfstatat), SCMP_SYS(statx), SCMP_SYS(lseek),
	SCMP_SYS(fcntl), SCMP_SYS(dup), SCMP_SYS(openat), SCMP_SYS(open),
	SCMP_SYS(mkdir), SCMP_SYS(mkdirat), SCMP_SYS(renameat),
	SCMP_SYS(renameat2), SCMP_SYS(rename), SCMP_SYS(unlinkat),
	SCMP_SYS(symlinkat), SCMP_SYS(readlinkat), /* seen/ markers */
	SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(getdents64),
	SCMP_SYS(fstatfs), SCMP_SYS(statfs), SCMP_SYS(mmap),
	SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(mprotect),
	SCMP_SYS(brk), SCMP_SYS(madvise), SCMP_SYS(accept),
	SCMP_SYS(accept4), SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	SCMP_SYS(shutdown), SCMP_SYS(setsockopt), SCMP_SYS(getsockopt),
	SCMP_SYS(select), SCMP_SYS(pselect6), SCMP_SYS(poll),
	SCMP_SYS(ppoll), SCMP_SYS(connect),
	SCMP_SYS(sendto), SCMP_SYS(sendmsg), SCMP_SYS(recvfrom),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep), SCMP_SYS(getpid),
	SCMP_SYS(gettid), SCMP_SYS(getuid), SCMP_SYS(geteuid),
	SCMP_SYS(rt_sigaction),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigtimedwait), SCMP_SYS(sigaltstack), SCMP_SYS(futex),
	SCMP_SYS(sched_yield), SCMP_SYS(getrandom), SCMP_SYS(exit),
	SCMP_SYS(exit_group), SCMP_SYS(restart_syscall),
	SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(uname),
	SCMP_SYS(prctl),
};

/* What only an exploit would call: the process dies at once. */
static const int fatal[] = {
	SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(ptrace),
	SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev),
	SCMP_SYS(fork), SCMP_SYS(vfork), SCMP_SYS(mount), SCMP_SYS(chroot), SCMP_SYS(setuid),
	SCMP_SYS(setgid), SCMP_SYS(init_module), SCMP_SYS(bpf),
};

static int
seccomp(char *note, size_t notesz)
{
	scmp_filter_ctx ctx;
	size_t i;
	int rc;

	ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (ctx == NULL) {
		snprintf(note, notesz, "seccomp: cannot initialise libseccomp");
		return -1;
	}
	rc = 0;
	for (i = 0; rc == 0 && i < sizeof(allowed) / sizeof(allowed[0]); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	for (i = 0; rc == 0 && i < sizeof(fatal) / sizeof(fatal[0]); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, fatal[i], 0);
	/* Threads, not processes: clone3's flags hide behind a pointer, so
	 * it says ENOSYS and glibc falls back to clone, allowed only with
	 * CLONE_THREAD (a fork without it kills the process). */
	/* Sockets: AF_UNIX only (syslog's /dev/log); signals: only to
	 * this process (its own threads, its own stop).  SCMP_CMP_EQ
	 * ignores datum_b: the 0 is what the macro would leave implicit,
	 * spelled out for clang's -Wmissing-field-initializers. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
		    SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1,
		    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
		    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
		    SCMP_SYS(clone3), 0);
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
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

int
eh_sandbox_enter(const char *spool, int with_seccomp, int *landlocked,
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
	a = landlock(spool, n1, sizeof(n1));
	if (a < 0) {
		snprintf(note, notesz, "%s", n1);
		return -1;
	}
	*landlocked = a == 0;
	b = with_seccomp ? seccomp(n2, sizeof(n2)) : 0;
	if (b < 0) {
		snprintf(note, notesz, "%s", n2);
		return -1;
	}
	if (a == 0 && b == 0) {
		snprintf(note, notesz, "sandbox: Landlock (spool only)%s in "
		    "force", with_seccomp ? " and seccomp" : "");
		return 0;
	}
	snprintf(note, notesz, "sandbox partial: %s%s%s", n1,
	    *n1 && *n2 ? "; " : "", n2);
	return 1;
}
