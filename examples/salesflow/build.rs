fn main() {
    // Shared models go to migrations/, tenant models to migrations/tenant/.
    strata_build::Builder::new()
        .run()
        .expect("strata: generating migrations");
}
