//! geldspur binary
fn main() {}
