/* 40 threads parked at different depths in different calls; one faults. */
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t cond_lock = PTHREAD_MUTEX_INITIALIZER;
static int fds[2];

static void park(int kind)
{
    char c;
    switch (kind % 4) {
    case 0: pthread_mutex_lock(&cond_lock); pthread_cond_wait(&never, &cond_lock); break;
    case 1: read(fds[0], &c, 1); break;
    case 2: for (;;) sleep(100); break;
    default: pthread_mutex_lock(&held); break;
    }
}

static int recurse(int depth, int kind)
{
    if (depth == 0) {
        park(kind);
        return 0;
    }
    return recurse(depth - 1, kind) + 1;
}

static void *parked(void *arg)
{
    intptr_t n = (intptr_t)arg;
    return (void *)(intptr_t)recurse((int)(n % 7) + 1, (int)n);
}

static void explode(int *where, int value)
{
    *where = value;
}

static void *faulting(void *arg)
{
    (void)arg;
    usleep(200000);
    explode((int *)(uintptr_t)0x18, 42);
    return NULL;
}

int main(void)
{
    pthread_t threads[41];
    pipe(fds);
    pthread_mutex_lock(&held);
    for (intptr_t i = 0; i < 40; i++)
        pthread_create(&threads[i], NULL, parked, (void *)i);
    pthread_create(&threads[40], NULL, faulting, NULL);
    for (int i = 0; i < 41; i++)
        pthread_join(threads[i], NULL);
    return 0;
}
