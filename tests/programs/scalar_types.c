/* Scalars gdb spells in its own way: long double, flag enums (and enums that are not). */
#include <stdio.h>

enum color { RED, GREEN = 5, BLUE = 10 };
enum flags { F_NONE = 0, F_A = 1, F_B = 2, F_C = 4 };
enum bits { B_LOW = 1, B_HIGH = 16 };

__attribute__((noinline)) int inspect(long double scale, enum flags mode)
{
    long double tenth = 0.1L;
    long double tiny = -2.75e-300L;
    long double huge = 1.0e4000L;
    enum flags both = F_A | F_C;
    enum flags stray = (enum flags)(F_B | 8);
    enum bits none = (enum bits)0;
    enum color shade = BLUE;
    enum color odd = (enum color)7;
    float quiet = __builtin_nanf("");
    double negative = -__builtin_nan("");
    volatile int *nowhere = (int *)0;
    printf("%d\n", (int)(tenth + tiny + huge + quiet + negative) + both + stray + none + shade + odd);
    return *nowhere + (int)scale + mode;
}

int main(void)
{
    return inspect(1.5L, F_B);
}
