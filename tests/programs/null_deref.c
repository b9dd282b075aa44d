/* A worker thread dereferences a NULL catalog entry while others wait. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct item { int id; double price; const char *name; struct item *next; };
struct catalog { int count; struct item *items[8]; const char *title; };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

double lookup_price(const struct catalog *c, int idx)
{
    const struct item *it = c->items[idx];
    double total = it->price * 2;      /* items[idx] is NULL: crashes here */
    return total;
}

static double sum_prices(const struct catalog *c, int upto)
{
    double sum = 0;
    for (int i = 0; i <= upto; i++)
        sum += lookup_price(c, i);
    return sum;
}

static void *waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    pthread_cond_wait(&never, &lock);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void *sleeper(void *arg)
{
    (void)arg;
    for (;;)
        sleep(100);
    return NULL;
}

struct job { struct catalog *catalog; int upto; };

static void *worker(void *arg)
{
    struct job *job = arg;
    double result = sum_prices(job->catalog, job->upto);
    printf("%f\n", result);
    return NULL;
}

int main(int argc, char **argv)
{
    (void)argv;
    static struct item apple = { 1, 2.5, "apple", NULL };
    static struct item pear = { 2, 3.25, "pear", &apple };
    struct catalog cat = { 3, { &apple, &pear, NULL }, "fruit" };
    struct job job = { &cat, 2 + (argc > 5) };
    pthread_t threads[4];
    pthread_create(&threads[0], NULL, waiter, NULL);
    pthread_create(&threads[1], NULL, sleeper, NULL);
    pthread_create(&threads[2], NULL, waiter, NULL);
    usleep(100000);
    pthread_create(&threads[3], NULL, worker, &job);
    for (int i = 0; i < 4; i++)
        pthread_join(threads[i], NULL);
    return 0;
}
