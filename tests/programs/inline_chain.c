/* -O2 folds these helpers into one physical frame; gdb shows them as inline frames. */
#include <stdlib.h>

struct node { int value; struct node *left, *right; };

static inline int leaf_value(const struct node *n) { return n->left->value; }
static inline int weigh(const struct node *n, int scale) { return leaf_value(n) * scale; }

__attribute__((noinline)) int measure(const struct node *n, int scale)
{
    return weigh(n, scale) + 1;
}

int main(int argc, char **argv)
{
    (void)argv;
    struct node *root = calloc(1, sizeof *root);
    root->value = argc;
    return measure(root, argc + 1);
}
