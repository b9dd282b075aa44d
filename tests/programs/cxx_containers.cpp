// std::string and std::vector, which gdb shows through libstdc++'s pretty-printers.
#include <string>
#include <vector>

struct Item {
    int id;
    double weight;
};

volatile int *target;

__attribute__((noinline)) int inspect(const std::string &name, const std::vector<int> &counts) {
    *target = (int)name.size() + (int)counts.size();    // SIGSEGV: target is null
    return 0;
}

int main() {
    std::string empty;
    std::string small = "hello";
    std::string heap = "a string long enough to live on the heap, not in the object";
    std::string runs = std::string(30, 'x') + "end";
    std::string nul("ab\0cd", 5);
    std::string longer(300, 'q');
    longer[150] = 'Z';
    std::vector<int> none;
    std::vector<int> counts = {1, 2, 3};
    counts.reserve(8);
    std::vector<int> zeros(500, 0);
    std::vector<Item> items = {{1, 0.5}, {2, 1.5}};
    std::vector<std::string> words = {"one", "two"};
    std::vector<std::vector<int>> grid = {{1, 2}, {3}};
    return inspect(small, counts) + (int)(empty.size() + heap.size() + runs.size() + nul.size() + longer.size() +
                                          none.size() + zeros.size() + items.size() + words.size() + grid.size());
}
