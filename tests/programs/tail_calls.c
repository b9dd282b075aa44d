/* Frames that exist only through tail calls, each way a compiler makes one at -O2:
     leaf      `middle` ends in a jump to `leaf` in this file, and `leaf` faults;
     library   `release` ends in a jump to glibc's free, which aborts on a double free;
     nowhere   `call_handler` ends in `jmp *reg` to address 0x10, outside all code.
   The first argument picks one. */
#include <stdlib.h>

volatile int sink;

struct order {
    int id;
    char *note;
};

__attribute__((noinline)) static int leaf(int *p) { sink = *(volatile int *)p; return sink; }
__attribute__((noinline)) static int middle(int *p) { sink++; return leaf(p); }
__attribute__((noinline)) static void release(struct order *o) { free(o->note); free(o->note); }
__attribute__((noinline)) static void call_handler(void (*handler)(void)) { handler(); }

int main(int argc, char **argv)
{
    struct order o = {1, malloc(16)};
    int *volatile nowhere = 0;
    const char *how = argc > 1 ? argv[1] : "leaf";
    if (how[0] == 'l' && how[1] == 'e')
        return middle(nowhere) + sink;     /* not a jump itself: main keeps its frame */
    if (how[0] == 'l')
        release(&o);
    else
        call_handler((void (*)(void))(long)0x10);
    return sink;
}
