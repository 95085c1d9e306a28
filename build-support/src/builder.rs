//! The build-script API: plan the next migration from the models and write it.

use std::path::{Path, PathBuf};

use strata_manifest::{
    plan, Change, Confirm, QualifiedName, SchemaState, BACKFILL_BATCH, CONFIRM_ENV,
};

use crate::embed::{write_failure, EMBED_FILE, EMBED_TENANT_FILE};
use crate::error::{io, Error};
use crate::scan::{model_error, scan_models, ScannedEnum, ScannedModel};
use crate::stream::Stream;

/// Plans and writes migrations. Call it from `build.rs`, where
/// [`Builder::report`] reports every error as cargo's own:
///
/// ```no_run
/// strata_build::Builder::new().report();
/// ```
#[derive(Debug, Clone, Default)]
pub struct Builder {
    crate_dir: Option<PathBuf>,
    models_dir: Option<PathBuf>,
    migrations_dir: Option<PathBuf>,
    tenant_migrations_dir: Option<PathBuf>,
    out_dir: Option<PathBuf>,
    frozen: Option<bool>,
    confirm: Confirm,
    schemas: Vec<String>,
    search_path: Option<Vec<String>>,
    extensions: Vec<String>,
    /// `extension_in`: the schema each such extension goes to.
    extension_schemas: std::collections::BTreeMap<String, String>,
    sql_dir: Option<PathBuf>,
    roles: Vec<String>,
    default_privileges: Vec<(String, String, String)>,
    backfill_batch: Option<u32>,
    tenant_prefix: Option<String>,
    /// The shared schemas replicated to every server of a fleet, when the
    /// service runs on one.
    replicated: Option<Vec<String>>,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
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
    /// The row-level security traps found in the models and `sql_dir`
    /// files (each also printed as a `cargo:warning`), naming the object
    /// and the fix.
    pub warnings: Vec<String>,
}

/// Refuses the `hazards` `confirm` does not cover, as the diff refuses its own.
/// The header line of every tenant migration.
const TENANT_PREAMBLE: &str =
    "-- Tenant migration: applied to every tenant's schema, with \"{tenant}\" replaced by it.\n";

impl Builder {
    /// One `Builder::default_privileges` call, checked against the models'
    /// state: a managed schema, a declared role, privileges PostgreSQL has.
    fn default_privilege(
        &self,
        desired: &SchemaState,
        schema: &str,
        privileges: &str,
        role: &str,
    ) -> Result<strata_manifest::DefaultPrivileges, Error> {
        let problem = |problem: String| Error::DefaultPrivileges {
            schema: schema.to_owned(),
            role: role.to_owned(),
            problem,
        };
        if !desired.schemas.contains(schema) {
            return Err(problem(format!(
                "schema `{schema}` holds no model and is not given to `Builder::schema`: name a schema strata manages"
            )));
        }
        if !desired.roles.contains(role) {
            return Err(problem(format!(
                "role `{role}` is not declared: add `.role(\"{role}\")` to the Builder (it is made NOLOGIN when missing)"
            )));
        }
        let mut parsed = std::collections::BTreeSet::new();
        for word in privileges.split(',').map(str::trim) {
            if word.eq_ignore_ascii_case("all") {
                parsed.extend(strata_manifest::Privilege::ALL);
                continue;
            }
            match strata_manifest::Privilege::parse(word) {
                Some(p) => {
                    parsed.insert(p);
                }
                None => return Err(problem(format!(
                    "`{word}` is not a privilege on tables: use select, insert, update, delete, truncate, references, trigger or all, separated by commas"
                ))),
            }
        }
        Ok(strata_manifest::DefaultPrivileges {
            schema: schema.to_owned(),
            role: role.to_owned(),
            privileges: parsed.into_iter().collect(),
        })
    }

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

    /// Marks shared schema `schema` as replicated to every server of a
    /// fleet, as the service does with `Fleet::replicate`. Once any schema
    /// is marked, the build is a fleet's: a tenant table that references a
    /// shared table in a schema not marked is an error naming both, since
    /// only the control database would hold that table.
    pub fn replicated(mut self, schema: impl Into<String>) -> Self {
        self.replicated
            .get_or_insert_with(Vec::new)
            .push(schema.into());
        self
    }

    /// The prefix of every tenant schema, as the service gives it to
    /// `Tenants::prefix` (default `tenant_`). With tenant models, no schema
    /// the shared models manage may start with it: a tenant whose id is the
    /// rest of that schema's name would land in it.
    pub fn tenant_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.tenant_prefix = Some(prefix.into());
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

