/* An assertion fails three calls deep. */
#include <assert.h>
#include <stdio.h>

struct account { const char *owner; long balance; };

static void withdraw(struct account *acct, long amount)
{
    long remaining = acct->balance - amount;
    assert(remaining >= 0 && "balance must not go negative");
    acct->balance = remaining;
}

static void pay(struct account *acct, const long *bills, int n)
{
    for (int i = 0; i < n; i++)
        withdraw(acct, bills[i]);
}

int main(void)
{
    struct account acct = { "alice", 100 };
    long bills[] = { 30, 50, 40 };
    pay(&acct, bills, 3);
    printf("%ld\n", acct.balance);
    return 0;
}
