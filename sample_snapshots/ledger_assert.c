/* Sample: a ledger whose invariant check fails. */
#include <assert.h>
#include <stdio.h>

struct entry { const char *memo; long cents; };
struct ledger { const char *owner; long balance; int count; struct entry entries[4]; };

static void post(struct ledger *ledger, const char *memo, long cents)
{
    ledger->entries[ledger->count++] = (struct entry){ memo, cents };
    ledger->balance += cents;
    assert(ledger->balance >= 0 && "ledger balance went negative");
}

int main(void)
{
    struct ledger ledger = { "acme", 0, 0, { { 0 } } };
    post(&ledger, "opening deposit", 5000);
    post(&ledger, "rent", -3500);
    post(&ledger, "equipment", -2500);
    printf("%ld\n", ledger.balance);
    return 0;
}
