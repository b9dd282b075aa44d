/* Three bugs, each reachable from two commands: `fingerprint BUG COMMAND`.
   BUG: field (NULL deref), checksum (divide by zero), copy (memcpy into NULL).
   COMMAND: import or sync, the callers above the crash region. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct field { const char *name; int *value; };
struct record { int count; struct field *fields; const char *payload; };

static int parse_field(const struct field *f) { return *f->value + (int)strlen(f->name); }

static int parse_record(const struct record *r)
{
    int total = 0;
    for (int i = 0; i < r->count; i++)
        total += parse_field(&r->fields[i]);
    return total * 3 + 1;
}

static int checksum(const struct record *r, volatile int parts) { return r->count / parts; }

static int verify(const struct record *r)
{
    int sum = checksum(r, r->count - 2);
    printf("checksum %d\n", sum);
    return sum;
}

static char copy_block(char *dst, const char *src, size_t n)
{
    memcpy(dst, src, n);
    return dst[n - 1];
}

static int store(const struct record *r)
{
    size_t n = strlen(r->payload) + 4096;
    char *source = calloc(1, n);
    strcpy(source, r->payload);
    int c = copy_block(NULL, source, n);
    free(source);
    return c;
}

static int load_file(const struct record *r, const char *bug)
{
    int result;
    if (!strcmp(bug, "field"))
        result = parse_record(r);
    else if (!strcmp(bug, "checksum"))
        result = verify(r);
    else
        result = store(r);
    printf("loaded %d\n", result);
    return result;
}

static int cmd_import(const struct record *r, const char *bug) { int n = load_file(r, bug); return n + 1; }
static int cmd_sync(const struct record *r, const char *bug) { int n = load_file(r, bug) * 2; return n - 1; }

int main(int argc, char **argv)
{
    static int one = 1;
    struct field fields[2] = { { "id", &one }, { "name", NULL } };
    struct record r = { 2, fields, "payload" };
    const char *bug = argc > 1 ? argv[1] : "field";
    int status = argc > 2 && !strcmp(argv[2], "sync") ? cmd_sync(&r, bug) : cmd_import(&r, bug);
    return status;
}
