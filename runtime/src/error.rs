//! The one error type of the runtime.

use std::path::PathBuf;

use crate::DriftReport;

/// Why a start-up or a drift check failed; each message says what to do.
///
/// Each message holds its cause (the driver's error, an I/O error), which
/// is not exposed again as `source()`, so a printed chain says it once.
/// Its `Debug` is its message too: a `main` that returns it with `?` shows
/// what to do, not a struct dump.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `rls::set_local` was given a setting name policies cannot read back.
    #[error("setting `{setting}` is not a custom setting: name it with a prefix, such as `app.org_id`, in letters, digits and `_`")]
    InvalidSetting {
        /// The name as given.
        setting: String,
    },
    /// A query against the database failed.
    #[error("{context}: {}", crate::connect_error::describe_sqlx_error(.cause))]
    Database {
        /// What strata was doing.
        context: &'static str,
        /// The driver's error.
        cause: sqlx::Error,
    },
    /// A migration failed; its transaction was rolled back.
    #[error(
        "migration {file} failed{} and was rolled back, so nothing of it was applied: {message}{}\nhelp: {}",
        .statement.as_ref().map(|(n, line, sql)| format!(" at statement {n} (line {line}: {sql})")).unwrap_or_default(),
        .code.as_ref().map(|c| format!(" (SQLSTATE {c})")).unwrap_or_default(),
        failure_help(file, code.as_deref())
    )]
    MigrationFailed {
        /// The migration's file name.
        file: String,
        /// The failing statement: its number, its line and its first line of text.
        statement: Option<(usize, usize, String)>,
        /// PostgreSQL's message.
        message: String,
        /// PostgreSQL's SQLSTATE code, if the server sent one.
        code: Option<String>,
    },
    /// A migration marked `-- strata:no-transaction` failed part-way.
    #[error("{}", self.in_terms_of(Caller::Library))]
    NonTransactionalFailed {
        /// The migration's file name.
        file: String,
        /// The failing statement: its number, its line and its first line of text.
        statement: Option<(usize, usize, String)>,
        /// PostgreSQL's message.
        message: String,
        /// PostgreSQL's SQLSTATE code, if the server sent one.
        code: Option<String>,
    },
    /// A migration marked `-- strata:no-transaction` is being applied by
    /// another process right now, on the backend its claim names. Start-up
    /// (`Migrator::run`) does not fail on it: it reports it in
    /// `RunReport::in_progress` and leaves the rest for later.
    #[error(
        "migration {file} runs outside a transaction and another process is applying it right now ({recorded})\nhelp: wait for it to finish (strata status shows it), then start again; nothing needs resolving"
    )]
    InProgressElsewhere {
        /// The migration's file name.
        file: String,
        /// The claim in the tracking table, naming the backend.
        recorded: String,
    },
    /// A migration marked `-- strata:no-transaction` did not finish earlier.
    #[error("{}", self.in_terms_of(Caller::Library))]
    NeedsResolution {
        /// The migration's file name.
        file: String,
        /// What the tracking table says about it.
        recorded: String,
    },
    /// A migration kept timing out waiting for a table lock.
    #[error(
        "migration {file} could not get the table locks it needs: it waited {lock_timeout:?} each time, {attempts} times, and was rolled back each time\nhelp: another session holds a lock on a table the migration alters, usually a long transaction; find it with `SELECT pid, state, query FROM pg_stat_activity WHERE pid IN (SELECT pid FROM pg_locks WHERE NOT granted OR locktype = 'relation')`, or raise Migrator::lock_timeout / lock_retries"
    )]
    LockTimeout {
        /// The migration's file name.
        file: String,
        /// How many times it was tried.
        attempts: u32,
        /// How long each attempt waited.
        lock_timeout: std::time::Duration,
    },
    /// An applied migration was edited afterwards.
    #[error(
        "migration {file} was modified after it was applied to this database (recorded checksum {recorded}, now {current})\nhelp: restore {file} as it was applied and put the change into a new migration"
    )]
    ChecksumMismatch {
        /// The migration's file name.
        file: String,
        /// The checksum recorded when it was applied.
        recorded: String,
        /// The checksum of the file now.
        current: String,
    },
    /// The database has a migration applied that this binary does not carry.
    #[error(
        "the database has migration {version} ({name}) applied, which this binary does not know: a newer release has migrated this database\nhelp: deploy that release (or newer), or restore the database to match this one"
    )]
    UnknownMigration {
        /// Its version.
        version: u32,
        /// Its name as recorded.
        name: String,
    },
    /// The database is at a newer version than the migrator's target.
    #[error("{}", self.in_terms_of(Caller::Library))]
    AheadOfTarget {
        /// The newest applied version.
        applied: u32,
        /// The target.
        target: u32,
    },
    /// A rollback undid some migrations, then one of them failed.
    #[error("{}", self.in_terms_of(Caller::Library))]
    RollbackIncomplete {
        /// The migrations undone before the failure, newest first.
        undone: Vec<String>,
        /// The version the database is at now.
        at: u32,
        /// Why the next one failed.
        cause: Box<Error>,
    },
    /// A migration to roll back has no down file.
    #[error("migration {file} has no down file, so nothing was rolled back: strata cannot undo it\nhelp: write its down file beside it (the same name ending in .down.sql) and rebuild, or roll back only to its version or later")]
    NoDownMigration {
        /// The migration's file name.
        file: String,
    },
    /// A down file was edited after the build judged what it can lose.
    #[error(
        "down file {file} was modified after the build recorded it (recorded checksum {recorded}, now {current}), so nothing was rolled back: strata has not judged what the edited file can lose\nhelp: build again (`cargo build`), which judges its statements and records it, then roll back, confirming what it can lose; or restore {file} as the build wrote it"
    )]
    DownFileModified {
        /// The down file's name.
        file: String,
        /// The checksum the build recorded.
        recorded: String,
        /// The checksum of the file now.
        current: String,
    },
    /// A rollback would run down steps that can lose data, and they were not confirmed.
    #[error("{}", self.in_terms_of(Caller::Library))]
    UnconfirmedRollback {
        /// Each step, with the object it touches.
        steps: Vec<strata_manifest::Unconfirmed>,
    },
    /// The manifest lists a migration whose file is not embedded.
    #[error("migration {file} is listed in the manifest but not embedded; rebuild the crate so that embed_migrations!() picks it up")]
    MissingMigration {
        /// The missing file.
        file: String,
    },
    /// The manifest cannot be read.
    #[error("{0}\nhelp: restore migrations/manifest.json from version control and rebuild")]
    Manifest(strata_manifest::ManifestError),
    /// A migrations folder whose manifest is blank: nothing to apply or to
    /// check against, which is never what a caller means.
    #[error("{} is empty, so there is nothing to migrate to or check drift against\nhelp: point at the folder the build writes (a crate's `migrations`) and run `cargo build` there, or restore manifest.json from version control", .path.display())]
    EmptyManifest {
        /// The manifest file.
        path: PathBuf,
    },
    /// A migration file in the folder that the manifest does not list.
    #[error("{} is not listed in the folder's manifest.json, so it would never run\nhelp: run `cargo build` in the crate, which takes in a hand-written migration (or says why it cannot), or move the file out of the migrations folder", .path.display())]
    UnlistedMigration {
        /// The file.
        path: PathBuf,
    },
    /// A migrations file could not be read.
    #[error("{}: {cause}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        cause: std::io::Error,
    },
    /// A baseline was asked of a database whose catalog does not match the
    /// migrations it would record as applied.
    #[error("the database does not match the state after migration {version}, so it cannot be recorded as applied:\n{drift}\nhelp: make the models (or the pulled files) describe this database, build, and baseline again; nothing was recorded")]
    BaselineDrift {
        /// The migration the state was taken after.
        version: u32,
        /// How the database differs.
        drift: Box<DriftReport>,
    },
    /// A tenant baseline was asked while some tenants differ from the tenant models.
    #[error("{drift}\nhelp: a tenant baseline records every tenant's migrations as applied, so every tenant must match the tenant models first; fix those tenants (or the models), build, and baseline again; nothing was recorded")]
    TenantBaselineDrift {
        /// Which tenants differ, and how.
        drift: Box<crate::TenantDrift>,
    },
    /// A baseline was asked of a scope that has migrations recorded already.
    #[error("scope {scope} already has {count} migration(s) recorded in strata.migrations: a baseline is for a database strata has never migrated\nhelp: use `strata status` to see where it stands, and `strata migrate` to apply what is pending")]
    AlreadyTracked {
        /// The scope.
        scope: String,
        /// How many rows it has.
        count: usize,
    },
    /// The database differs from the models (with `DriftPolicy::Fail`).
    #[error("the database has drifted from the models:\n{0}\nhelp: undo the manual changes, or change the models and let `cargo build` write a migration for them")]
    Drift(Box<DriftReport>),
    /// A tenant id that cannot name a schema.
    #[error(
        "tenant id {id:?} cannot name a tenant schema: {reason}\nhelp: tenant ids are lowercase ASCII letters, digits and underscores, at most {} bytes after the prefix {prefix:?}; map other ids to such a name (a UUID in its simple form, a slug with `_` for `-`) and keep the mapping in the tenant registry",
        63usize.saturating_sub(.prefix.len())
    )]
    InvalidTenantId {
        /// The id as given.
        id: String,
        /// The prefix it was given with.
        prefix: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A tenant's migration failed; that tenant alone was rolled back.
    #[error(
        "tenant {tenant}: migration {file} failed{}: {message}{}; the tenant's transaction was rolled back, so it keeps its previous version and its data, untouched\nhelp: other tenants may have this migration already, so do not edit {file}: fix what in this tenant stops it (its data, or a manual change to its schema) and run the tenant migrations again",
        .statement.as_deref().map(|(n, line, sql)| format!(" at statement {n} (line {line}: {sql})")).unwrap_or_default(),
        .code.as_ref().map(|c| format!(" (SQLSTATE {c})")).unwrap_or_default()
    )]
    TenantMigrationFailed {
        /// The tenant's schema.
        tenant: String,
        /// The migration's file name.
        file: String,
        /// The failing statement: its number, its line and its first line of text.
        statement: Option<Box<(usize, usize, String)>>,
        /// PostgreSQL's message.
        message: String,
        /// PostgreSQL's SQLSTATE code, if the server sent one.
        code: Option<String>,
    },
    /// A tenant's schema exists already.
    #[error("schema {schema} exists already, so no tenant can be created in it\nhelp: if it is a tenant, migrate it with Tenants::migrate; if it is left over from a tenant that was removed, drop it (DROP SCHEMA … CASCADE) after checking that nothing in it is needed")]
    TenantExists {
        /// The schema.
        schema: String,
    },
    /// A tenant with no migration applied names a schema that exists: one
    /// the shared models manage, or one made by hand, never a tenant's.
    #[error("schema {schema} exists, but no tenant migration was ever applied to it, so it is not tenant {id}'s: it may be a schema the shared models manage, or one made by hand, and strata writes no tenant table into it\nhelp: give the tenant another id (or a tenant prefix no shared schema starts with); if the schema really holds this tenant, made before strata, record its history with `strata tenants baseline`")]
    NotATenant {
        /// The schema.
        schema: String,
        /// The tenant id that names it.
        id: String,
    },
    /// Dropping a tenant was not confirmed by its name.
    #[error("dropping tenant {schema} loses every row in it, so it is done only when confirmed by the tenant's name\nhelp: confirm it with Tenants::confirm(\"{schema}\") (`strata tenants drop {id} --confirm {schema}`); to keep the data, archive the tenant instead (`strata tenants archive {id}`)")]
    TenantDropUnconfirmed {
        /// The schema.
        schema: String,
        /// The tenant id.
        id: String,
    },
    /// Objects outside a tenant's schema depend on it, so dropping the
    /// schema would drop them too.
    #[error("tenant {schema} was not dropped: objects outside it depend on it, and dropping it would drop them too: {}\nhelp: drop or change those objects first (a foreign key or a view of a shared schema that names the tenant's tables), then drop the tenant", objects.join(", "))]
    TenantDependedOn {
        /// The schema.
        schema: String,
        /// The objects outside it, as PostgreSQL describes them.
        objects: Vec<String>,
    },
    /// The tenant asked for has no schema, or no archive.
    #[error("{what}\nhelp: `strata tenants status` lists the tenants, the archived ones and the schemas under the prefix")]
    TenantNotFound {
        /// What was looked for and not found.
        what: String,
    },
    /// A tenant migration is marked `-- strata:no-transaction`.
    #[error("tenant migration {file} is marked `-- strata:no-transaction`, but each tenant is migrated in one transaction so that it is never left half-migrated\nhelp: remove the marker, and put what cannot run in a transaction (CREATE INDEX CONCURRENTLY) after a line `-- strata:after-transaction`: it runs after each existing tenant's transaction, each statement on its own, and in a new tenant's transaction without CONCURRENTLY")]
    TenantNoTransaction {
        /// The migration's file name.
        file: String,
    },
    /// `migrate_all` or `list` without a registry.
    #[error("{}", self.in_terms_of(Caller::Library))]
    NoTenantRegistry,
    /// The tenant registry names a table or column the database lacks.
    #[error(
        "the tenant registry {registry} is not in the database ({message})\nhelp: the registry is a table of your own, declared as a model so that the shared migrations create it: #[strata::schema(\"public\", table = \"tenants\")] pub struct TenantRow {{ #[column(primary_key)] pub id: String }}; build, and run the shared migrations before the tenants"
    )]
    NoRegistryTable {
        /// The registry, as `schema.table.column`.
        registry: String,
        /// PostgreSQL's message.
        message: String,
    },
    /// A tenant schema prefix that cannot be used.
    #[error("tenant schema prefix {prefix:?} cannot be used: {reason}\nhelp: use a prefix such as \"tenant_\": lowercase ASCII letters, digits and underscores, starting with a letter and ending with `_`")]
    InvalidTenantPrefix {
        /// The prefix as given.
        prefix: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A server of the fleet could not be reached.
    #[error("server {server} of the fleet could not be reached: {message}\nhelp: start it, or correct its URL (`strata tenants placement --server {server}=URL`); its tenants were not touched, and the next run goes on with them")]
    ServerUnreachable {
        /// The server's name.
        server: String,
        /// Why.
        message: String,
    },
    /// A server name the fleet does not hold.
    #[error("the fleet has no server {server:?} (it has: {})\nhelp: add it first (`strata tenants placement --server {server}=URL`, or Fleet::add_server)", if known.is_empty() { "none".to_owned() } else { known.join(", ") })]
    UnknownServer {
        /// The name asked for.
        server: String,
        /// The servers the fleet holds.
        known: Vec<String>,
    },
    /// A server name or URL that cannot be used.
    #[error("server {server:?} cannot be added to the fleet: {reason}")]
    InvalidServer {
        /// The name as given.
        server: String,
        /// What is wrong, and what to do.
        reason: String,
    },
    /// A tenant the placement does not name.
    #[error("tenant {tenant} has no server in the fleet's placement\nhelp: create it through the fleet (Fleet::create, which places it), or place an existing one with Fleet::place")]
    TenantNotPlaced {
        /// The tenant's schema.
        tenant: String,
    },
    /// A server that cannot take part in logical replication.
    #[error("server {server} cannot replicate: {reason}")]
    ReplicationUnavailable {
        /// The server's name (`control` for the control database).
        server: String,
        /// What is missing, and what to set.
        reason: String,
    },
    /// A tenant table references a shared table that only the control
    /// database holds.
    #[error("tenant table {tenant_table} references {shared_table}, but schema {schema} is not replicated, so no server of the fleet but the control database holds it and the foreign key cannot hold there\nhelp: replicate the schema to every server (Builder::replicated(\"{schema}\") in build.rs, and Fleet::replicate(\"{schema}\")), or drop the foreign key")]
    SharedNotReplicated {
        /// The tenant table, as `{tenant}.table`.
        tenant_table: String,
        /// The shared table it references.
        shared_table: String,
        /// The shared table's schema.
        schema: String,
    },
    /// A tenant being moved between servers is not migrated.
    #[error("tenant {tenant} is being moved to server {to}, so it is not migrated now: the move copies its schema as it was\nhelp: finish the move (`strata tenants move {id} --to {to}`, or Fleet::resume_moves), then migrate again")]
    TenantMoving {
        /// The tenant's schema.
        tenant: String,
        /// The tenant's id.
        id: String,
        /// The server it moves to.
        to: String,
    },
    /// A step of a tenant's move failed; the move resumes from it.
    #[error("moving tenant {} from {} to {} stopped at step `{}`: {}\nhelp: the tenant is still served by {}; fix the cause and run the move again (`strata tenants move {} --to {}`): it resumes from this step; before the switch, `--cancel` gives it up instead", .0.tenant, .0.from, .0.to, .0.step, .0.message, .0.serving, .0.id, .0.to)]
    MoveFailed(Box<MoveFailure>),
    /// The throwaway PostgreSQL of the `testing` feature could not be started.
    #[error("{0}")]
    TestCluster(String),
}

