/* Waits in a nested call until killed: a live process for gdb's gcore, whose cores leave
   the binaries' code out. */
#include <stdio.h>
#include <unistd.h>

__attribute__((noinline)) int wait_for_signal(int depth)
{
    puts("waiting");
    fflush(stdout);
    pause();
    return depth;
}

__attribute__((noinline)) int nest(int depth)
{
    return depth > 0 ? nest(depth - 1) + 1 : wait_for_signal(depth);
}

int main(void)
{
    return nest(3);
}
