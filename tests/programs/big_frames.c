/* A recursion whose frames are larger than a page, each writing its lowest byte first: the
   stack overflows with sp already moved below the stack's mapping, into the guard gap. */
static int descend(int depth)
{
    volatile char pad[4096 * 4];
    pad[0] = (char)depth;
    return descend(depth + 1) + pad[0];
}

int main(void)
{
    return descend(0);
}
