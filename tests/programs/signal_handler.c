/* A crash inside a signal handler: the stack runs through the kernel's return path
 * (gdb's "<signal handler called>") back into the code the signal interrupted. */
#include <signal.h>
#include <string.h>

static volatile int *target = (int *)8;

static void inner_handler(int sig)
{
    *target = sig;
}

static void handler(int sig)
{
    inner_handler(sig);
}

__attribute__((noinline)) static int interrupted(int rounds)
{
    raise(SIGUSR1);
    return rounds;
}

int main(void)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    sigaction(SIGUSR1, &action, 0);
    return interrupted(3);
}
