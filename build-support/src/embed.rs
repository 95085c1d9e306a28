//! The file `embed_migrations!()` includes: the manifest and every migration, by absolute path.

use std::fmt::Write;
use std::path::Path;

use strata_manifest::{checksum, Manifest};

use crate::builder::write_atomically;
use crate::error::{io, Error};

/// The file `embed_migrations!()` includes, inside `OUT_DIR`.
pub(crate) const EMBED_FILE: &str = "strata_migrations.rs";

/// The file `embed_tenant_migrations!()` includes, inside `OUT_DIR`.
pub(crate) const EMBED_TENANT_FILE: &str = "strata_tenant_migrations.rs";

/// Writes `out/<file>`, an expression of type `strata::EmbeddedData` that
/// includes the files with `include_str!`, so that editing one rebuilds the crate.
pub(crate) fn write_embedded(
    out: &Path,
    file_name: &str,
    migrations_dir: &Path,
    manifest: &Manifest,
) -> Result<(), Error> {
    let dir = std::fs::canonicalize(migrations_dir).unwrap_or_else(|_| migrations_dir.to_owned());
    let manifest_path = dir.join("manifest.json");
    // Data alone, of the runtime's type `strata::EmbeddedData`, which
    // `embed_migrations!()` hands to the runtime: no name of the runtime's
    // is written here, and the compiler checks the shape.
    let mut code = String::new();
    if manifest.migrations.is_empty() && !manifest_path.is_file() {
        code.push_str("(\"\", None, &[])\n");
        return write_if_changed(out, &out.join(file_name), &code);
    }
    // What a start-up reads first is computed here, once, from the very
    // bytes `include_str!` embeds, so that a start-up with nothing to do
    // never parses or hashes the whole manifest (tens of MiB at 11,000
    // tables); a change to any of these files runs this script again.
    let text = std::fs::read_to_string(&manifest_path).map_err(io(&manifest_path))?;
    let prepared = Manifest::prepare(&text).map_err(|cause| Error::Manifest {
        path: manifest_path.clone(),
        cause,
    })?;
    // The state alone, compact, in a file of its own beside this one.
    let state_path = out.join(file_name.replace(".rs", "_state.json"));
    write_if_changed(out, &state_path, &prepared.state)?;
    let files: Vec<&String> = prepared
        .light
        .migrations
        .iter()
        .flat_map(|entry| std::iter::once(&entry.file).chain(entry.down_file.as_ref()))
        .collect();
    let mut checksums = Vec::new();
    let mut included = String::new();
    for file in files {
        let path = dir.join(file);
        let sql = std::fs::read_to_string(&path).map_err(io(&path))?;
        checksums.push(checksum(&sql));
        let _ = writeln!(
            included,
            "        ({:?}, ::core::include_str!({:?})),",
            file,
            path.display().to_string()
        );
    }
    let _ = write!(
        code,
        "(\n    ::core::include_str!({:?}),\n    Some((\n        {:?},\n        {:?},\n        ::core::include_str!({:?}),\n        &[{}],\n    )),\n    &[\n{included}    ],\n)\n",
        manifest_path.display().to_string(),
        prepared.light.to_json(),
        prepared.digest,
        state_path.display().to_string(),
        checksums
            .iter()
            .map(|sum| format!("{sum:?}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    write_if_changed(out, &out.join(file_name), &code)
}

/// Writes `text` to `path` inside `out` unless it holds it already, so that
/// an unchanged build does not make cargo compile the crate again.
fn write_if_changed(out: &Path, path: &Path, text: &str) -> Result<(), Error> {
    std::fs::create_dir_all(out).map_err(io(out))?;
    if std::fs::read_to_string(path).ok().as_deref() == Some(text) {
        return Ok(());
    }
    write_atomically(path, text)
}

/// Writes `out/<file>` as a compile error carrying `why`, so that
/// `embed_migrations!()` fails the crate's build when the build script could
/// not write its migrations (the compiler shows the models' own errors too).
pub(crate) fn write_failure(out: &Path, file_name: &str, why: &str) -> Result<(), Error> {
    let code = format!("{{ ::core::compile_error!({why:?}); (\"\", None, &[]) }}\n");
    std::fs::create_dir_all(out).map_err(io(out))?;
    write_atomically(&out.join(file_name), &code)
}
