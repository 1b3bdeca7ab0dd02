// One lint clippy denies under `-D warnings` (`clippy::len_zero`), nothing else.
fn main() {
    let letters = ['a'];
    if letters.len() == 0 {
        println!("none");
    }
}
