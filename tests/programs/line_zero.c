/* Two branches end in the same call: clang -O2 merges them into one call whose
   line-table row has line 0. gdb gives the caller frame the line of the row before. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) void crash(int *where, int value)
{
    *where = value;
}

int main(int argc, char **argv)
{
    int *where = argc > 5 ? (int *)argv : NULL;
    if (argc > 3) {
        puts("many");
        crash(where, 1);
    } else {
        puts("few");
        crash(where, 1);
    }
    return 3;
}
