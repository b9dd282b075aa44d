/* One program, one crash class per mode: `classes MODE`. Built several ways by the tests. */
#define _GNU_SOURCE
#include <assert.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct record { long id; double weight; struct record *next; void (*handler)(struct record *); };

static long read_weight(const struct record *r) { return (long)r->weight + r->id; }
static void write_weight(struct record *r, double w) { r->weight = w; }
struct callback { void (*fn)(struct callback *); long data; };
static void report(struct callback *c) { printf("%ld\n", c->data); }

static int depth_charge(int n)
{
    volatile char pad[256];
    pad[0] = (char)n;
    return depth_charge(n + 1) + pad[0];
}

static int divide(volatile int a, volatile int b) { return a / b; }

__attribute__((noinline)) static long sum_inside(size_t *inside)
{
    const struct record *none = (const struct record *)inside[0];    /* 0: a null read here */
    return (long)none->weight + (long)inside[1];
}

static void fill(char *dst, const char *src) { strcpy(dst, src); }

static pthread_mutex_t first = PTHREAD_MUTEX_INITIALIZER, second = PTHREAD_MUTEX_INITIALIZER;

static void *lock_in_order(void *arg)
{
    int reverse = arg != NULL;
    pthread_mutex_lock(reverse ? &second : &first);
    usleep(100000);
    pthread_mutex_lock(reverse ? &first : &second);
    return NULL;
}