    /// An extension the models use, such as `pg_trgm` for a trigram index:
    /// created (`CREATE EXTENSION IF NOT EXISTS`) before any table, and its
    /// absence is drift. What the extension itself creates in a managed
    /// schema is never reported as unexpected.
    pub fn extension(mut self, name: impl Into<String>) -> Self {
        self.extensions.push(name.into());
        self
    }

    /// [`Builder::extension`], created in `schema` (which the build makes
    /// too), as Supabase keeps `uuid-ossp` and its kin in `extensions`:
    /// the models and SQL then call `extensions.uuid_generate_v4()`. Drift
    /// reports it found in another schema.
    pub fn extension_in(mut self, name: impl Into<String>, schema: impl Into<String>) -> Self {
        let (name, schema) = (name.into(), schema.into());
        self.extension_schemas.insert(name.clone(), schema.clone());
        self.schemas.push(schema);
        self.extensions.push(name);
        self
    }

    /// A role the migrations grant to and policies name (`to = "app_user"`):
    /// made `NOLOGIN` when missing, before anything names it. Roles belong
    /// to the whole cluster: strata never drops one, never changes one it
    /// finds (its password, `LOGIN`, `BYPASSRLS`), and never makes a
    /// superuser.
    pub fn role(mut self, name: impl Into<String>) -> Self {
        self.roles.push(name.into());
        self
    }

    /// Grants `privileges` (`"select, insert"`, or `"all"`) to `role` on
    /// every table made later in `schema` by the role that runs the
    /// migrations: `ALTER DEFAULT PRIVILEGES IN SCHEMA … GRANT … ON
    /// TABLES`, for the tables a hand-written migration or a person makes
    /// there. The role must be declared with [`Builder::role`], and gets
    /// `USAGE` on the schema; taken out, the privileges are revoked.
    /// Drift-checked. A model's own table takes `#[grant]`, not this.
    pub fn default_privileges(
        mut self,
        schema: impl Into<String>,
        privileges: impl Into<String>,
        role: impl Into<String>,
    ) -> Self {
        self.default_privileges
            .push((schema.into(), privileges.into(), role.into()));
        self
    }

    /// About how many rows each transaction of a backfill fills (default
    /// 10,000): a column added with a volatile default to a table that
    /// exists is filled in batches, each committed on its own, so that no
    /// row lock is held for long.
    pub fn backfill_batch(mut self, rows: u32) -> Self {
        self.backfill_batch = Some(rows.max(1));
        self
    }

