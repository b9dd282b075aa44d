// C++ values gdb prints and drgn alone cannot read: references (lvalue and rvalue, to
// numbers and to classes), base classes (a vector's members live in its base).
#include <string>
#include <vector>

struct Shape {
    int sides = 4;
    virtual ~Shape() {}
    virtual int area(int &scale) = 0;
};
struct Named {
    double weight = 2.5;
};
struct Square : Shape, Named {
    int edge = 3;
    const char *label = "square";
    int area(int &scale) override;
};
struct Point {
    int x, y;
};
typedef int &IntRef;
enum class Raw : unsigned char {};
enum Dup { D_A = 1, D_B = 1, D_C = 2 };
static int grid[3] = {1, 2, 3};

__attribute__((noinline)) int Square::area(int &scale)
{
    int &alias = scale;
    const Point &corner = *reinterpret_cast<const Point *>(&edge);
    int &&temporary = 5;
    int *missing = nullptr;
    return alias + corner.x + temporary + *missing;
}

__attribute__((noinline)) int measure(Shape &shape, int &&factor, const std::string &title,
                                      std::vector<int> sizes)
{
    int total = factor + (int)title.size() + (int)sizes.size();
    return shape.area(total);
}

int main()
{
    Square square;
    std::string title = "hello";
    int (&row)[3] = grid;
    IntRef named = grid[1];
    int Point::*member = &Point::y;
    Raw raw = Raw(7);
    Dup dup = Dup(3);
    return measure(square, 42 + row[0] + named + (int)raw + dup + (member != nullptr), title, {1, 2, 3});
}