static void smash(const char *text)
{
    char small[8];
    strcpy(small, text);        /* -fstack-protector-all: the canary dies */
    puts(small);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "null-read";
    struct record *nothing = NULL;
    if (!strcmp(mode, "null-read"))
        return (int)read_weight(nothing);
    if (!strcmp(mode, "null-write"))
        write_weight(nothing, 1.5);
    if (!strcmp(mode, "wild")) {            /* non-canonical: the kernel reports SI_KERNEL at 0 */
        struct record *wild = (struct record *)0x4141414141414141ul;
        return (int)read_weight(wild);
    }
    if (!strcmp(mode, "unmapped")) {
        struct record *gone = (struct record *)0x100000000000ul;
        write_weight(gone, 2.5);
    }
    if (!strcmp(mode, "exec")) {
        struct record r = { 7, 1.0, NULL, (void (*)(struct record *))0x1234000ul };
        r.handler(&r);
    }
    if (!strcmp(mode, "readonly")) {
        char *text = (char *)"constant";
        text[0] = 'C';
    }
    if (!strcmp(mode, "overflow"))
        return depth_charge(0);
    if (!strcmp(mode, "assert")) {
        long balance = argc - 10;
        assert(balance >= 0 && "balance must not go negative");
    }
    if (!strcmp(mode, "abort"))
        abort();
    if (!strcmp(mode, "double-free")) {
        char *p = malloc(40);
        free(p);
        free(p);
    }
    if (!strcmp(mode, "invalid-free")) {
        char *p = malloc(64);
        free(p + 8);                /* not a pointer malloc returned */
    }
    if (!strcmp(mode, "heap-corruption")) {
        char *p = malloc(24);
        memset(p, 0xff, 64);        /* runs over the top chunk's size */
        free(malloc(1 << 16));
    }
    if (!strcmp(mode, "smash"))
        smash("this text is far longer than eight bytes");
    if (!strcmp(mode, "fortify")) {
        char target[8];
        fill(target, argc > 5 ? argv[1] : "more than eight bytes of text");
        puts(target);
    }
    if (!strcmp(mode, "divide"))
        return divide(10, argc - 2);
    if (!strcmp(mode, "illegal"))
        __builtin_trap();
    if (!strcmp(mode, "breakpoint"))
        __asm__ volatile("int3");
    if (!strcmp(mode, "bus")) {
        char path[] = "/tmp/hydra-bus-XXXXXX";
        int fd = mkstemp(path);
        unlink(path);
        char *mapped = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        mapped[16] = 1;             /* past the end of the (empty) file */
    }
    if (!strcmp(mode, "use-after-free")) {
        struct callback *c = malloc(sizeof *c);
        c->fn = report; c->data = 1;
        free(c);
        c->fn(c);                   /* the freed chunk's first word now belongs to malloc */
    }
    if (!strcmp(mode, "deadlock")) {
        pthread_t a, b;
        pthread_create(&a, NULL, lock_in_order, NULL);
        pthread_create(&b, NULL, lock_in_order, (void *)1);
        sleep(1);
        abort();                    /* a watchdog gives up on the two stuck threads */
    }
    if (!strcmp(mode, "killed")) {          /* another process sends SIGSEGV: no fault here */
        pid_t parent = getpid();
        if (fork() == 0) {
            usleep(100000);
            kill(parent, SIGSEGV);
            _exit(0);
        }
        for (;;)
            pause();
    }
    if (!strcmp(mode, "heap-overflow")) {   /* a copy runs past its buffer into the next chunk */
        char *p = malloc(2000);
        char *guard = malloc(2000);
        memset(p, 'A', 2000 + 16);
        free(p);
        free(guard);
    }
    if (!strcmp(mode, "misaligned")) {      /* alignment checking on: a misaligned load is SIGBUS */
        static char buffer[16] __attribute__((aligned(16)));
        __asm__ volatile("pushf\n\torl $0x40000, (%%rsp)\n\tpopf" ::: "memory", "cc");
        return *(volatile int *)(buffer + argc);
    }
    if (!strcmp(mode, "quit"))
        raise(SIGQUIT);
    if (!strcmp(mode, "exec-stack")) {      /* code on the (non-executable) stack */
        unsigned char code[16] = {0xc3};
        ((void (*)(void))(void *)code)();
    }
    if (!strcmp(mode, "wild-call")) {       /* a call through a register holding a poisoned pointer */
        void (*volatile poisoned)(void) = (void (*)(void))0x4141414141414141ul;
        poisoned();
    }
    if (!strcmp(mode, "inside-block")) {    /* a pointer into a large block in use, among
                                               words that look like a free chunk's header */
        size_t *block = malloc(60000);
        memset(block, 0, 60000);
        block[1001] = 0x40;                 /* a "size" of 64, its previous chunk "free" */
        block[1009] = 0x20;                 /* the "next" chunk's size, not PREV_INUSE: "free" */
        return (int)sum_inside(block + 1002);
    }
    if (!strcmp(mode, "tainted-call") || !strcmp(mode, "tainted-store")) {
        /* an index from the input picks a pointer out of a table, far past its end: the
           pointer is called through, or stored through */
        static void (*handlers[4])(struct record *);
        static long *slots[4];
        long index = strtol(argc > 2 ? argv[2] : "2000000000", NULL, 0) + argc;
        if (!strcmp(mode, "tainted-call"))
            handlers[index](nothing);
        else
            *slots[index] = 7;
    }
    if (!strcmp(mode, "exec-heap")) {       /* code in a malloc'ed block: the heap is not executable */
        unsigned char *code = malloc(64);
        code[0] = 0xc3;
        ((void (*)(void))(void *)code)();
    }
    if (!strcmp(mode, "sys"))               /* what a seccomp filter sends for a forbidden call */
        raise(SIGSYS);
    if (!strcmp(mode, "raised-segv"))       /* the program's own SIGSEGV: no access to blame */
        raise(SIGSEGV);
    if (!strcmp(mode, "cpu-time"))          /* as the kernel sends it past RLIMIT_CPU (a core over
                                               RLIMIT_FSIZE would be cut to that size too) */
        raise(SIGXCPU);
    /* the instructions that fault, each as a compiler emits it for a call or a jump through
       a table, or a return */
    if (!strcmp(mode, "null-call")) {
        void (*volatile none)(void) = 0;
        none();
    }
    if (!strcmp(mode, "call-through-null"))
        __asm__ volatile("xor %%eax, %%eax\n\tcall *8(%%rax)" ::: "rax", "memory");
    if (!strcmp(mode, "call-through-unmapped"))
        __asm__ volatile("movabs $0x100000000000, %%rax\n\tcall *8(%%rax)" ::: "rax", "memory");
    if (!strcmp(mode, "jump-through-null"))
        __asm__ volatile("xor %%eax, %%eax\n\tjmp *16(%%rax)" ::: "rax", "memory");
    if (!strcmp(mode, "jump-through-unmapped"))
        __asm__ volatile("movabs $0x100000000000, %%rax\n\tjmp *16(%%rax)" ::: "rax", "memory");
    if (!strcmp(mode, "bad-return"))
        __asm__ volatile("movabs $0x100000000000, %%rsp\n\tret" ::: "memory");
    if (!strcmp(mode, "memcpy-null")) {
        char source[64] = "payload";
        memcpy(nothing, source, sizeof source - 8 + (size_t)argc);   /* a size known at run time: a libc call */
    }
    return 0;
}
