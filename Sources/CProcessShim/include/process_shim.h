#ifndef SCW_PROCESS_SHIM_H
#define SCW_PROCESS_SHIM_H

#include <sys/types.h>

/// Forks and execs `path` with `argv` and the current environment. In the child, before exec: a parent-death signal
/// (SIGKILL when this process dies), an empty signal mask and default dispositions for every signal, and every
/// descriptor above 2 closed. Returns the child's pid, or -1 with errno set. (C because nothing may run between fork
/// and exec but async-signal-safe calls, and prctl is variadic, which Swift cannot call.)
pid_t scw_spawn_clean(const char *path, char *const argv[]);

/// Sets this process's parent-death signal; 0 on success.
int scw_set_parent_death_signal(int signal);

/// Makes this process the child subreaper of its descendants (PR_SET_CHILD_SUBREAPER): an orphan below it, even one
/// that called setsid or double-forked, is reparented to it instead of to init, so it stays findable and reapable.
/// 0 on success.
int scw_set_child_subreaper(void);

/// Catches SIGTERM and SIGCHLD with a handler that notes a SIGTERM (see `scw_stop_requested`) and writes a byte to a
/// pipe, and returns the pipe's read end (non-blocking, close-on-exec) to poll, or -1 with errno set. A handler rather
/// than a blocked signal taken with sigwait: a blocked signal is only kept for sigwait when every thread blocks it, and
/// the runtime's threads exist before any Swift code runs. Call once.
int scw_catch_stop_and_children(void);

/// Whether a SIGTERM arrived since `scw_catch_stop_and_children`.
int scw_stop_requested(void);

#endif
