// The program's crate: its third order's slot is past the ledger's end, so the library panics.
use ledger::{ledger_apply, Ledger, Order};

#[inline(never)]
fn replay(ledger: &mut Ledger, orders: &[Order]) -> i64 {
    let mut total = 0;
    for order in orders {
        total += ledger_apply(ledger, order);
    }
    total
}

fn main() {
    let mut ledger = Ledger { balances: vec![0; 4] };
    // from the command line's length, so the compiler cannot see the bad slot coming
    let extra = std::env::args().count();
    let orders: Vec<Order> = (0..3)
        .map(|i| Order { id: 524 + i as u64, slot: i * 3 + extra, amount: 10 })
        .collect();
    std::process::exit(replay(&mut ledger, &orders) as i32);
}
