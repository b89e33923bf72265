//! Misuse of the derives is a compile error at the attribute or field at
//! fault; the expected messages are in `ui/*.stderr`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
