// Pointers to members held in registers at -O2 (a data member's in one register, a method's
// in two pieces), and one that is nowhere once its last use is behind the crash.
struct Shape { int width; int height; int area() const { return width * height; } };
__attribute__((noinline)) int use(Shape *s, int Shape::*field, int (Shape::*method)() const) {
    int a = s->*field;
    *(volatile int *)(long)(a - 4) = a;       // a is 4: a write to address 0
    return a + (s->*method)();
}
int main(int argc, char **argv) {
    Shape shape{3, 4};
    return use(&shape, argc > 3 ? &Shape::width : &Shape::height, &Shape::area);
}
