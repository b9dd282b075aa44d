// Pointers to members, which drgn cannot read: a data member's, a method's, and the one in
// std::function's state (`_M_unused`); gdb prints all three.
#include <functional>
#include <cstdio>
struct Shape { int width; int height; int area() const { return width * height; } };
__attribute__((noinline)) void crash(int *p) { *p = 1; }
int main(int argc, char **argv) {
    Shape shape{3, 4};
    int Shape::*field = &Shape::height;
    int (Shape::*method)() const = &Shape::area;
    std::function<int(int)> twice = [](int x) { return 2 * x; };
    printf("%d %d %d\n", shape.*field, (shape.*method)(), twice(argc));
    crash(argc > 5 ? &shape.width : nullptr);
    return 0;
}
