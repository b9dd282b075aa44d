// The library crate: the bad index is found here, inlined std code around it.
pub struct Order {
    pub id: u64,
    pub slot: usize,
    pub amount: i64,
}

pub struct Ledger {
    pub balances: Vec<i64>,
}

#[inline(never)]
pub fn ledger_apply(ledger: &mut Ledger, o: &Order) -> i64 {
    ledger.balances[o.slot] += o.amount;
    ledger.balances[o.slot]
}
