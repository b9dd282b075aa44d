/* A buffer overflow that overwrites its function's return address with 'A's (built without
   the stack protector): `ret` faults on the non-canonical address. The frames beyond are
   found again by scanning the stack, as gdb's heuristics find __libc_start_call_main. */
#include <stdio.h>
#include <string.h>

__attribute__((noinline)) static void copy_name(char *out, const char *in)
{
    char local[16];
    strcpy(local, in);
    strcpy(out, local);
}

int main(void)
{
    char big[200];
    char name[256];
    memset(big, 'A', sizeof big - 1);
    big[sizeof big - 1] = 0;
    copy_name(name, big);
    puts(name);
    return 0;
}
