//! The file `embed_migrations!()` includes: the manifest and every migration, by absolute path.

use std::fmt::Write;
use std::path::Path;

use strata_manifest::Manifest;

use crate::builder::write_atomically;
use crate::error::{io, Error};

/// The file `embed_migrations!()` includes, inside `OUT_DIR`.
pub(crate) const EMBED_FILE: &str = "strata_migrations.rs";

/// The file `embed_tenant_migrations!()` includes, inside `OUT_DIR`.
pub(crate) const EMBED_TENANT_FILE: &str = "strata_tenant_migrations.rs";

/// Writes `out/<file>`, an expression of type `strata::Migrations`
/// that includes the files with `include_str!`, so that editing one rebuilds the crate.
pub(crate) fn write_embedded(
    out: &Path,
    file_name: &str,
    migrations_dir: &Path,
    manifest: &Manifest,
) -> Result<(), Error> {
    let dir = std::fs::canonicalize(migrations_dir).unwrap_or_else(|_| migrations_dir.to_owned());
    let mut code = String::from("::strata::Migrations::__embedded(\n");
    if manifest.migrations.is_empty() && !dir.join("manifest.json").is_file() {
        code.push_str("    \"\",\n    &[],\n");
    } else {
        let _ = writeln!(
            code,
            "    ::core::include_str!({:?}),\n    &[",
            dir.join("manifest.json").display().to_string()
        );
        let files = manifest
            .migrations
            .iter()
            .flat_map(|entry| std::iter::once(&entry.file).chain(entry.down_file.as_ref()));
        for file in files {
            let _ = writeln!(
                code,
                "        ({:?}, ::core::include_str!({:?})),",
                file,
                dir.join(file).display().to_string()
            );
        }
        code.push_str("    ],\n");
    }
    code.push_str(")\n");
    std::fs::create_dir_all(out).map_err(io(out))?;
    let path = out.join(file_name);
    if std::fs::read_to_string(&path).ok().as_deref() == Some(code.as_str()) {
        return Ok(());
    }
    write_atomically(&path, &code)
}

/// Writes `out/<file>` as a compile error carrying `why`, so that
/// `embed_migrations!()` fails the crate's build when the build script could
/// not write its migrations (the compiler shows the models' own errors too).
pub(crate) fn write_failure(out: &Path, file_name: &str, why: &str) -> Result<(), Error> {
    let code = format!(
        "{{ ::core::compile_error!({why:?}); ::strata::Migrations::__embedded(\"\", &[]) }}\n"
    );
    std::fs::create_dir_all(out).map_err(io(out))?;
    write_atomically(&out.join(file_name), &code)
}
