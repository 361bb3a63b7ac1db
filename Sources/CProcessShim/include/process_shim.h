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

#endif
