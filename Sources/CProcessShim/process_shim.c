#define _GNU_SOURCE
#include "process_shim.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

int scw_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, signal);
}

int scw_set_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0UL, 0UL, 0UL);
}

static int signal_pipe[2] = {-1, -1};
static volatile sig_atomic_t stop_requested = 0;

static void on_stop_or_child(int sig) {
    int saved = errno;
    if (sig == SIGTERM) {
        stop_requested = 1;
    }
    char byte = (char)sig;
    (void)write(signal_pipe[1], &byte, 1);  // non-blocking: a full pipe already means "wake up"
    errno = saved;
}

int scw_catch_stop_and_children(void) {
    if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        return -1;
    }
    struct sigaction action = {0};
    action.sa_handler = on_stop_or_child;
    action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigfillset(&action.sa_mask);
    if (sigaction(SIGCHLD, &action, NULL) != 0 || sigaction(SIGTERM, &action, NULL) != 0) {
        return -1;
    }
    // The server may hand its children a mask with SIGTERM blocked; this thread at least takes both.
    sigset_t wanted;
    sigemptyset(&wanted);
    sigaddset(&wanted, SIGTERM);
    sigaddset(&wanted, SIGCHLD);
    pthread_sigmask(SIG_UNBLOCK, &wanted, NULL);
    return signal_pipe[0];
}

int scw_stop_requested(void) {
    return stop_requested;
}

pid_t scw_spawn_clean(const char *path, char *const argv[]) {
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0) {
        return pid;
    }
    // The child: async-signal-safe calls only.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) {
        _exit(127);  // the parent died before the signal was armed
    }
    struct sigaction defaults = {0};
    defaults.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) {
        sigaction(sig, &defaults, NULL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
#endif
    {
        struct rlimit limit;
        long top = getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY ? (long)limit.rlim_cur : 65536;
        for (long fd = 3; fd < top; fd++) {
            close((int)fd);
        }
    }
    execv(path, argv);
    _exit(errno == ENOENT ? 127 : 126);
}
