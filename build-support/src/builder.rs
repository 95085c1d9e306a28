//! The build-script API: plan the next migration from the models and write it.

use std::path::{Path, PathBuf};

use strata_manifest::{
    checksum, diff, migration_name, render_migration, Change, Manifest, MigrationEntry, SchemaState,
};

use crate::embed::write_embedded;
use crate::error::{io, Error};
use crate::scan::scan_models;

/// Plans and writes migrations. Call it from `build.rs`:
///
/// ```no_run
/// strata_build::Builder::new().run().expect("strata: generating migrations");
/// ```
#[derive(Debug, Clone, Default)]
pub struct Builder {
    crate_dir: Option<PathBuf>,
    models_dir: Option<PathBuf>,
    migrations_dir: Option<PathBuf>,
    out_dir: Option<PathBuf>,
    frozen: Option<bool>,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The migration file written, if the models changed.
    pub written: Option<PathBuf>,
    /// What the written migration does (empty when nothing changed).
    pub changes: Vec<String>,
    /// How many models were read.
    pub models: usize,
}

impl Builder {
    /// Models in `src`, migrations in `migrations`, both relative to the crate.
    pub fn new() -> Self {
        Self::default()
    }

    /// The crate's root directory; by default `CARGO_MANIFEST_DIR`, else the current directory.
    pub fn crate_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.crate_dir = Some(dir.into());
        self
    }

    /// Where the models are, relative to the crate (default `src`).
    pub fn models_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.models_dir = Some(dir.into());
        self
    }

    /// Where migrations are written, relative to the crate (default `migrations`).
    pub fn migrations_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.migrations_dir = Some(dir.into());
        self
    }

    /// Where `embed_migrations!()` finds its file; by default cargo's `OUT_DIR`.
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Frozen: fail instead of writing when the models changed. By default
    /// frozen when `STRATA_FROZEN` is set (other than `0` or `false`), or
    /// when `CI` is set (non-empty) and `STRATA_FROZEN` does not say `0`.
    pub fn frozen(mut self, frozen: bool) -> Self {
        self.frozen = Some(frozen);
        self
    }

    /// Compares the models with the manifest and writes the next migration
    /// when they differ.
    pub fn run(&self) -> Result<Outcome, Error> {
        let in_build_script = std::env::var_os("OUT_DIR").is_some();
        let root = self.root();
        let models_dir = root.join(self.models_dir.as_deref().unwrap_or(Path::new("src")));
        let migrations_dir = root.join(
            self.migrations_dir
                .as_deref()
                .unwrap_or(Path::new("migrations")),
        );
        let manifest_path = migrations_dir.join("manifest.json");
        let out_dir = self
            .out_dir
            .clone()
            .or_else(|| std::env::var_os("OUT_DIR").map(PathBuf::from));

        let scanned = scan_models(&models_dir)?;
        if in_build_script {
            println!("cargo:rerun-if-changed={}", models_dir.display());
            for file in &scanned.files {
                println!("cargo:rerun-if-changed={}", file.display());
            }
            println!("cargo:rerun-if-changed={}", migrations_dir.display());
            println!("cargo:rerun-if-env-changed=STRATA_FROZEN");
            println!("cargo:rerun-if-env-changed=CI");
        }
        let mut manifest = read_manifest(&manifest_path)?;
        for entry in &manifest.migrations {
            let path = migrations_dir.join(&entry.file);
            if !path.is_file() {
                return Err(Error::MissingMigration { path });
            }
        }

        if !scanned.errors.is_empty() {
            if in_build_script {
                // The #[schema] macro reports these on the user's own tokens when
                // the crate compiles; failing here would hide those errors.
                for error in &scanned.errors {
                    println!("cargo:warning=strata: {error}");
                }
                if let Some(out) = &out_dir {
                    write_embedded(out, &migrations_dir, &manifest)?;
                }
                return Ok(Outcome::default());
            }
            return Err(Error::Models(scanned.errors));
        }

        let mut desired = SchemaState::default();
        for (i, model) in scanned.models.iter().enumerate() {
            if let Some(first) = scanned.models[..i]
                .iter()
                .find(|m| m.schema == model.schema && m.table == model.table)
            {
                return Err(Error::DuplicateTable {
                    schema: model.schema.clone(),
                    table: model.table.clone(),
                    first: first.ident.to_string(),
                    second: model.ident.to_string(),
                });
            }
            desired.add_table(model.table_state());
        }

        let changes = diff(&manifest.state, &desired)?;
        let mut outcome = Outcome {
            models: scanned.models.len(),
            ..Outcome::default()
        };
        if !changes.is_empty() {
            outcome.changes = changes.iter().map(Change::describe).collect();
            if self.is_frozen() {
                return Err(Error::Frozen {
                    changes: outcome.changes,
                });
            }
            outcome.written = Some(write_migration(
                &migrations_dir,
                &mut manifest,
                &changes,
                desired,
            )?);
        }
        if let Some(out) = &out_dir {
            write_embedded(out, &migrations_dir, &manifest)?;
        }
        Ok(outcome)
    }

    fn root(&self) -> PathBuf {
        self.crate_dir
            .clone()
            .or_else(|| std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("."))
    }

    fn is_frozen(&self) -> bool {
        if let Some(frozen) = self.frozen {
            return frozen;
        }
        let strata_frozen = std::env::var("STRATA_FROZEN").ok();
        let says_no = matches!(strata_frozen.as_deref(), Some("0" | "false" | ""));
        match strata_frozen {
            Some(_) if !says_no => true,
            _ => std::env::var_os("CI").is_some_and(|ci| !ci.is_empty()) && !says_no,
        }
    }
}

fn read_manifest(path: &Path) -> Result<Manifest, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => Manifest::from_json(&text).map_err(|source| Error::Manifest {
            path: path.to_owned(),
            source,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Manifest::default()),
        Err(e) => Err(io(path)(e)),
    }
}

fn write_migration(
    dir: &Path,
    manifest: &mut Manifest,
    changes: &[Change],
    desired: SchemaState,
) -> Result<PathBuf, Error> {
    let version = manifest.next_version();
    let descriptions: Vec<String> = changes
        .iter()
        .filter(|c| !matches!(c, Change::CreateSchema(_)))
        .map(Change::describe)
        .collect();
    let name = migration_name(&descriptions, manifest.migrations.is_empty());
    let file = format!("{version:04}_{name}.sql");
    let sql = render_migration(version, &name, changes);
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let path = dir.join(&file);
    write_atomically(&path, &sql)?;
    manifest.migrations.push(MigrationEntry {
        version,
        name,
        file,
        checksum: checksum(&sql),
    });
    manifest.state = desired;
    write_atomically(&dir.join("manifest.json"), &manifest.to_json())?;
    Ok(path)
}

/// Writes through a temporary file and a rename, so that an interrupted build
/// never leaves half a migration behind.
pub(crate) fn write_atomically(path: &Path, text: &str) -> Result<(), Error> {
    let tmp = path.with_extension("strata-tmp");
    std::fs::write(&tmp, text).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}
