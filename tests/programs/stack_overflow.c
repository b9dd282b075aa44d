/* Unbounded recursion overflows the stack. */
#include <stdio.h>
#include <string.h>

static int descend(int depth, const char *tag)
{
    char buffer[64];
    snprintf(buffer, sizeof buffer, "%s-%d", tag, depth);
    return descend(depth + 1, tag) + (int)strlen(buffer);
}

int main(void)
{
    return descend(0, "level");
}
