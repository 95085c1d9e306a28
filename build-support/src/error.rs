//! Errors of the build step.

use std::path::PathBuf;

/// A model that could not be read, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelError {
    /// The source file.
    pub file: PathBuf,
    /// 1-based line of the offending tokens.
    pub line: usize,
    /// 1-based column of the offending tokens.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ModelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

/// Why the build could not plan or write a migration.
///
/// Each message holds its cause (an I/O error, a manifest error), which is
/// not exposed again as `source()`, so a printed chain says it once.
///
/// Its `Debug` is its message, because `build.rs` usually ends in `.expect(…)`,
/// which shows `Debug`, and the user must read what to do, not a struct dump.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {cause}", .path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        cause: std::io::Error,
    },
    /// Some models have mistakes in their attributes.
    #[error("models with mistakes:\n{}", .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Models(Vec<ModelError>),
    /// Two models describe the same table.
    #[error("two models describe the table \"{schema}\".\"{table}\": `{first}` and `{second}`; give one of them another `table = \"…\"`")]
    DuplicateTable {
        /// The schema.
        schema: String,
        /// The table.
        table: String,
        /// The first model's struct name.
        first: String,
        /// The second model's struct name.
        second: String,
    },
    /// A name given to the builder cannot be a PostgreSQL identifier.
    #[error("builder option `{name}`: {cause}")]
    InvalidName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        cause: strata_manifest::IdentError,
    },
    /// A grant or policy names a role `Builder::role` does not declare.
    #[error("a {by} on {object} names role `{role}`, which the build does not declare: add `.role(\"{role}\")` to the Builder in build.rs (it is made NOLOGIN when missing)")]
    UndeclaredRole {
        /// The role.
        role: String,
        /// The table whose grant or policy names it.
        object: String,
        /// `grant` or `policy`.
        by: &'static str,
    },
    /// A `Builder::default_privileges` call the build cannot apply.
    #[error("Builder::default_privileges(\"{schema}\", …, \"{role}\"): {problem}")]
    DefaultPrivileges {
        /// The schema as given.
        schema: String,
        /// The role as given.
        role: String,
        /// What is wrong, and what to do.
        problem: String,
    },
    /// With tenant models, a schema the shared models manage is named like
    /// a tenant's.
    #[error("schema {schema} is managed by the shared models, but its name starts with the tenant prefix {prefix:?}, so a tenant with id {id:?} would be schema {schema} too\nhelp: rename the shared schema (`#[strata::schema(\"…\", moved_from = \"{schema}\")]` moves its tables), or give the tenants another prefix with Builder::tenant_prefix and Tenants::prefix, such as \"t_\"")]
    SharedSchemaUnderTenantPrefix {
        /// The shared schema.
        schema: String,
        /// The tenant prefix.
        prefix: String,
        /// The tenant id that would name it.
        id: String,
    },
    /// A tenant table references a shared table whose schema is not
    /// replicated to the fleet's servers.
    #[error("tenant table {tenant_table} references {shared_table}, but Builder::replicated does not name schema {schema}, so on a fleet only the control database holds that table and the foreign key cannot hold on the other servers\nhelp: add .replicated(\"{schema}\") to build.rs (and Fleet::replicate(\"{schema}\") to the service), or drop the reference")]
    SharedNotReplicated {
        /// The tenant table.
        tenant_table: String,
        /// The shared table it references.
        shared_table: String,
        /// The shared table's schema.
        schema: String,
    },
    /// `Builder::replicated` names a schema no shared model is in.
    #[error("Builder::replicated(\"{schema}\"): no shared model is in schema {schema}\nhelp: name a schema of the shared models (#[strata::schema(\"…\")]), or remove the line")]
    NotASharedSchema {
        /// The schema as given.
        schema: String,
    },
    /// `Builder::role` names a role PostgreSQL keeps for itself.
    #[error("Builder::role(\"{role}\"): roles named `pg_…` and `public` are PostgreSQL's own; declare a role of your own, such as \"app_user\"")]
    ReservedRole {
        /// The role as given.
        role: String,
    },
    /// The manifest could not be read.
    #[error("{}: {cause}; restore it from version control", .path.display())]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong with it.
        cause: strata_manifest::ManifestError,
    },
    /// The change would lose data.
    #[error(transparent)]
    Destructive(#[from] strata_manifest::DiffError),
    /// Frozen mode (`STRATA_FROZEN=1` or `CI`) and the models differ from the committed migrations.
    #[error(
        "the models differ from the committed migrations, and the build is frozen (STRATA_FROZEN or CI is set), so no migration was written. Pending changes:\n{}\nhelp: run `cargo build` locally without STRATA_FROZEN and CI, then commit the new migration",
        .changes.iter().map(|c| format!("  - {c}")).collect::<Vec<_>>().join("\n")
    )]
    Frozen {
        /// What the next migration would do.
        changes: Vec<String>,
    },
    /// A file in the migrations folder that strata cannot take in.
    #[error("{}: {why}", .path.display())]
    StrayFile {
        /// The file.
        path: PathBuf,
        /// Why, and what to do.
        why: String,
    },
    /// A file of `Builder::sql_dir`, or a migration, that strata cannot take in.
    #[error("{}{}: {why}", .path.display(), .line.map(|l| format!(":{l}")).unwrap_or_default())]
    SqlFile {
        /// The file.
        path: PathBuf,
        /// The line of the statement at fault, when one is.
        line: Option<usize>,
        /// Why, and what to do.
        why: String,
    },
    /// A name for a new migration that cannot be part of a file name.
    #[error("migration name `{name}`: use lowercase ASCII letters, digits and underscores, such as `backfill_labels`")]
    BadMigrationName {
        /// The name as given.
        name: String,
    },
    /// The manifest lists a migration file that is not there.
    #[error("{}: listed in the manifest but missing; restore it from version control", .path.display())]
    MissingMigration {
        /// The missing file.
        path: PathBuf,
    },
}

impl Error {
    /// The error as messages to show one by one: each mistake in the
    /// models on its own, anything else as one.
    pub fn messages(&self) -> Vec<String> {
        match self {
            Error::Models(errors) => errors.iter().map(ToString::to_string).collect(),
            other => vec![other.to_string()],
        }
    }
}

pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |cause| Error::Io { path, cause }
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}
