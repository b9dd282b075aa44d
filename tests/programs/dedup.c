/* A labelled set for deduplication: twenty-four bugs, each reached through three call paths
   (`dedup BUG PATH`), so that one bug's crashes differ in their outer frames and several
   bugs share callers. Bugs 0-11 sit in small leaf functions (at -O2 many are tail calls,
   gone from the stack); bugs 12-23 in functions with work left after the fault, some
   through a helper two bugs share (`die`), some of one class in different functions.
   Built at -O0 and -O2 and run more than once (ASLR) by tests/bench/dedup_bench.py; a
   crash's label is its BUG. */
#include <assert.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct order { int id; int qty; char *note; struct order *next; };
static volatile int sink;

__attribute__((noinline)) static int parse_header(const char *text) { return *(volatile const int *)(text + 8); }
__attribute__((noinline)) static int average(int total, int count) { return total / count; }
__attribute__((noinline)) static void validate(int qty) { if (qty < 0) abort(); }
__attribute__((noinline)) static void release(struct order *o) { free(o->note); free(o->note); }
__attribute__((noinline)) static void write_slot(int *slots, long index) { slots[index] = 7; }
__attribute__((noinline)) static int follow(struct order *o) { return o->next->next->qty; }
__attribute__((noinline)) static void copy_note(struct order *o, const char *text) { strcpy(o->note, text); }
__attribute__((noinline)) static void trap_here(void) { __builtin_trap(); }
__attribute__((noinline)) static void call_handler(void (*handler)(void)) { handler(); }
__attribute__((noinline)) static int recurse(int depth) { volatile char pad[256]; pad[0] = (char)depth; return recurse(depth + 1) + pad[0]; }
__attribute__((noinline)) static void overflow_heap(struct order *o) {
    char *volatile next = malloc(16);
    memset(o->note, 'x', 40);          /* past the note into the next chunk's size */
    free(next);
}
__attribute__((noinline)) static void raise_quit(void) { raise(SIGQUIT); }

struct ops { int (*run)(int); int weight; };
__attribute__((noinline)) static void die(const char *why) { fprintf(stderr, "fatal: %s\n", why); abort(); }
__attribute__((noinline)) static int check_invariant(int count) { assert(count > 0); return count * 2; }
__attribute__((noinline)) static int dispatch(struct ops *o, int x) { int r = o->run(x); return r + o->weight; }
__attribute__((noinline)) static int read_released(int n) {
    int *big = malloc(1 << 22);        /* mmapped: unmapped again by free */
    big[n] = n;
    free(big);
    int v = big[n];
    return v + n;
}
__attribute__((noinline)) static int poke_literal(int n) { const char *s = "constant"; *(volatile char *)(s + n) = 'x'; return s[0] + n; }
__attribute__((noinline)) static int percent(int part, int whole) { int p = part * 100 / whole; sink = p; return p + 1; }
__attribute__((noinline)) static int fill(volatile int *cells, int count) {
    int sum = 0;
    for (int i = 0; i < count; i++) { cells[i] = i; sum += cells[i]; }
    return sum + 1;
}
__attribute__((noinline)) static int load_config(const char *name) { if (!name || !*name) die("no config"); return (int)strlen(name) + 1; }
__attribute__((noinline)) static int open_journal(int fd) { if (fd < 0) die("journal closed"); return fd + 1; }
__attribute__((noinline)) static int drop_list(struct order *head) {
    int n = 0;
    for (struct order *o = head; o; o = o->next) { free(o->note); n++; }
    free(head->note);                  /* freed in the loop already */
    return n + 1;
}
__attribute__((noinline)) static int pong(int depth);
__attribute__((noinline)) static int ping(int depth) { volatile char pad[128]; pad[0] = (char)depth; return pong(depth + 1) + pad[0]; }
__attribute__((noinline)) static int pong(int depth) { volatile char pad[128]; pad[0] = (char)depth; return ping(depth + 1) + pad[0]; }
__attribute__((noinline)) static int release_inside(int n) { char *block = malloc(32); free(block + 8); return block[0] + n; }
__attribute__((noinline)) static int wild_read(long tag) { int *p = (int *)(0x4141414141414141L + tag); int v = *p; return v + 1; }

static void bug(int which)
{
    struct order *o = calloc(1, sizeof *o);
    o->note = malloc(16);
    switch (which) {
    case 0: sink = parse_header(NULL); break;
    case 1: sink = average(10, o->qty); break;
    case 2: validate(-1); break;
    case 3: release(o); break;
    case 4: write_slot(NULL, 1 << 20); break;
    case 5: sink = follow(o); break;
    case 6: o->note = NULL; copy_note(o, "payload"); break;
    case 7: trap_here(); break;
    case 8: call_handler((void (*)(void))(long)0x10); break;
    case 9: sink = recurse(0); break;
    case 10: overflow_heap(o); break;
    case 11: raise_quit(); break;
    case 12: sink = check_invariant(o->qty); break;
    case 13: { struct ops ops = { NULL, 1 }; sink = dispatch(&ops, 3); break; }
    case 14: sink = read_released(o->qty); break;
    case 15: sink = poke_literal(o->qty); break;
    case 16: sink = percent(3, o->qty); break;
    case 17: sink = fill(NULL, 4); break;
    case 18: sink = load_config(""); break;
    case 19: sink = open_journal(-1); break;
    case 20: sink = drop_list(o); break;
    case 21: sink = ping(0); break;
    case 22: sink = release_inside(3); break;
    default: sink = wild_read(o->qty); break;
    }
    sink += o->qty;
}

/* three ways in: from the request loop, from a worker thread, from the shutdown path */
__attribute__((noinline)) static void handle_request(int which) { bug(which); sink++; }
__attribute__((noinline)) static void shutdown_hooks(int which) { sink++; bug(which); }
static int chosen;
static void *worker(void *arg) { (void)arg; handle_request(chosen); return NULL; }

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    chosen = atoi(argv[1]);
    switch (atoi(argv[2])) {
    case 0: handle_request(chosen); break;
    case 1: { pthread_t t; pthread_create(&t, NULL, worker, NULL); pthread_join(t, NULL); break; }
    default: shutdown_hooks(chosen); break;
    }
    return 0;
}