    /// The folder (relative to the crate) of the objects written in SQL:
    /// functions, procedures and triggers, one per `.sql` file, in any
    /// subfolders (`db/functions/current_org_id.sql`). Each is created in
    /// dependency order, replaced when its file changes and dropped when
    /// its file goes; a file with anything else is a build error naming it.
    /// A file a view names with `sql_file` is not read as one of them.
    pub fn sql_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.sql_dir = Some(dir.into());
        self
    }

    /// Confirms one change that strata refuses to write unconfirmed (it
    /// could lose data, or cannot apply to a table with rows), named as the
    /// build's error names it: `shop.items.sku` for a column, `shop.items`
    /// for a table. The environment's `STRATA_CONFIRM` (`all`, or names
    /// separated by commas) adds to what is confirmed here.
    pub fn confirm(mut self, object: impl Into<String>) -> Self {
        self.confirm = self.confirm.object(object);
        self
    }

    /// Confirms every change that needs it, as `STRATA_CONFIRM=all` does.
    pub fn confirm_all(mut self) -> Self {
        self.confirm = Confirm::all();
        self
    }

    /// `true` is [`Builder::confirm_all`]; kept for builds written before
    /// confirmation could name single objects.
    pub fn allow_destructive(self, allow: bool) -> Self {
        if allow {
            self.confirm_all()
        } else {
            self
        }
    }

    /// [`Builder::run`] for a build script, reporting what went wrong as
    /// cargo reports a build script's errors: every error, each once, as an
    /// `error:` of cargo's own, and no panic. On success it returns what
    /// the build did; on failure, `None`, and cargo fails the build once the
    /// script ends.
    ///
    /// ```no_run
    /// // build.rs, in `fn main()`:
    /// strata_build::Builder::new().report();
    /// ```
    ///
    /// (It speaks `cargo::error`, which cargo 1.84 and later read; an older
    /// cargo fails the build on the unknown instruction, showing the message.)
    pub fn report(&self) -> Option<Outcome> {
        match self.run() {
            Ok(outcome) => Some(outcome),
            Err(error) => {
                for message in error.messages() {
                    // One instruction is one line: a message of several
                    // lines goes on as several, the first naming strata.
                    for (i, line) in message.lines().enumerate() {
                        match i {
                            0 => println!("cargo::error=strata: {line}"),
                            _ => println!("cargo::error={line}"),
                        }
                    }
                }
                None
            }
        }
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
            for var in [
                "STRATA_FROZEN",
                "CI",
                CONFIRM_ENV,
                "STRATA_ALLOW_DESTRUCTIVE",
            ] {
                println!("cargo:rerun-if-env-changed={var}");
            }
        }
        let mut shared = Stream::read(migrations_dir, Some(&tenant_dir), EMBED_FILE, "")?;
        let mut tenant = Stream::read(tenant_dir, None, EMBED_TENANT_FILE, TENANT_PREAMBLE)?;

        // Mistakes the compiler reports on the user's own tokens are left to
        // it: a failing build script would hide those better errors. But the
        // build must not look done: `embed_migrations!()` then expands to a
        // compile error saying that no migration was written. Mistakes only
        // the whole crate can see (a reference to a model with a composite
        // key, a reference that names no model) fail here.
        let mut errors = scanned.errors;
        let mut desired = (SchemaState::default(), SchemaState::default());
        if errors.is_empty() {
            let (states, unseen) = desired_state(&scanned.models, &scanned.enums, &mut errors)?;
            if !unseen.is_empty() {
                return Err(Error::Models(unseen));
            }
            desired = states;
        }
        let (mut desired, mut tenant_desired) = desired;
        if !errors.is_empty() {
            // With somewhere to leave the finding (a build script's OUT_DIR),
            // leave it there and let the compiler show its span errors.
            // Each mistake is shown once, by the compiler on its tokens; the
            // embedded error only says where, and what did not happen.
            if let Some(out) = &out_dir {
                let why = format!(
                    "strata: no migration was written and the frozen check did not run, because the models have mistakes, each shown by the compiler: at {}",
                    errors
                        .iter()
                        .map(|e| format!("{}:{}:{}", e.file.display(), e.line, e.column))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                write_failure(out, EMBED_FILE, &why)?;
                write_failure(out, EMBED_TENANT_FILE, &why)?;
                return Ok(Outcome::default());
            }
            return Err(Error::Models(errors));
        }

        for schema in self
            .schemas
            .iter()
            .chain(self.search_path.iter().flatten())
            .chain(&self.extensions)
        {
            strata_manifest::validate_ident(schema).map_err(|cause| Error::InvalidName {
                name: schema.clone(),
                cause,
            })?;
        }
        desired.schemas.extend(self.schemas.iter().cloned());
        desired.search_path = self.search_path.clone();
        desired.extensions.extend(self.extensions.iter().cloned());
        desired
            .extension_schemas
            .extend(self.extension_schemas.clone());
        for role in &self.roles {
            let reserved = role.starts_with("pg_") || role.eq_ignore_ascii_case("public");
            strata_manifest::validate_ident(role)
                .map_err(|cause| Error::InvalidName {
                    name: role.clone(),
                    cause,
                })
                .and_then(|()| match reserved {
                    true => Err(Error::ReservedRole { role: role.clone() }),
                    false => Ok(()),
                })?;
            desired.roles.insert(role.clone());
        }
        for (schema, privileges, role) in &self.default_privileges {
            desired
                .default_privileges
                .push(self.default_privilege(&desired, schema, privileges, role)?);
        }
        desired.default_privileges.sort();
        if let Some(twice) = desired
            .default_privileges
            .windows(2)
            .find(|w| (&w[0].schema, &w[0].role) == (&w[1].schema, &w[1].role))
        {
            return Err(Error::DefaultPrivileges {
                schema: twice[1].schema.clone(),
                role: twice[1].role.clone(),
                problem: "is given twice: give every privilege in one call".to_owned(),
            });
        }
        // Tenant tables grant to the same roles (a project without tenant
        // models gets no tenant migrations for them).
        if !(tenant_desired.is_empty() && tenant.manifest.state.is_empty()) {
            tenant_desired.roles = desired.roles.clone();
        }
        if let Some(replicated) = &self.replicated {
            check_replicated(&tenant_desired, &desired, replicated)?;
        }
        if !tenant_desired.tables.is_empty() {
            let prefix = self.tenant_prefix.as_deref().unwrap_or("tenant_");
            let under = |s: &String| s.strip_prefix(prefix).map(|id| (s.clone(), id.to_owned()));
            if let Some((schema, id)) = desired.schemas.iter().find_map(under) {
                return Err(Error::SharedSchemaUnderTenantPrefix {
                    schema,
                    prefix: prefix.to_owned(),
                    id,
                });
            }
        }
        for scanned_view in &scanned.views {
            let view = &scanned_view.model;
            let sql = match (&view.sql, &view.sql_file) {
                (Some(sql), _) => sql.clone(),
                (None, Some(file)) => {
                    let path = root.join(file);
                    if in_build_script {
                        println!("cargo:rerun-if-changed={}", path.display());
                    }
                    let sql = std::fs::read_to_string(&path).map_err(io(&path))?;
                    if let Err(why) = strata_manifest::fragment::check_query(&sql) {
                        return Err(Error::SqlFile {
                            path,
                            line: None,
                            why: format!("view {}.{} takes its SQL from this file, which must hold one query, but {why}; anything else belongs in a hand-written migration (`strata new NAME`)", view.schema, view.name),
                        });
                    }
                    sql
                }
                (None, None) => String::new(),
            };
            if let Some(other) = desired
                .views
                .iter()
                .find(|v| v.schema == view.schema && v.name == view.name)
            {
                return Err(Error::DuplicateTable {
                    schema: other.schema.clone(),
                    table: other.name.clone(),
                    first: other.name.clone(),
                    second: view.ident.to_string(),
                });
            }
            desired.add_view(view.view_state(sql));
        }
        if let Some(dir) = &self.sql_dir {
            let dir = root.join(dir);
            let skip = scanned
                .views
                .iter()
                .filter_map(|v| v.model.sql_file.as_ref().map(|f| root.join(f)))
                .collect();
            let objects = crate::sql_dir::read(&dir, &skip)?;
            if in_build_script {
                println!("cargo:rerun-if-changed={}", dir.display());
                for file in &objects.files {
                    println!("cargo:rerun-if-changed={}", file.display());
                }
            }
            crate::sql_dir::add_to(objects, &mut desired)?;
        }

        // Every role a grant or policy names is declared, so that a fresh
        // database gets it before the migration names it.
        for state in [&desired, &tenant_desired] {
            for table in &state.tables {
                let named = table.grants.iter().map(|g| (&g.role, "grant")).chain(
                    table
                        .policies
                        .iter()
                        .flat_map(|p| p.roles.iter().map(|r| (r, "policy"))),
                );
                for (role, by) in named {
                    if !desired.roles.contains(role) {
                        return Err(Error::UndeclaredRole {
                            role: role.clone(),
                            object: strata_manifest::object_name(&[&table.schema, &table.name]),
                            by,
                        });
                    }
                }
            }
        }
        let warnings: Vec<String> = crate::warnings::warnings(&desired)
            .into_iter()
            .chain(
                crate::warnings::warnings(&tenant_desired)
                    .into_iter()
                    .map(|w| format!("tenant models: {w}")),
            )
            .collect();
        if in_build_script {
            for warning in &warnings {
                println!("cargo:warning=strata: {warning}");
            }
        }
        let confirm = self.confirmed();
        let shared_plan = plan(
            &shared.manifest.state,
            &desired,
            &confirm,
            strata_manifest::Stream::Shared {
                backfill_batch: self.backfill_batch.unwrap_or(BACKFILL_BATCH),
            },
        )?;
        let tenant_plan = plan(
            &tenant.manifest.state,
            &tenant_desired,
            &confirm,
            strata_manifest::Stream::Tenant,
        )?;
        // Each hazard the models ask for was confirmed, or the plan refused
        // it: say so once more, next to what the build writes.
        let mut warnings = warnings;
        for hazard in shared_plan
            .confirmed_hazards
            .iter()
            .chain(&tenant_plan.confirmed_hazards)
        {
            let line = format!("hazard, confirmed: {hazard}");
            if in_build_script {
                println!("cargo:warning=strata: {line}");
            }
            warnings.push(line);
        }
        let mut outcome = Outcome {
            warnings,
            models: scanned.models.len(),
            changes: shared_plan.changes.iter().map(Change::describe).collect(),
            tenant_changes: tenant_plan.changes.iter().map(Change::describe).collect(),
            ..Outcome::default()
        };
        let bookkeeping: Vec<String> = shared
            .pending_bookkeeping("")
            .into_iter()
            .chain(tenant.pending_bookkeeping("in every tenant: "))
            .collect();
        let nothing = shared_plan.changes.is_empty() && tenant_plan.changes.is_empty();
        if !(nothing && bookkeeping.is_empty()) && self.is_frozen() {
            let tenant_lines = outcome
                .tenant_changes
                .iter()
                .map(|c| format!("in every tenant: {c}"));
            return Err(Error::Frozen {
                changes: bookkeeping
                    .into_iter()
                    .chain(outcome.changes.iter().cloned())
                    .chain(tenant_lines)
                    .collect(),
            });
        }
        shared.record_bookkeeping()?;
        tenant.record_bookkeeping()?;
        for planned in shared_plan.migrations {
            outcome.written = Some(shared.write(planned)?);
        }
        for planned in tenant_plan.migrations {
            outcome.tenant_written = Some(tenant.write(planned)?);
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

    /// What this builder confirms, with what the environment adds:
    /// `STRATA_CONFIRM`, and `STRATA_ALLOW_DESTRUCTIVE=1`, its older spelling of `all`.
    fn confirmed(&self) -> Confirm {
        let from_env = Confirm::parse(&std::env::var(CONFIRM_ENV).unwrap_or_default());
        let legacy = matches!(
            std::env::var("STRATA_ALLOW_DESTRUCTIVE").as_deref(),
            Ok("1" | "true" | "yes")
        );
        let confirm = self.confirm.clone().and(&from_env);
        if legacy {
            Confirm::all()
        } else {
            confirm
        }
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

/// On a fleet, a tenant table's key to a shared table holds only where the
/// shared table is: on every server when its schema is replicated, on the
/// control database alone otherwise.
fn check_replicated(
    tenant: &SchemaState,
    shared: &SchemaState,
    replicated: &[String],
) -> Result<(), Error> {
    if let Some(unknown) = replicated.iter().find(|s| !shared.schemas.contains(*s)) {
        return Err(Error::NotASharedSchema {
            schema: unknown.clone(),
        });
    }
    for table in &tenant.tables {
        for key in &table.foreign_keys {
            let schema = &key.references.schema;
            if schema != strata_manifest::TENANT_PLACEHOLDER && !replicated.contains(schema) {
                return Err(Error::SharedNotReplicated {
                    tenant_table: table.name.clone(),
                    shared_table: format!("{schema}.{}", key.references.name),
                    schema: schema.clone(),
                });
            }
        }
    }
    Ok(())
}

/// The states the models describe: the shared one and the tenant stream's.
/// References to other models are resolved here, since only the whole crate
/// knows every model. Returns the states and the errors the compiler will not
/// report (`errors` gets those it will).
/// The model `path` names, from the model `from` whose field says
/// `references = path`, resolved the way the compiler resolves it: through
/// `crate::`, `self::`, `super::`, the `use` declarations in scope (`use …
/// as` aliases too), or the module it is in. A path that leads to no model
/// (a re-export strata cannot follow) falls back to the one model of that
/// name, if there is exactly one.
/// The absolute module path (`["models", "shop", "Customer"]`) that `path`
/// names, written in the module of `from`.
fn absolute_path(from: &ScannedModel, path: &syn::Path) -> Vec<String> {
    let segments: Vec<String> = path
        .segments
        .iter()
        .map(|s| crate::parse::unraw_ident(&s.ident))
        .collect();
    let absolute = |segments: &[String]| -> Vec<String> {
        let mut module = from.module.clone();
        let mut rest = segments;
        match rest.first().map(String::as_str) {
            Some("crate") | Some("") => {
                module.clear();
                rest = &rest[1..];
            }
            Some("self") => rest = &rest[1..],
            Some("super") => {
                while rest.first().is_some_and(|s| s == "super") {
                    module.pop();
                    rest = &rest[1..];
                }
            }
            _ => {}
        }
        module.extend(rest.iter().cloned());
        module
    };
    match segments.first().and_then(|first| from.uses.lookup(first)) {
        Some(imported) => {
            let mut path: Vec<String> = imported.to_vec();
            path.extend(segments.iter().skip(1).cloned());
            absolute(&path)
        }
        None => absolute(&segments),
    }
}

/// The enum type a field's type names: `"schema"."name"`.
fn resolve_enum(
    enums: &[ScannedEnum],
    from: &ScannedModel,
    path: &syn::Path,
) -> Result<String, String> {
    let full = absolute_path(from, path);
    let path_of = |e: &ScannedEnum| {
        let mut p = e.module.clone();
        p.push(e.model.ident.to_string());
        p
    };
    let found = enums.iter().find(|e| path_of(e) == full).or_else(|| {
        let name = full.last()?;
        let named: Vec<&ScannedEnum> = enums.iter().filter(|e| e.model.ident == name).collect();
        match named[..] {
            [one] => Some(one),
            _ => None,
        }
    });
    match found {
        Some(e) => Ok(e.model.enum_state().sql_type()),
        None => Err(format!(
            "strata cannot tell which PostgreSQL type stores `{}`: it is no #[strata::schema] enum of this crate; name the type: #[column(type = \"text\")], or declare the enum with #[strata::schema(\"…\")]",
            full.last().cloned().unwrap_or_default()
        )),
    }
}

fn resolve_model<'m>(
    models: &'m [ScannedModel],
    from: &ScannedModel,
    path: &syn::Path,
) -> Result<&'m ScannedModel, String> {
    let segments: Vec<String> = path
        .segments
        .iter()
        .map(|s| crate::parse::unraw_ident(&s.ident))
        .collect();
    let full = absolute_path(from, path);
    let path_of = |m: &ScannedModel| {
        let mut p = m.module.clone();
        p.push(m.model.ident.to_string());
        p
    };
    if let Some(exact) = models.iter().find(|m| path_of(m) == full) {
        return Ok(exact);
    }
    let name = full.last().cloned().unwrap_or_default();
    let named: Vec<&ScannedModel> = models.iter().filter(|m| m.model.ident == name).collect();
    match named[..] {
        [one] => Ok(one),
        [] => Err(format!(
            "`{}` names no #[strata::schema] model of this crate (looked for `crate::{}`); name a model, or write the table as references = \"schema.table(column)\"",
            segments.join("::"),
            full.join("::")
        )),
        _ => Err(format!(
            "{} models are called `{name}` ({}); write the path of the one you mean, such as `crate::{}`",
            named.len(),
            named
                .iter()
                .map(|m| format!("crate::{}", path_of(m).join("::")))
                .collect::<Vec<_>>()
                .join(", "),
            path_of(named[0]).join("::")
        )),
    }
}

fn desired_state(
    models: &[ScannedModel],
    enums: &[ScannedEnum],
    errors: &mut Vec<crate::ModelError>,
) -> Result<((SchemaState, SchemaState), Vec<crate::ModelError>), Error> {
    let mut shared = SchemaState::default();
    for (i, scanned) in enums.iter().enumerate() {
        let ty = scanned.model.enum_state();
        if let Some(first) = enums[..i]
            .iter()
            .find(|e| e.model.schema == ty.schema && e.model.name == ty.name)
        {
            return Err(Error::DuplicateTable {
                schema: ty.schema.clone(),
                table: ty.name.clone(),
                first: first.model.ident.to_string(),
                second: scanned.model.ident.to_string(),
            });
        }
        shared.add_enum(ty);
    }
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
            let target = resolve_model(models, scanned, path)?;
            match target {
                target if target.model.tenant && !model.tenant => Err(format!(
                    "`{wanted}` is a tenant model: a shared table cannot reference a tenant table"
                )),
                target => Ok((
                    QualifiedName::new(&target.model.schema, &target.model.table),
                    target
                        .model
                        .columns()
                        .filter(|f| f.primary_key)
                        .map(|f| f.column.clone())
                        .collect(),
                )),
            }
        };
        let resolve_type = |path: &syn::Path| resolve_enum(enums, scanned, path);
        match model.table_state(resolve, resolve_type) {
            Ok(table) if model.tenant => tenant.add_table(table),
            Ok(table) => shared.add_table(table),
            Err(error) => {
                for e in error {
                    let located = model_error(&scanned.file, &e);
                    // The compiler reports a shared model referencing a tenant
                    // model on the user's path; the rest only we can see.
                    let compiler_sees = [
                        "is a tenant model",
                        "strata cannot tell which PostgreSQL type",
                    ];
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

/// Writes through a temporary file and a rename, so that an interrupted build
/// never leaves half a migration behind.
pub(crate) fn write_atomically(path: &Path, text: &str) -> Result<(), Error> {
    let tmp = path.with_extension("strata-tmp");
    std::fs::write(&tmp, text).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}
