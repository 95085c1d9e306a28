//! The guide's blocks embed migrations (`strata::embed_migrations!()`), so
//! that they compile as doc tests of this crate: an empty crate's, written
//! into `OUT_DIR` as a service's build script writes its own.

fn main() {
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let krate = out.join("guide-crate");
    std::fs::create_dir_all(krate.join("src")).expect("a scratch crate in OUT_DIR");
    strata_build::Builder::new()
        .crate_dir(&krate)
        .out_dir(&out)
        .frozen(false)
        .report();
    println!("cargo:rerun-if-changed=build.rs");
}
