/* Calls that never return, each the last instruction of its function: the return
 * address after such a call is already in the next function. Built without debug
 * info too, where only the symbol table names the frames. */
#include <stdio.h>
#include <stdlib.h>

typedef void (*jump_fn)(int) __attribute__((noreturn));
volatile long wild_target = 0x40;

__attribute__((noinline, noreturn)) void give_up(void) { abort(); }
__attribute__((noinline)) void after_give_up(int x) { printf("%d\n", x); }

__attribute__((noinline, noreturn)) void jump_wild(int x)
{
    jump_fn f = (jump_fn)wild_target;
    f(x + 1);
}
__attribute__((noinline)) int after_jump_wild(int y) { return y * 3 + (int)wild_target; }

int main(int argc, char **argv)
{
    (void)argv;
    if (argc > 5)
        after_give_up(after_jump_wild(argc));
    if (argc > 1)
        jump_wild(argc);
    give_up();
}
