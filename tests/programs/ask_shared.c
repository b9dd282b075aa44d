/* Crashes with a shared library's globals (ask_library.c) changed and in reach. */
int lib_bump(int by);

static int crash(int total)
{
    volatile int *nowhere = 0;
    *nowhere = total;
    return total;
}

int main(void)
{
    int total = lib_bump(2) + lib_bump(3);
    return crash(total);
}
