/* Sample: a recursive-descent parser meets input nested too deeply and overflows its stack. */
#include <stdio.h>
#include <string.h>

struct parser { const char *text; size_t pos; int depth; };

static int parse_value(struct parser *p);

static int parse_list(struct parser *p)
{
    char context[48];
    snprintf(context, sizeof context, "list at %zu depth %d", p->pos, p->depth);
    p->depth++;
    p->pos++;                       /* the '[' */
    return parse_value(p) + (int)strlen(context);
}

static int parse_value(struct parser *p)
{
    if (p->text[p->pos % 2] == '[')  /* "[[" forever: the input never closes */
        return parse_list(p);
    return 0;
}

int main(void)
{
    struct parser p = { "[[", 0, 0 };
    return parse_value(&p);
}
