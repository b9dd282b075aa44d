// Eighty threads, past the count at which capture hands the last ones to a forked copy of
// itself, each holding a pointer to member: drgn cannot read one, and capture reads it again
// from the snapshot's types and memory, in the threads of both halves.
#include <pthread.h>
#include <unistd.h>

struct Shape {
    int width;
    int height;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int parked;

__attribute__((noinline)) void hold(int Shape::*field)
{
    pthread_mutex_lock(&lock);
    parked++;
    pthread_mutex_unlock(&lock);
    for (;;)
        pause();
}

void *worker(void *)
{
    int Shape::*field = &Shape::height;
    hold(field);
    return nullptr;
}

int main()
{
    pthread_t threads[80];
    for (auto &thread : threads)
        pthread_create(&thread, nullptr, worker, nullptr);
    for (;;) {
        pthread_mutex_lock(&lock);
        int count = parked;
        pthread_mutex_unlock(&lock);
        if (count == 80)
            break;
        usleep(1000);
    }
    volatile int *nowhere = nullptr;
    return *nowhere;
}
