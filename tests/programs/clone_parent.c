/* Creates a thread. The test stops it where the parent returns from clone3 (gdb's
   `catch syscall clone3`, second stop) and writes a core there with gcore: glibc's CFI
   ends at that instruction, whose return address is at [rsp]. */
#include <pthread.h>
#include <unistd.h>

static void *work(void *arg)
{
    pause();
    return arg;
}

int main(void)
{
    pthread_t thread;
    pthread_create(&thread, 0, work, 0);
    pthread_join(thread, 0);
    return 0;
}
