fn main() {
    strata_build::Builder::new() // models in "src", files in "migrations"
        .run()
        .expect("strata: generating migrations");
}
