// Rust enums (DW_TAG_variant_part): a tuple variant, a struct variant, a unit variant and
// Option, as arguments and locals; the division by zero panics (panic=abort: SIGABRT).
enum Shape {
    Circle(f64),
    Rect { w: u32, h: u32 },
    Empty,
}

#[inline(never)]
fn area(s: &Shape, scale: Option<u32>, name: &str) -> u32 {
    let factor = scale.unwrap_or(1);
    let extra: Option<u32> = None;
    match s {
        // the command line's length makes the divisor 0 where the compiler cannot see it
        Shape::Rect { w, h } => w * h * factor / (factor - std::env::args().count() as u32)
            + extra.unwrap_or(0) + name.len() as u32,
        Shape::Circle(r) => *r as u32,
        Shape::Empty => 0,
    }
}

fn main() {
    let shapes = vec![Shape::Circle(1.5), Shape::Rect { w: 3, h: 4 }, Shape::Empty];
    let total: u32 = shapes.iter().map(|s| area(s, Some(1), "box")).sum();
    std::process::exit(total as i32);
}
