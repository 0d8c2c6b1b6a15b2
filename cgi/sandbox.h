/*
 * The receiver's sandbox: Landlock (file system access only beneath the
 * spool) and a seccomp filter (the system calls serving needs).
 */
#ifndef EH_SANDBOX_H
#define EH_SANDBOX_H

#include <stddef.h>

/*
 * Restrict this thread and every thread it creates afterwards.  spool
 * may be NULL (then no file system access at all).  with_seccomp: add
 * the system call filter (libseccomp compiles it in about 0.3 ms, a
 * third of a CGI request; FastCGI workers pay it once).  *landlocked
 * says whether Landlock is in force (file access beneath spool only).  Returns 0 when both
 * layers are in force, 1 when one or both are not available on this
 * kernel (note says which, for the log), -1 on an error (note says
 * what; the caller must not serve).
 */
int eh_sandbox_enter(const char *spool, int with_seccomp, int *landlocked,
    char *note, size_t notesz);

#endif
