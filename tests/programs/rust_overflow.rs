// Unbounded recursion: Rust's guard page handler reports the overflow and aborts.
use std::hint::black_box;

#[inline(never)]
fn descend(depth: u64) -> u64 {
    let frame = black_box([depth; 64]);
    let below = descend(black_box(depth + 1));
    black_box(below) + frame[(depth % 64) as usize]
}

fn main() {
    std::process::exit(descend(std::env::args().count() as u64) as i32);
}
