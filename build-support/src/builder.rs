//! The build-script API: plan the next migration from the models and write it.

use std::path::{Path, PathBuf};

use strata_manifest::{
    checksum, diff_with, migration_name, render_down, render_migration, Change, Manifest,
    MigrationEntry, QualifiedName, SchemaState,
};

use crate::embed::{write_embedded, EMBED_FILE, EMBED_TENANT_FILE};
use crate::error::{io, Error};
use crate::scan::{model_error, scan_models, ScannedModel};

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
    tenant_migrations_dir: Option<PathBuf>,
    out_dir: Option<PathBuf>,
    frozen: Option<bool>,
    allow_destructive: Option<bool>,
    schemas: Vec<String>,
    search_path: Option<Vec<String>>,
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
    /// The tenant migration written, if the tenant models changed.
    pub tenant_written: Option<PathBuf>,
    /// What the written tenant migration does.
    pub tenant_changes: Vec<String>,
}

/// The header line of every tenant migration.
const TENANT_PREAMBLE: &str =
    "-- Tenant migration: applied to every tenant's schema, with \"{tenant}\" replaced by it.\n";

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

    /// Where the tenant stream (the migrations of `#[strata::schema(tenant)]`
    /// models) is written, relative to the crate (default `migrations/tenant`).
    pub fn tenant_migrations_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.tenant_migrations_dir = Some(dir.into());
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

    /// A schema to manage even when no model lives in it, such as an empty
    /// `cache` schema that other services fill: it is created, and its
    /// absence is drift.
    pub fn schema(mut self, name: impl Into<String>) -> Self {
        self.schemas.push(name.into());
        self
    }

    /// The database's default `search_path`, so that unqualified legacy
    /// queries still find tables after they moved to domain schemas. Set
    /// with `ALTER DATABASE … SET search_path`; new sessions see it.
    pub fn search_path<I, S>(mut self, schemas: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.search_path = Some(schemas.into_iter().map(Into::into).collect());
        self
    }

    /// Writes changes that destroy data (dropping a table or column, a
    /// narrowing type change) instead of refusing them. By default only when
    /// `STRATA_ALLOW_DESTRUCTIVE=1`.
    pub fn allow_destructive(mut self, allow: bool) -> Self {
        self.allow_destructive = Some(allow);
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
        let tenant_dir = root.join(
            self.tenant_migrations_dir
                .clone()
                .unwrap_or_else(|| migrations_dir.join("tenant")),
        );
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
            // A path that does not exist would make cargo rerun this every build.
            if tenant_dir.exists() {
                println!("cargo:rerun-if-changed={}", tenant_dir.display());
            }
            println!("cargo:rerun-if-env-changed=STRATA_FROZEN");
            println!("cargo:rerun-if-env-changed=CI");
            println!("cargo:rerun-if-env-changed=STRATA_ALLOW_DESTRUCTIVE");
        }
        let mut shared = Stream::read(migrations_dir, EMBED_FILE, "")?;
        let mut tenant = Stream::read(tenant_dir, EMBED_TENANT_FILE, TENANT_PREAMBLE)?;

        // Mistakes the compiler reports on the user's own tokens are left to it:
        // a failing build script would hide those better errors. Mistakes only
        // the whole crate can see (a reference to a model with a composite key)
        // fail here.
        let mut errors = scanned.errors;
        let mut desired = (SchemaState::default(), SchemaState::default());
        if errors.is_empty() {
            let (states, unseen) = desired_state(&scanned.models, &mut errors)?;
            if !unseen.is_empty() {
                return Err(Error::Models(unseen));
            }
            desired = states;
        }
        let (mut desired, tenant_desired) = desired;
        if !errors.is_empty() {
            if in_build_script {
                for error in &errors {
                    println!("cargo:warning=strata: {error}");
                }
                if let Some(out) = &out_dir {
                    shared.embed(out)?;
                    tenant.embed(out)?;
                }
                return Ok(Outcome::default());
            }
            return Err(Error::Models(errors));
        }

        for schema in self.schemas.iter().chain(self.search_path.iter().flatten()) {
            strata_manifest::validate_ident(schema).map_err(|source| Error::InvalidName {
                name: schema.clone(),
                source,
            })?;
        }
        desired.schemas.extend(self.schemas.iter().cloned());
        desired.search_path = self.search_path.clone();

        let allow = self.destructive_allowed();
        let changes = diff_with(&shared.manifest.state, &desired, allow)?;
        let tenant_changes = diff_with(&tenant.manifest.state, &tenant_desired, allow)?;
        let mut outcome = Outcome {
            models: scanned.models.len(),
            changes: changes.iter().map(Change::describe).collect(),
            tenant_changes: tenant_changes.iter().map(Change::describe).collect(),
            ..Outcome::default()
        };
        if !(changes.is_empty() && tenant_changes.is_empty()) && self.is_frozen() {
            let tenant_lines = outcome
                .tenant_changes
                .iter()
                .map(|c| format!("in every tenant: {c}"));
            return Err(Error::Frozen {
                changes: outcome
                    .changes
                    .iter()
                    .cloned()
                    .chain(tenant_lines)
                    .collect(),
            });
        }
        if !changes.is_empty() {
            outcome.written = Some(shared.write(&changes, desired)?);
        }
        if !tenant_changes.is_empty() {
            outcome.tenant_written = Some(tenant.write(&tenant_changes, tenant_desired)?);
        }
        if let Some(out) = &out_dir {
            shared.embed(out)?;
            tenant.embed(out)?;
        }
        Ok(outcome)
    }

    fn root(&self) -> PathBuf {
        self.crate_dir
            .clone()
            .or_else(|| std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("."))
    }

    fn destructive_allowed(&self) -> bool {
        self.allow_destructive.unwrap_or_else(|| {
            matches!(
                std::env::var("STRATA_ALLOW_DESTRUCTIVE").as_deref(),
                Ok("1" | "true" | "yes")
            )
        })
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

/// The states the models describe: the shared one and the tenant stream's.
/// References to other models are resolved here, since only the whole crate
/// knows every model. Returns the states and the errors the compiler will not
/// report (`errors` gets those it will).
fn desired_state(
    models: &[ScannedModel],
    errors: &mut Vec<crate::ModelError>,
) -> Result<((SchemaState, SchemaState), Vec<crate::ModelError>), Error> {
    let mut shared = SchemaState::default();
    let mut tenant = SchemaState::default();
    let mut unseen = Vec::new();
    for (i, scanned) in models.iter().enumerate() {
        let model = &scanned.model;
        if let Some(first) = models[..i]
            .iter()
            .find(|m| m.model.schema == model.schema && m.model.table == model.table)
        {
            return Err(Error::DuplicateTable {
                schema: model.schema.clone(),
                table: model.table.clone(),
                first: first.model.ident.to_string(),
                second: model.ident.to_string(),
            });
        }
        let resolve = |path: &syn::Path| {
            let wanted = path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .unwrap_or_default();
            let found: Vec<&ScannedModel> =
                models.iter().filter(|m| m.model.ident == wanted).collect();
            match found[..] {
                [target] if target.model.tenant && !model.tenant => Err(format!(
                    "`{wanted}` is a tenant model: a shared table cannot reference a tenant table"
                )),
                [target] => Ok((
                    QualifiedName::new(&target.model.schema, &target.model.table),
                    target
                        .model
                        .columns()
                        .filter(|f| f.primary_key)
                        .map(|f| f.column.clone())
                        .collect(),
                )),
                [] => Err(format!("`{wanted}` is not a #[strata::schema] model of this crate")),
                _ => Err(format!(
                    "{} models are called `{wanted}`; rename one so that `references` is unambiguous",
                    found.len()
                )),
            }
        };
        match model.table_state(resolve) {
            Ok(table) if model.tenant => tenant.add_table(table),
            Ok(table) => shared.add_table(table),
            Err(error) => {
                for e in error {
                    let located = model_error(&scanned.file, &e);
                    // An unknown model is a compile error too (the macro checks
                    // that the type is a model); the rest only we can see.
                    let compiler_sees = ["is not a #[strata::schema] model", "is a tenant model"];
                    if compiler_sees.iter().any(|m| located.message.contains(m)) {
                        errors.push(located);
                    } else {
                        unseen.push(located);
                    }
                }
            }
        }
    }
    Ok(((shared, tenant), unseen))
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

/// One migration stream: the shared one, or the tenant stream.
struct Stream {
    dir: PathBuf,
    manifest: Manifest,
    /// The file `embed_migrations!()` (or its tenant twin) includes.
    embed_file: &'static str,
    /// A comment opening each migration file.
    preamble: &'static str,
}

impl Stream {
    /// Reads the stream's manifest (none yet: empty) and checks its files are there.
    fn read(dir: PathBuf, embed_file: &'static str, preamble: &'static str) -> Result<Self, Error> {
        let manifest = read_manifest(&dir.join("manifest.json"))?;
        for entry in &manifest.migrations {
            for file in std::iter::once(&entry.file).chain(entry.down_file.as_ref()) {
                let path = dir.join(file);
                if !path.is_file() {
                    return Err(Error::MissingMigration { path });
                }
            }
        }
        Ok(Stream {
            dir,
            manifest,
            embed_file,
            preamble,
        })
    }

    fn write(&mut self, changes: &[Change], desired: SchemaState) -> Result<PathBuf, Error> {
        write_migration(
            &self.dir,
            &mut self.manifest,
            changes,
            desired,
            self.preamble,
        )
    }

    fn embed(&self, out: &Path) -> Result<(), Error> {
        write_embedded(out, self.embed_file, &self.dir, &self.manifest)
    }
}

fn write_migration(
    dir: &Path,
    manifest: &mut Manifest,
    changes: &[Change],
    desired: SchemaState,
    preamble: &str,
) -> Result<PathBuf, Error> {
    let version = manifest.next_version();
    let name = migration_name(changes, manifest.migrations.is_empty());
    let file = format!("{version:04}_{name}.sql");
    let down_file = format!("{version:04}_{name}.down.sql");
    let sql = format!("{preamble}{}", render_migration(version, &name, changes));
    let down = format!("{preamble}{}", render_down(version, &name, changes));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let path = dir.join(&file);
    write_atomically(&path, &sql)?;
    write_atomically(&dir.join(&down_file), &down)?;
    manifest.migrations.push(MigrationEntry {
        version,
        name,
        file,
        checksum: checksum(&sql),
        down_file: Some(down_file),
        changes: changes.to_vec(),
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
