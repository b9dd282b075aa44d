/* A program to question with print, ptype and x: structs, unions, bit-fields, arrays of
   structs, a linked list and a tree, enums, globals and statics, function pointers, char
   and wide strings. It crashes in `inspect`, with everything above in reach. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

enum color { RED, GREEN = 5, BLUE };
enum perms { P_READ = 1, P_WRITE = 2, P_EXEC = 4 };

struct point { int x, y; };
struct rect { struct point corner; struct point size; const char *label; };

union number { int i; float f; unsigned char bytes[4]; };

struct flags {
    unsigned ready : 1;
    unsigned mode : 3;
    signed level : 4;
    unsigned long big : 40;
};

struct node {
    int value;
    struct node *next;
};

struct tree {
    int key;
    struct tree *left, *right;
};

typedef int (*binary_op)(int, int);
typedef struct point point_t;

struct account {
    char owner[16];
    long balance;
    enum color tier;
    enum perms perms;
    double rate;
    struct flags flags;
    union number code;
    binary_op fee;
    int history[6];
};

int add(int a, int b) { return a + b; }
int mul(int a, int b) { return a * b; }

int counter = 42;
static double ratio = 2.5;
const char *greeting = "hello, world";
const wchar_t *wide = L"wide \u00e9t\u00e9";
char buffer[32] = "buffered";
short shorts[5] = {1, -2, 3, -4, 5};
unsigned char bytes[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff};
long zeros[20];
struct point origin = {0, 0};
struct rect box = {{1, 2}, {30, 40}, "box"};
binary_op ops[2] = {add, mul};
enum color favourite = BLUE;
float single = 1.25f;
double precise = 3.141592653589793;
long double extended = 1.5L;
uint8_t small = 200;
int64_t large = -1234567890123LL;
_Bool yes = 1;
struct node list[4];
struct tree nodes[7];
struct account accounts[3] = {
    {"alice", 1200, RED, P_READ | P_WRITE, 0.05, {1, 5, -3, 123456789}, {.i = 65}, add, {1, 2, 3, 4, 5, 6}},
    {"bob", -50, GREEN, P_EXEC, 0.0, {0, 2, 7, 1}, {.f = 1.5f}, mul, {0}},
    {"carol the great", 0, 7, 0, 1e-9, {0}, {.bytes = {1, 2, 3, 4}}, 0, {9, 9, 9, 9, 9, 9}},
};
struct account *current = &accounts[1];
struct tree *root;
int matrix[2][3] = {{1, 2, 3}, {4, 5, 6}};
int *nowhere;

__attribute__((noinline)) static int depth(struct tree *t)
{
    if (!t)
        return 0;
    int l = depth(t->left), r = depth(t->right);
    return 1 + (l > r ? l : r);
}

__attribute__((noinline)) int inspect(struct account *acct, struct node *head, int limit, const char *why)
{
    static int calls;
    calls++;
    struct point local = {limit, -limit};
    point_t copy = local;
    union number n = {.f = -0.5f};
    char word[8] = "xyz";
    int total = 0;
    for (struct node *p = head; p; p = p->next)
        total += p->value;
    int *bad = nowhere;
    volatile int sink = total + copy.x + n.i + word[0] + depth(root) + (why != 0);
    return sink + *bad + acct->history[limit];
}

int main(int argc, char **argv)
{
    for (int i = 0; i < 4; i++) {
        list[i].value = (i + 1) * 10;
        list[i].next = i < 3 ? &list[i + 1] : 0;
    }
    for (int i = 0; i < 7; i++) {
        nodes[i].key = i * 100;
        nodes[i].left = 2 * i + 1 < 7 ? &nodes[2 * i + 1] : 0;
        nodes[i].right = 2 * i + 2 < 7 ? &nodes[2 * i + 2] : 0;
    }
    root = &nodes[0];
    (void)argv;
    return inspect(current, list, argc, "reason");
}
