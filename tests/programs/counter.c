/* A process that keeps working: a counter written to a file, named threads in different
   states (sleeping, blocked on a mutex, spinning). `counter FILE` */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static volatile unsigned long spins;

static void *sleeper(void *arg) { (void)arg; for (;;) sleep(100); return NULL; }
static void *waiter(void *arg) { (void)arg; pthread_mutex_lock(&held); return NULL; }
static void *spinner(void *arg) { (void)arg; for (;;) spins++; return NULL; }

static void record(const char *path, unsigned long count)
{
    FILE *out = fopen(path, "w");
    if (out) { fprintf(out, "%lu\n", count); fclose(out); }
}

int main(int argc, char **argv)
{
    pthread_t t[3];
    pthread_mutex_lock(&held);                 /* the waiter waits for ever */
    pthread_create(&t[0], NULL, sleeper, NULL);  pthread_setname_np(t[0], "sleeper");
    pthread_create(&t[1], NULL, waiter, NULL);   pthread_setname_np(t[1], "waiter");
    pthread_create(&t[2], NULL, spinner, NULL);  pthread_setname_np(t[2], "spinner");
    for (unsigned long count = 0;; count++) {
        record(argc > 1 ? argv[1] : "/dev/null", count);
        usleep(2000);
    }
}
