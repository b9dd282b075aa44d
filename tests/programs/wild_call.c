/* A call through a wild function pointer: the pc lands on unmapped memory (0xdeadbeef0, or
   the address given as the argument: -1 and 0xfffffffffffffff0 are ordinary bugs too). */
#include <stdint.h>
#include <stdlib.h>

typedef int (*handler_fn)(int);

struct dispatcher { const char *name; handler_fn handler; };

__attribute__((noinline)) int dispatch(struct dispatcher *d, int arg)
{
    return d->handler(arg) + 1;
}

int main(int argc, char **argv)
{
    uintptr_t target = argc > 1 ? (uintptr_t)strtoull(argv[1], 0, 0) : (uintptr_t)0xdeadbeef0;
    struct dispatcher d = { "wild", (handler_fn)target };
    return dispatch(&d, 7);
}
