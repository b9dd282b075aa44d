/* A benchmark workload: 201 threads, each blocked in a condition wait at a recursion depth
   of 0 to 6, with locals in every frame; once all are parked, the main thread crashes. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define THREADS 201

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static pthread_cond_t parked_changed = PTHREAD_COND_INITIALIZER;
static int parked;

struct step {
    int index;
    int depth;
    double weight;
    char label[24];
};

static void park(const struct step *step)
{
    pthread_mutex_lock(&lock);
    parked++;
    pthread_cond_signal(&parked_changed);
    while (step->index >= 0)
        pthread_cond_wait(&never, &lock);
    pthread_mutex_unlock(&lock);
}

static long descend(int index, int depth, long total)
{
    struct step step = {index, depth, depth * 1.5, ""};
    snprintf(step.label, sizeof step.label, "thread %d depth %d", index, depth);
    if (depth == 0) {
        park(&step);
        return total;
    }
    return descend(index, depth - 1, total + depth) + step.label[0];
}

static void *worker(void *arg)
{
    int index = (int)(long)arg;
    return (void *)descend(index, index % 7, 0);
}

int main(void)
{
    pthread_t threads[THREADS];
    for (long i = 0; i < THREADS; i++)
        pthread_create(&threads[i], 0, worker, (void *)i);
    pthread_mutex_lock(&lock);
    while (parked < THREADS)
        pthread_cond_wait(&parked_changed, &lock);
    pthread_mutex_unlock(&lock);
    volatile int *nowhere = 0;
    return *nowhere;
}
