/* A shared library with globals, statics and a function static, read through the snapshot
   of a program that loads it (ask_shared.c). The program only calls its functions, so no
   copy of these globals lands in the executable. */
struct lib_config {
    const char *name;
    int level;
    double scale;
    struct lib_config *next;
};

struct lib_config lib_fallback = {"fallback", 1, 0.5, 0};
struct lib_config lib_config = {"primary", 3, 1.25, &lib_fallback};
int lib_counter = 7;
static int lib_hidden = 99;
const char *lib_names[3] = {"alpha", "beta", "gamma"};
unsigned short lib_ports[4] = {80, 443, 8080, 0};

int lib_bump(int by)
{
    static int calls;
    calls++;
    lib_counter += by;
    lib_config.level = calls;
    return calls + lib_hidden;
}
