// Strings, vectors, smart pointers, maps and sets, which gdb shows through libstdc++'s
// pretty-printers.
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

struct Item {
    int id;
    double weight;
};

volatile int *target;

static void release(Item *item) { delete item; }

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
    std::unique_ptr<Item> owned(new Item{7, 2.5});
    std::unique_ptr<Item> nothing;
    std::unique_ptr<int[]> block(new int[3]{4, 5, 6});
    std::shared_ptr<Item> shared = std::make_shared<Item>(Item{8, 3.5});
    std::shared_ptr<Item> again = shared;
    std::weak_ptr<Item> weak = shared;
    std::shared_ptr<Item> unset;
    std::map<int, std::string> names = {{1, "one"}, {2, "two"}, {10, "ten"}};
    std::map<std::string, Item> by_name = {{"b", {2, 0.5}}, {"a", {1, 1.5}}};
    std::map<int, int> no_entries;
    std::set<int> primes = {7, 2, 5, 3, 11, 13, 17, 19, 23};
    std::multiset<int> twice = {4, 4, 1};
    std::unordered_map<int, std::string> hashed = {{1, "one"}, {2, "two"}};
    std::unordered_set<int> bag = {3, 4};
    std::unordered_map<int, int> no_hashes;
    std::list<int> chain = {1, 2, 3};
    std::list<int> no_links;
    std::optional<int> maybe = 5;
    std::optional<int> nope;
    std::deque<int> queue;
    for (int i = 0; i < 300; i++)
        queue.push_back(i % 7);
    queue.push_front(-1);
    std::vector<char> letters = {'a', 'b', '\n'};
    std::vector<unsigned char> octets = {1, 200};
    std::string ends_in_nul("abc\0", 4);
    std::map<int, int> wide;
    for (int i = 0; i < 150; i++)
        wide[i] = 2 * i;
    std::set<int> many;
    for (int i = 0; i < 250; i++)
        many.insert(i);
    std::unique_ptr<Item, void (*)(Item *)> custom(new Item{9, 0.25}, release);
    const std::vector<int> &view = zeros;
    std::unique_ptr<std::string> boxed(new std::string("boxed"));
    std::vector<int> exactly(200, 1);
    std::pair<int, std::string> couple = {4, "four"};
    std::vector<std::pair<int, int>> couples = {{1, 2}, {3, 4}};
    wchar_t wide_word[8] = L"hi";
    wchar_t wide_mixed[4] = L"\u4e2d\u00e9";
    wchar_t wide_run[20] = L"xxxxxxxxxxxxxxxyz";
    char16_t utf16[6] = u"ab";
    char32_t utf32[6] = U"ab";
    std::wstring wide_string = L"wide";
    std::u16string string16 = u"sixteen";
    const wchar_t *wide_pointer = L"pointer";
    std::map<int, int> hundred;
    for (int i = 0; i < 100; i++)
        hundred[i] = i;
    return inspect(small, counts) + (int)(empty.size() + heap.size() + runs.size() + nul.size() + longer.size() +
                                          none.size() + zeros.size() + items.size() + words.size() + grid.size() +
                                          owned->id + (nothing ? 1 : 0) + block[0] + again->id + weak.use_count() +
                                          (unset ? 1 : 0) + names.size() + by_name.size() + no_entries.size() +
                                          primes.size() + twice.size() + hashed.size() + bag.size() +
                                          no_hashes.size() + chain.size() + no_links.size() + *maybe +
                                          (nope ? 1 : 0) + queue.size() + letters.size() + octets.size() +
                                          ends_in_nul.size() + wide.size() + many.size() + custom->id + view.size() + boxed->size() + exactly.size() + hundred.size() +
                                          couple.first + couples.size() + wide_word[0] + wide_mixed[0] +
                                          wide_run[0] + utf16[0] + utf32[0] + wide_string.size() +
                                          string16.size() + wide_pointer[0]);
}
