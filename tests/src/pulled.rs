//! A crate of pulled models, compiled as a user's crate would be.

/// `cargo check` of a crate at `dir` whose `src/lib.rs` declares the
/// pulled `models`, with this workspace's crates and lock file, in a
/// target directory shared by every run.
pub fn compiles(dir: &std::path::Path) {
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let workspace = workspace.canonicalize().unwrap();
    // A name of its own: cargo gives path packages of one name and version
    // the same build-script directory in a shared target directory, so two
    // pulled crates checked at once would run each other's build script.
    let name: String = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"pulled_{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[workspace]\n\n\
             [dependencies]\nstrata = {{ package = \"strata-pg\", path = {:?} }}\n\n\
             [build-dependencies]\nstrata-build = {{ path = {:?} }}\n",
            workspace.join("runtime").display().to_string(),
            workspace.join("build-support").display().to_string(),
        ),
    )
    .unwrap();
    std::fs::write(dir.join("src/lib.rs"), "pub mod models;\n").unwrap();
    std::fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"))
        .join("pulled-check");
    let output =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["check", "--quiet", "--manifest-path"])
            .arg(dir.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", target)
            .env("STRATA_FROZEN", "1")
            .output()
            .expect("cargo runs");
    assert!(
        output.status.success(),
        "the pulled models do not compile:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
