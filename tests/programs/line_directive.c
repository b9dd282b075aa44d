/* Crashes in a function whose DWARF names another file: any path can be named with #line,
   one the crashing user cannot read among them (SECRET_PATH, given with -D). */
#include <stdio.h>

void crash_here(int *p);

int main(void)
{
    printf("about to crash\n");
    crash_here(0);
    return 0;
}

#line 1 SECRET_PATH
void crash_here(int *p) { *p = 1; }
