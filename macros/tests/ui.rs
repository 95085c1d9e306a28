//! Every misuse of `#[schema]` and `#[column]` is a compile error on the user's own tokens.

#[test]
fn bad_attributes_fail_on_the_right_span() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
