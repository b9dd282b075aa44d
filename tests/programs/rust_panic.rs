// A Rust program that panics (and, built with panic=abort, dies of SIGABRT): its functions
// sit in namespace DIEs, and the standard library's are inlined into each other.
struct Inventory {
    counts: Vec<u32>,
}

impl Inventory {
    #[inline(never)]
    fn count(&self, slot: usize) -> u32 {
        self.counts[slot]
    }
}

#[inline(never)]
fn report(inventory: &Inventory, slots: &[usize]) -> u32 {
    slots.iter().map(|&slot| inventory.count(slot)).sum()
}

fn main() {
    let inventory = Inventory { counts: vec![4, 5, 6] };
    // from the command line's length, so the compiler cannot see the bad index coming
    let slots = vec![0, 2, 8 + std::env::args().count()];
    std::process::exit(report(&inventory, &slots) as i32);
}