/// Who reads an error, and so in whose terms its help is said: a service's
/// code (the library's calls: `Migrator::confirm`) or a person at the command
/// line (its flags: `--confirm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Caller {
    /// Code that calls the library; what `Display` says.
    Library,
    /// The `strata` command line.
    CommandLine,
}

impl Error {
    /// The message, with its help in the terms of `caller`: its own calls
    /// or its own flags. `Display` is [`Caller::Library`]'s.
    pub fn in_terms_of(&self, caller: Caller) -> String {
        let cli = caller == Caller::CommandLine;
        match self {
            Error::NonTransactionalFailed {
                file,
                statement,
                message,
                code,
            } => format!(
                "migration {file} runs outside a transaction and failed{}: {message}{}; the statements before it stay applied\nhelp: fix the cause, make sure no other process is applying it, then {}: strata goes on from the statement that failed (those before it ran, and are not run again) and rebuilds any INVALID index a failed concurrent build left",
                statement
                    .as_ref()
                    .map(|(n, line, sql)| format!(" at statement {n} (line {line}: {sql})"))
                    .unwrap_or_default(),
                code.as_ref()
                    .map(|c| format!(" (SQLSTATE {c})"))
                    .unwrap_or_default(),
                match cli {
                    true => "run `strata migrate --retry-failed`",
                    false => "start once with Migrator::retry_failed(true)",
                }
            ),
            Error::NeedsResolution { file, recorded } => format!(
                "migration {file} runs outside a transaction and did not finish ({recorded}): some of its statements may be applied, or another process may be applying it right now\nhelp: once no process is applying it, fix the cause and {}, which goes on from the first statement that did not finish",
                match cli {
                    true => "run `strata migrate --retry-failed`",
                    false => "start once with Migrator::retry_failed(true)",
                }
            ),
            Error::AheadOfTarget { applied, target } => format!(
                "the database has migration {applied} applied, past the target version {target}\nhelp: roll back with {}, or raise the target",
                match cli {
                    true => format!("`strata rollback --to {target}`"),
                    false => format!("Migrator::rollback_to({target})"),
                }
            ),
            Error::UnconfirmedRollback { steps } => {
                let mut objects: Vec<&str> = Vec::new();
                for step in steps {
                    if !objects.contains(&step.object.as_str()) {
                        objects.push(&step.object);
                    }
                }
                let confirm = match cli {
                    true => format!(
                        "{}, or --confirm-all",
                        objects
                            .iter()
                            .map(|o| format!("--confirm {o}"))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                    false => format!(
                        "Migrator::confirm(\"…\") (Tenants::confirm for tenants; --confirm on the command line) with the names above, or STRATA_CONFIRM={} in the environment (STRATA_CONFIRM=all confirms everything)",
                        objects.join(",")
                    ),
                };
                format!(
                    "refusing to roll back: these down steps can lose data, and nothing was undone:\n{}\nhelp: if the data may go, confirm each object: {confirm}; or roll back to a later version",
                    steps
                        .iter()
                        .map(|s| format!("  - {s}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                )
            }
            Error::NoTenantRegistry => format!(
                "no tenant registry is configured, so strata cannot list the tenants\nhelp: {}",
                match cli {
                    true => "name its table and column with --registry schema.table.column, such as --registry public.tenants.id",
                    false => "name the table and column with Tenants::registry(\"public\", \"tenants\", \"id\"), or pass the tenants to Tenants::migrate",
                }
            ),
            Error::RollbackIncomplete { undone, at, cause } => format!(
                "{}\nnote: the rollback had already undone {}, so the database is at version {at} now\nhelp: once the cause is fixed, {}: it goes on from version {at}",
                cause.in_terms_of(caller),
                undone.join(", "),
                match cli {
                    true => "run `strata rollback` again",
                    false => "roll back again",
                }
            ),
            other => other.to_string(),
        }
    }
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// What to do about a failed migration, by what failed: the file, or what
/// the role may do, or (for a down file) the data it met.
fn failure_help(file: &str, code: Option<&str>) -> String {
    match code {
        // insufficient_privilege: nothing in the file is wrong.
        Some("42501") => format!(
            "the role strata connects as lacks the privilege PostgreSQL names: grant it (GRANT CREATE ON DATABASE … TO the role, for new schemas; ownership, for a table it alters), or migrate as a role that has it; {file} needs no change"
        ),
        _ if file.ends_with(".down.sql") => format!(
            "fix what stops it (the rows it meets, or {file} itself, then build again so that the build records the edited file), and roll back again"
        ),
        _ => format!("fix {file} (it has never been applied, so it may still be edited) and start again"),
    }
}

pub(crate) fn db(context: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
    move |cause| Error::Database { context, cause }
}

/// Where a tenant's move stopped, and why.
#[derive(Debug)]
#[non_exhaustive]
pub struct MoveFailure {
    /// The tenant's schema.
    pub tenant: String,
    /// The tenant's id.
    pub id: String,
    /// The server it moves from.
    pub from: String,
    /// The server it moves to.
    pub to: String,
    /// The last step done.
    pub step: String,
    /// The server that holds the tenant's writes now.
    pub serving: String,
    /// Why.
    pub message: String,
}
