/* A labelled set for deduplication: twelve bugs, each reached through three call paths
   (`dedup BUG PATH`), so that one bug's crashes differ in their outer frames and several
   bugs share callers. Built at -O0 and -O2 and run more than once (ASLR) by
   tests/bench/dedup_bench.py; a crash's label is its BUG. */
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
    default: raise_quit(); break;
    }
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
