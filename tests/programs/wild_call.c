/* A call through a wild function pointer: the pc lands on unmapped memory. */
#include <stdint.h>

typedef int (*handler_fn)(int);

struct dispatcher { const char *name; handler_fn handler; };

__attribute__((noinline)) int dispatch(struct dispatcher *d, int arg)
{
    return d->handler(arg) + 1;
}

int main(void)
{
    struct dispatcher d = { "wild", (handler_fn)(uintptr_t)0xdeadbeef0 };
    return dispatch(&d, 7);
}
