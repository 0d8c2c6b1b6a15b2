/*
 * The receiver's sandbox: Landlock (file system access only beneath the
 * spool; no TCP; no abstract UNIX socket or signal outside the process)
 * and a seccomp filter (no new socket, no connect, no exec).
 */
#ifndef EH_SANDBOX_H
#define EH_SANDBOX_H

#include <stddef.h>

enum eh_sandbox_kind {
	/* One request, then exit: Landlock and a short deny list, as
	 * BPF (libseccomp builds the worker's allow list in about 0.3 ms,
	 * a third of a CGI request). */
	EH_SANDBOX_CGI,
	/* A long-lived FastCGI worker: Landlock and the allow list of
	 * what serving needs, compiled once. */
	EH_SANDBOX_FCGI
};

/*
 * Restrict this thread and every thread it creates afterwards.
 * spoolfd is a descriptor of the spool directory (O_PATH is enough; it
 * stays the caller's), or -1: then no file system access at all.
 * Sockets already open (the listening socket, syslog's /dev/log) keep
 * working; no new one can be made or connected.  *landlocked says
 * whether Landlock is in force.  Returns 0 when both layers are in
 * force, 1 when one or both are not available on this kernel (note
 * says which, for the log), -1 on an error (note says what; the caller
 * must not serve).
 */
int eh_sandbox_enter(int spoolfd, enum eh_sandbox_kind kind, int *landlocked,
    char *note, size_t notesz);

#endif
