/* Sample: an inventory service whose pricing thread follows a NULL product pointer
 * while the other workers wait for orders. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct product { int sku; const char *label; double unit_price; int stock; };
struct shelf { const char *aisle; int slots; struct product *products[6]; };

static pthread_mutex_t orders_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t orders_ready = PTHREAD_COND_INITIALIZER;
static int pending_orders;

static double price_of(const struct shelf *shelf, int slot, int quantity)
{
    const struct product *product = shelf->products[slot];
    double price = product->unit_price * quantity;   /* slot 3 is empty */
    return price;
}

static double restock_value(const struct shelf *shelf)
{
    double total = 0;
    for (int slot = 0; slot < shelf->slots; slot++)
        total += price_of(shelf, slot, 10);
    return total;
}

static void *order_worker(void *arg)
{
    long id = (long)arg;
    pthread_mutex_lock(&orders_lock);
    while (pending_orders == 0)
        pthread_cond_wait(&orders_ready, &orders_lock);
    pthread_mutex_unlock(&orders_lock);
    return (void *)id;
}

static void *pricing_worker(void *arg)
{
    struct shelf *shelf = arg;
    usleep(100000);
    printf("restock: %.2f\n", restock_value(shelf));
    return NULL;
}

int main(void)
{
    static struct product tea = { 1001, "green tea", 4.25, 40 };
    static struct product rice = { 1002, "jasmine rice", 2.10, 120 };
    static struct product soap = { 1003, "olive soap", 3.99, 16 };
    struct shelf shelf = { "B4", 4, { &tea, &rice, &soap, NULL } };
    pthread_t workers[4], pricing;
    for (long i = 0; i < 4; i++)
        pthread_create(&workers[i], NULL, order_worker, (void *)i);
    pthread_create(&pricing, NULL, pricing_worker, &shelf);
    pthread_join(pricing, NULL);
    return 0;
}
