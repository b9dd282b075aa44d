/* Locals in the places optimized code keeps them: a constant, registers, memory, nowhere. */
#include <stdio.h>
static long *volatile target;           /* null: the write faults */
__attribute__((noinline)) void record(long *slot) { *target = *slot; }
__attribute__((noinline)) long settle(long amount, long unused, long *ledger)
{
    const long fee = 42;
    long kept = amount * 3;
    long on_stack = amount + fee;
    record(&on_stack);
    ledger[0] = kept;
    return kept + on_stack + fee;
}
int main(int argc, char **argv)
{
    long ledger[2] = {0};
    (void)argv;
    return (int)settle(argc, 7, ledger);
}
