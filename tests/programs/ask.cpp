// A C++ program to question with print and ptype: classes with bases and virtual
// functions, templates, namespaces, scoped and unscoped enums, references, static members,
// pointers to members, char16_t and char32_t strings. It crashes in shop::Register::ring.
#include <cstdint>
#include <cstring>

namespace shop {

enum Kind { K_FOOD, K_TOOL = 4, K_TOY };
enum class Color : unsigned char { Red = 1, Green = 2, Blue = 4 };

struct Money {
    long cents;
    short currency;
};

class Item {
  public:
    Item(const char *name, long cents) : price{cents, 978}, kind(K_FOOD) { std::strncpy(this->name, name, 15); }
    virtual ~Item() {}
    virtual long total(int count) const { return price.cents * count; }
    static int created;
    char name[16];
    Money price;
    Kind kind;
};

int Item::created = 3;

class Tool : public Item {
  public:
    Tool(const char *name, long cents, int weight) : Item(name, cents), weight(weight), color(Color::Blue) { kind = K_TOOL; }
    long total(int count) const override { return Item::total(count) + weight; }
    int weight;
    Color color;
};

template <typename T, int N>
struct Shelf {
    T slots[N];
    int used;
    T &at(int i) { return slots[i]; }
};

struct Base1 { int b1 = 11; virtual ~Base1() {} };
struct Base2 { int b2 = 22; };
struct Both : Base1, Base2 { int both = 33; };

class Register {
  public:
    explicit Register(Item *first) : last(first), count(0) {}
    long ring(Item &item, const Tool *tool, int quantity);
    Item *last;
    int count;
    long Money::*field = &Money::cents;
    long (Register::*action)(Item &, const Tool *, int) = &Register::ring;
    long (Register::*unset)(Item &, const Tool *, int) = nullptr;
};

int (*hook)(int) = nullptr;
Shelf<int, 4> numbers = {{1, 2, 3, 4}, 4};
Shelf<Money, 2> wallets = {{{100, 1}, {250, 2}}, 2};
const char16_t *label16 = u"caf\u00e9";
const char32_t *label32 = U"\u4e2d\u6587";
Color paint = Color::Green;
Kind kind = K_TOY;
Both both;

long Register::ring(Item &item, const Tool *tool, int quantity)
{
    Item &alias = item;
    const Money &money = item.price;
    Shelf<int, 4> &shelf = numbers;
    Base2 *second = &both;
    count += quantity;
    last = &item;
    long sum = alias.total(quantity) + money.cents + shelf.at(1) + second->b2;
    if (tool->weight > 100)
        return sum;
    int *nowhere = hook ? nullptr : reinterpret_cast<int *>(0);
    return sum + *nowhere;
}

}  // namespace shop

int main()
{
    shop::Item apple("apple", 120);
    shop::Tool hammer("hammer", 1500, 7);
    shop::Register till(&apple);
    return static_cast<int>(till.ring(hammer, &hammer, 2));
}
