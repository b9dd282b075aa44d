// An uncaught exception thrown through templates, a lambda and std::function.
#include <deque>
#include <functional>
#include <stdexcept>
#include <string>

namespace shop {
struct Order { int id; double price; const char *name; };

template <typename T> struct WorkQueue {
    std::deque<T> items;
    T pop()
    {
        if (items.empty())
            throw std::runtime_error("queue empty: no orders left");
        T t = items.front();
        items.pop_front();
        return t;
    }
};

int process(WorkQueue<Order> &queue, int rounds)
{
    int total = 0;
    std::function<void(int)> step = [&](int k) {
        Order o = queue.pop();
        total += o.id * k;
    };
    for (int i = 0; i < rounds; i++)
        step(i);
    return total;
}
}  // namespace shop

int main(int argc, char **)
{
    shop::WorkQueue<shop::Order> queue;
    queue.items.push_back({1, 2.5, "apple"});
    queue.items.push_back({2, 4.0, "pear"});
    return shop::process(queue, argc + 3);
}
