//! Model source for a database strata did not make: the mirror of the
//! parser, writing `#[strata::schema]` models, `#[strata::view]` views and
//! `db/` SQL files from a schema state read off a live database, so that
//! the build writes back the very same database.
//!
//! ```no_run
//! # fn pull(state: &strata_manifest::SchemaState) -> Result<(), strata_tools::Error> {
//! let pulled = strata_tools::pull::write(state, std::path::Path::new("."))?;
//! for object in &pulled.not_expressed {
//!     eprintln!("not written: {object}");
//! }
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::{Path, PathBuf};

use heck::{ToSnakeCase, ToUpperCamelCase};
use strata_manifest::{
    constraint_name, Action, Column, EnumType, SchemaState, Table, View, TENANT_PLACEHOLDER,
};

use crate::error::{io, Error};
use strata_build::Builder;

/// What [`write()`] wrote, and what it could not say in models.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pulled {
    /// Every file written, relative to the crate.
    pub files: Vec<PathBuf>,
    /// The build script's settings the database needs: extensions, the
    /// `search_path`, schemas with nothing in them, and whether `db/` holds files.
    pub build: BuildSettings,
    /// Whether a `build.rs` was written (the crate had none).
    pub wrote_build_script: bool,
    /// Objects the models cannot express, by name, with why: a build from
    /// the pulled models leaves them out, so each needs a hand-written
    /// migration (or stays unmanaged).
    pub not_expressed: Vec<String>,
    /// The tenant schemas found, if any: pulled as one set of
    /// `#[strata::schema(tenant)]` models.
    pub tenants: Option<TenantsFound>,
}

/// Schemas under one prefix that hold the same tables: one schema per
/// tenant, pulled as one set of tenant models.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantsFound {
    /// The prefix (`tenant_`), for `Tenants::prefix`.
    pub prefix: String,
    /// Every tenant schema, by name.
    pub schemas: Vec<String>,
    /// The tenant schemas whose tables differ from the others': they will
    /// show as drift until made alike.
    pub differing: Vec<String>,
}

/// What the pulled crate's `build.rs` sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildSettings {
    /// `Builder::extension`, each.
    pub extensions: Vec<String>,
    /// `Builder::extension_in`: the extensions that live outside the
    /// search path's first schema, and where.
    pub extension_schemas: std::collections::BTreeMap<String, String>,
    /// `Builder::search_path`.
    pub search_path: Option<Vec<String>>,
    /// `Builder::schema`, for schemas that hold nothing a model declares.
    pub empty_schemas: Vec<String>,
    /// `Builder::sql_dir("db")`.
    pub sql_dir: bool,
    /// `Builder::role`, each: the roles the policies name.
    pub roles: Vec<String>,
    /// `Builder::default_privileges`, each: schema, privileges, role.
    pub default_privileges: Vec<(String, String, String)>,
    /// `Builder::tenant_prefix`: the prefix of the tenant schemas found.
    pub tenant_prefix: Option<String>,
}

impl BuildSettings {
    /// A builder for the crate at `dir` with these settings: what the
    /// pulled `build.rs` does, for a build run in-process.
    pub fn builder(&self, dir: &Path) -> Builder {
        let mut builder = Builder::new().crate_dir(dir);
        for extension in &self.extensions {
            builder = match self.extension_schemas.get(extension) {
                Some(schema) => builder.extension_in(extension, schema),
                None => builder.extension(extension),
            };
        }
        if let Some(path) = &self.search_path {
            builder = builder.search_path(path.iter().cloned());
        }
        for schema in &self.empty_schemas {
            builder = builder.schema(schema);
        }
        if self.sql_dir {
            builder = builder.sql_dir("db");
        }
        for role in &self.roles {
            builder = builder.role(role);
        }
        for (schema, privileges, role) in &self.default_privileges {
            builder = builder.default_privileges(schema, privileges, role);
        }
        if let Some(prefix) = &self.tenant_prefix {
            builder = builder.tenant_prefix(prefix);
        }
        builder
    }

    /// The lines of a `build.rs` with these settings.
    pub fn build_script(&self) -> String {
        let mut out = String::from("fn main() {\n    strata_build::Builder::new()\n");
        for extension in &self.extensions {
            let _ = match self.extension_schemas.get(extension) {
                Some(schema) => writeln!(out, "        .extension_in({extension:?}, {schema:?})"),
                None => writeln!(out, "        .extension({extension:?})"),
            };
        }
        if let Some(path) = &self.search_path {
            let _ = writeln!(out, "        .search_path({path:?})");
        }
        for schema in &self.empty_schemas {
            let _ = writeln!(out, "        .schema({schema:?})");
        }
        if self.sql_dir {
            out.push_str("        .sql_dir(\"db\")\n");
        }
        for role in &self.roles {
            let _ = writeln!(out, "        .role({role:?})");
        }
        for (schema, privileges, role) in &self.default_privileges {
            let _ = writeln!(
                out,
                "        .default_privileges({schema:?}, {privileges:?}, {role:?})"
            );
        }
        if let Some(prefix) = &self.tenant_prefix {
            let _ = writeln!(out, "        .tenant_prefix({prefix:?})");
        }
        out.push_str("        .run()\n        .expect(\"strata: generating migrations\");\n}\n");
        out
    }
}

/// Writes the models of `state` into the crate at `dir`: `src/models/mod.rs`
/// with a module per schema, `src/models/<schema>.rs`, the SQL-bodied
/// objects under `db/`, and `build.rs` when the crate has none.
pub fn write(state: &SchemaState, dir: &Path) -> Result<Pulled, Error> {
    let mut pulled = Pulled::default();
    // Tenant schemas become one set of tenant models: the tables they share,
    // under the placeholder schema.
    let (state, tenants) = match find_tenants(state) {
        Some((template, found)) => (template, Some(found)),
        None => (state.clone(), None),
    };
    let state = &state;
    if let Some(found) = &tenants {
        let in_tenant = |schema: &String| found.schemas.contains(schema);
        let objects = state
            .views
            .iter()
            .filter(|v| in_tenant(&v.schema))
            .map(|v| format!("view {}.{}", v.schema, v.name))
            .chain(
                state
                    .enums
                    .iter()
                    .filter(|e| in_tenant(&e.schema))
                    .map(|e| format!("enum {}.{}", e.schema, e.name)),
            )
            .chain(
                strata_manifest::sql_files::files(state)
                    .into_iter()
                    .filter(|f| in_tenant(&f.schema))
                    .map(|f| format!("{} {}.{}", singular(f.folder), f.schema, f.name)),
            );
        for object in objects {
            pulled.not_expressed.push(format!(
                "{object}: a tenant schema holds tables only (put it in a shared schema)"
            ));
        }
        for schema in &found.differing {
            pulled.not_expressed.push(format!(
                "tenant schema {schema}: its tables differ from the other tenants' (it will show as drift)"
            ));
        }
    }
    let mut state = state.clone();
    if let Some(found) = &tenants {
        let keep = |schema: &String| !found.schemas.contains(schema);
        state.views.retain(|v| keep(&v.schema));
        state.enums.retain(|e| keep(&e.schema));
        for kind in strata_manifest::SQL_FILE_KINDS {
            (kind.retain)(&mut state, &|schema| keep(&schema.to_owned()));
        }
    }
    let state = &state;
    pulled.tenants = tenants;
    let names = Names::new(state);
    let models = dir.join("src/models");
    let mut modules = String::from(
        "//! Models pulled from a live database by `strata pull`. Review them:\n//! they are yours from now on.\n\n",
    );
    for schema in &state.schemas {
        let source = schema_source(state, schema, &names, &mut pulled);
        if source.trim().is_empty() {
            pulled.build.empty_schemas.push(schema.clone());
            continue;
        }
        let module = names.module(schema);
        if schema == TENANT_PLACEHOLDER {
            let _ = writeln!(
                modules,
                "/// The tables of every tenant's schema (`Tenants::prefix`: see `strata pull`'s report)."
            );
        }
        let _ = writeln!(modules, "pub mod {module};");
        write_file(
            dir,
            &format!("src/models/{module}.rs"),
            &source,
            &mut pulled,
        )?;
    }
    std::fs::create_dir_all(&models).map_err(io(&models))?;
    write_file(dir, "src/models/mod.rs", &modules, &mut pulled)?;

    let mut without_object: Vec<String> = state
        .object_privileges
        .iter()
        .filter(|p| !p.on.exists_in(state))
        .map(|p| p.on.to_string())
        .collect();
    without_object.dedup();
    for object in without_object {
        pulled.not_expressed.push(format!(
            "privileges on {object}: set by hand on what strata does not model (a column's sequence, say)"
        ));
    }
    for trigger in state.event_triggers.iter().filter(|t| t.disabled) {
        pulled.not_expressed.push(format!(
            "event trigger {}: disabled, and a file's event trigger is enabled (pulled enabled: drift reports the difference until one of them changes)",
            trigger.name
        ));
    }
    for object in strata_manifest::sql_files::files(state) {
        let stem: Vec<&str> = object.stem.iter().map(String::as_str).collect();
        let file = format!("db/{}/{}.sql", object.folder, file_stem(&stem));
        let file = unique_file(&pulled, file);
        write_file(dir, &file, &statement(&object.sql), &mut pulled)?;
        pulled.build.sql_dir = true;
    }
    // PL/pgSQL comes with every database.
    pulled.build.extensions = state
        .extensions
        .iter()
        .filter(|e| *e != "plpgsql")
        .cloned()
        .collect();
    // Where the build would put an extension: the search path's first
    // schema, or `public`.
    let home = state
        .search_path
        .iter()
        .flatten()
        .find(|s| !s.starts_with('$'))
        .map_or("public", String::as_str);
    pulled.build.extension_schemas = state
        .extension_schemas
        .iter()
        .filter(|(e, schema)| *e != "plpgsql" && *schema != home)
        .map(|(e, schema)| (e.clone(), schema.clone()))
        .collect();
    pulled.build.search_path = state.search_path.clone();
    pulled.build.tenant_prefix = pulled.tenants.as_ref().map(|t| t.prefix.clone());
    pulled.build.roles = state
        .roles
        .iter()
        .cloned()
        .chain(
            state
                .tables
                .iter()
                .flat_map(|t| &t.policies)
                .flat_map(|p| p.roles.iter().cloned()),
        )
        .chain(
            state
                .tables
                .iter()
                .flat_map(|t| t.grants.iter().map(|g| g.role.clone())),
        )
        .chain(state.default_privileges.iter().map(|d| d.role.clone()))
        .collect::<BTreeSet<String>>()
        .into_iter()
        .collect();
    pulled.build.default_privileges = state
        .default_privileges
        .iter()
        .map(|d| {
            let privileges: Vec<String> = d
                .privileges
                .iter()
                .map(|p| p.sql().to_lowercase())
                .collect();
            (d.schema.clone(), privileges.join(", "), d.role.clone())
        })
        .collect();
    let build = dir.join("build.rs");
    if !build.exists() {
        write_file(dir, "build.rs", &pulled.build.build_script(), &mut pulled)?;
        pulled.wrote_build_script = true;
    }
    Ok(pulled)
}

/// The schemas of `state` that look like one schema per tenant: two or
/// more under one prefix (the name up to its first `_`, the rest a valid
/// tenant id) whose tables are the same once the schema is taken out. The
/// state with their tables replaced by one copy under the placeholder
/// schema (the most common shape among them), and what was found.
pub(crate) fn find_tenants(state: &SchemaState) -> Option<(SchemaState, TenantsFound)> {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for schema in &state.schemas {
        if let Some((head, id)) = schema.split_once('_') {
            let valid = !id.is_empty()
                && !head.is_empty()
                && head.starts_with(|c: char| c.is_ascii_lowercase())
                && schema
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if valid {
                groups
                    .entry(format!("{head}_"))
                    .or_default()
                    .push(schema.clone());
            }
        }
    }
    let shape = |schema: &str| -> Vec<Table> {
        state
            .tables
            .iter()
            .filter(|t| t.schema == schema)
            .map(|t| {
                let mut t = t.clone();
                t.schema = TENANT_PLACEHOLDER.to_owned();
                for key in &mut t.foreign_keys {
                    if key.references.schema == schema {
                        key.references.schema = TENANT_PLACEHOLDER.to_owned();
                    }
                }
                t
            })
            .collect()
    };
    // The largest group whose most common shape at least two share.
    let (prefix, schemas, template) = groups
        .into_iter()
        .filter(|(_, schemas)| schemas.len() >= 2)
        .filter_map(|(prefix, schemas)| {
            let shapes: Vec<Vec<Table>> = schemas.iter().map(|s| shape(s)).collect();
            let (best, count) = shapes
                .iter()
                .map(|a| (a, shapes.iter().filter(|b| *b == a).count()))
                .max_by_key(|(_, count)| *count)?;
            (count >= 2 && !best.is_empty()).then(|| (prefix, schemas.clone(), best.clone()))
        })
        .max_by_key(|(_, schemas, _)| schemas.len())?;
    let differing = schemas
        .iter()
        .filter(|s| shape(s) != template)
        .cloned()
        .collect();
    let mut pulled = state.clone();
    pulled.tables.retain(|t| !schemas.contains(&t.schema));
    for table in template {
        pulled.add_table(table);
    }
    pulled.schemas.retain(|s| !schemas.contains(s));
    pulled.schemas.insert(TENANT_PLACEHOLDER.to_owned());
    Some((
        pulled,
        TenantsFound {
            prefix,
            schemas,
            differing,
        },
    ))
}

/// A statement as a file holds it: ending in `;` and a newline.
fn statement(sql: &str) -> String {
    let sql = sql.trim_end();
    match sql.ends_with(';') {
        true => format!("{sql}\n"),
        false => format!("{sql};\n"),
    }
}

/// `functions` → `function`: a folder's kind, for one object of it.
fn singular(folder: &str) -> &str {
    folder.strip_suffix('s').unwrap_or(folder)
}

/// A file name for an object named by `parts`, joined with `.`: any
/// character but ASCII letters, digits, `_` and `-` becomes `_`, so that no
/// name (`a/b`, `..`) reaches outside its folder.
fn file_stem(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|part| {
            part.chars()
                .map(
                    |c| match c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                        true => c,
                        false => '_',
                    },
                )
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// `file`, or with a number before `.sql` when another object (an
/// overload, or a name that reads the same once made a file name) took it.
fn unique_file(pulled: &Pulled, file: String) -> String {
    let taken = |f: &str| pulled.files.iter().any(|p| p == Path::new(f));
    if !taken(&file) {
        return file;
    }
    let stem = file.strip_suffix(".sql").unwrap_or(&file).to_owned();
    (2..)
        .map(|n| format!("{stem}.{n}.sql"))
        .find(|f| !taken(f))
        .unwrap_or(file)
}

fn write_file(dir: &Path, relative: &str, text: &str, pulled: &mut Pulled) -> Result<(), Error> {
    let path = dir.join(relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    std::fs::write(&path, text).map_err(io(&path))?;
    pulled.files.push(PathBuf::from(relative));
    Ok(())
}

/// Rust names for schemas (modules), tables, views and enums (types), each
/// unique in its module.
struct Names {
    types: BTreeMap<(String, String), String>,
    modules: BTreeMap<String, String>,
}

impl Names {
    fn new(state: &SchemaState) -> Self {
        let mut types = BTreeMap::new();
        let mut taken: BTreeSet<(String, String)> = BTreeSet::new();
        let objects = state
            .enums
            .iter()
            .map(|e| (&e.schema, &e.name))
            .chain(state.tables.iter().map(|t| (&t.schema, &t.name)))
            .chain(state.views.iter().map(|v| (&v.schema, &v.name)));
        for (schema, name) in objects {
            let base = rust_type_name(name);
            let mut candidate = base.clone();
            let mut n = 2;
            while !taken.insert((schema.clone(), candidate.clone())) {
                candidate = format!("{base}{n}");
                n += 1;
            }
            types.insert((schema.clone(), name.clone()), candidate);
        }
        // Schemas `Sales` and `sales` would both be `mod sales`.
        let mut modules = BTreeMap::new();
        let mut used: BTreeSet<String> = BTreeSet::new();
        for schema in &state.schemas {
            let base = match schema.as_str() {
                TENANT_PLACEHOLDER => "tenant".to_owned(),
                other => rust_field_name(other).0,
            };
            let mut candidate = base.clone();
            let mut n = 2;
            while !used.insert(candidate.clone()) {
                candidate = format!("{base}_{n}");
                n += 1;
            }
            modules.insert(schema.clone(), candidate);
        }
        Names { types, modules }
    }

    fn module(&self, schema: &str) -> String {
        self.modules
            .get(schema)
            .cloned()
            .unwrap_or_else(|| rust_field_name(schema).0)
    }

    fn ty(&self, schema: &str, name: &str) -> String {
        self.types
            .get(&(schema.to_owned(), name.to_owned()))
            .cloned()
            .unwrap_or_else(|| rust_type_name(name))
    }

    /// The path of a type from inside the module of `from`.
    fn path(&self, from: &str, schema: &str, name: &str) -> String {
        match from == schema {
            true => self.ty(schema, name),
            false => format!("super::{}::{}", self.module(schema), self.ty(schema, name)),
        }
    }
}

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use",
    "where", "while", "abstract", "become", "box", "do", "final", "macro", "override", "priv",
    "try", "typeof", "unsized", "virtual", "yield", "gen",
];

/// A Rust field (or module) name for a SQL name, and whether it differs
/// from it (then the model says `name = "…"`).
fn rust_field_name(sql: &str) -> (String, bool) {
    let mut name: String = sql
        .to_snake_case()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "c_");
    }
    if KEYWORDS.contains(&name.as_str()) {
        name.push('_');
    }
    let differs = name != sql;
    (name, differs)
}

fn rust_type_name(sql: &str) -> String {
    let mut name: String = sql
        .to_upper_camel_case()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 'T');
    }
    if KEYWORDS.contains(&name.as_str()) || name == "Self" {
        name.push('_');
    }
    name
}

/// `, deferrable` and its kind, as `#[column]` and `#[unique]` say it.
fn deferral_attr(deferral: strata_manifest::Deferral) -> &'static str {
    match deferral {
        strata_manifest::Deferral::Immediate => "",
        strata_manifest::Deferral::Deferrable => ", deferrable",
        strata_manifest::Deferral::InitiallyDeferred => ", deferrable = \"initially deferred\"",
    }
}

/// A Rust string literal for `text`: plain when nothing in it needs an
/// escape, else raw when it can be.
fn literal(text: &str) -> String {
    if !text.contains(['"', '\\', '\n', '\r', '\t']) {
        return format!("\"{text}\"");
    }
    for hashes in 0..4 {
        let close = format!("\"{}", "#".repeat(hashes));
        if !text.contains(&close) && !text.contains('\r') {
            let h = "#".repeat(hashes);
            return format!("r{h}\"{text}\"{h}");
        }
    }
    format!("{text:?}")
}

fn doc(out: &mut String, indent: &str, comment: Option<&String>) {
    if let Some(comment) = comment {
        for line in comment.lines() {
            let _ = writeln!(
                out,
                "{indent}///{}{line}",
                if line.is_empty() { "" } else { " " }
            );
        }
        if comment.is_empty() {
            let _ = writeln!(out, "{indent}///");
        }
    }
}

/// The source of one schema's module: enums, tables, views.
fn schema_source(state: &SchemaState, schema: &str, names: &Names, pulled: &mut Pulled) -> String {
    let mut out = String::new();
    for ty in state.enums.iter().filter(|e| e.schema == schema) {
        enum_source(&mut out, ty, names, pulled);
    }
    for table in state.tables.iter().filter(|t| t.schema == schema) {
        table_source(&mut out, state, table, names, pulled);
    }
    for view in state.views.iter().filter(|v| v.schema == schema) {
        view_source(&mut out, view, names, pulled);
    }
    out
}

fn enum_source(out: &mut String, ty: &EnumType, names: &Names, pulled: &mut Pulled) {
    let rust = names.ty(&ty.schema, &ty.name);
    // A value is its variant's name in snake_case, or says its own
    // (`#[value(name = "PG-13")]`); variants that would clash are numbered.
    let mut variants: Vec<String> = Vec::new();
    for value in &ty.values {
        let base = rust_type_name(value);
        let mut variant = base.clone();
        let mut n = 2;
        while variants.contains(&variant) {
            variant = format!("{base}{n}");
            n += 1;
        }
        variants.push(variant);
    }
    let table = match rust.to_snake_case() == ty.name {
        true => String::new(),
        false => {
            pulled.not_expressed.push(format!(
                "enum {}.{}: its name is not the snake_case name of a Rust enum",
                ty.schema, ty.name
            ));
            return;
        }
    };
    let _ = writeln!(out, "#[strata::schema({:?}{table})]", ty.schema);
    let _ = writeln!(
        out,
        "#[derive(Debug, Clone, Copy, PartialEq, Eq)]\npub enum {rust} {{"
    );
    for (variant, value) in variants.iter().zip(&ty.values) {
        if variant.to_snake_case() != *value {
            let _ = writeln!(out, "    #[value(name = {})]", literal(value));
        }
        let _ = writeln!(out, "    {variant},");
    }
    out.push_str("}\n\n");
}

/// The Rust type for a column's SQL type, and whether the model must say
/// `type = "…"` beside it.
fn rust_type(state: &SchemaState, from: &str, column: &Column, names: &Names) -> (String, bool) {
    let ty = column.sql_type.as_str();
    for e in &state.enums {
        let quoted = strata_manifest::qualified(&e.schema, &e.name);
        if ty == quoted {
            return (names.path(from, &e.schema, &e.name), false);
        }
    }
    let scalar = |t: &str| -> Option<&'static str> {
        Some(match t {
            "smallint" => "i16",
            "integer" => "i32",
            "bigint" => "i64",
            "real" => "f32",
            "double precision" => "f64",
            "boolean" => "bool",
            "text" => "String",
            _ => return None,
        })
    };
    if ty == "bytea" {
        return ("Vec<u8>".to_owned(), false);
    }
    if let Some(rust) = scalar(ty) {
        return (rust.to_owned(), false);
    }
    if let Some(rust) = ty.strip_suffix("[]").and_then(scalar) {
        return (format!("Vec<{rust}>"), false);
    }
    // Read as text; the type attribute keeps the column's own type.
    ("String".to_owned(), true)
}

fn action(keyword: &str, action: Action) -> String {
    match action {
        Action::NoAction => String::new(),
        other => format!(", {keyword} = {:?}", other.sql().to_lowercase()),
    }
}

fn table_source(
    out: &mut String,
    state: &SchemaState,
    table: &Table,
    names: &Names,
    pulled: &mut Pulled,
) {
    let object = format!("{}.{}", table.schema, table.name);
    let rust = names.ty(&table.schema, &table.name);
    let mut attrs = String::new();
    if rust.to_snake_case() != table.name {
        let _ = write!(attrs, ", table = {:?}", table.name);
    }
    doc(out, "", table.comment.as_ref());
    let schema = match table.schema == TENANT_PLACEHOLDER {
        true => "tenant".to_owned(),
        false => format!("{:?}", table.schema),
    };
    let security = table.row_security();
    match (security.enabled, security.forced) {
        (true, true) => attrs.push_str(", rls"),
        (true, false) => attrs.push_str(", rls = \"enabled\""),
        (false, forced) => {
            if forced || !table.policies.is_empty() {
                // A model's policies need row-level security on.
                attrs.push_str(", rls = \"enabled\"");
                pulled.not_expressed.push(format!(
                    "row-level security of {object}: it is {}{}; a model says `rls` (enabled and forced) or `rls = \"enabled\"`, and the pulled one enables it",
                    security.describe(),
                    match table.policies.is_empty() {
                        true => "",
                        false => " though the table has policies",
                    }
                ));
            }
        }
    }
    if let Some(partition) = &table.partition {
        let _ = write!(attrs, ", partition_by = {:?}", partition.spelling());
        if let Some(count) = partition.hash_partitions {
            let _ = write!(attrs, ", partitions = {count}");
        } else {
            pulled.not_expressed.push(format!(
                "partitions of {object}: pulled as `partition_by`; add `partition_interval`, `partitions_ahead` and `default_partition` for strata to make them ahead (the partitions found are kept)"
            ));
        }
    }
    let _ = writeln!(out, "#[strata::schema({schema}{attrs})]");
    for policy in &table.policies {
        let mut line = format!("#[policy(name = {:?}", policy.name);
        if policy.command != strata_manifest::PolicyCommand::All {
            let _ = write!(line, ", for = {:?}", policy.command.sql().to_lowercase());
        }
        if policy.restrictive {
            line.push_str(", restrictive");
        }
        match policy.roles.as_slice() {
            [] => {}
            [one] => {
                let _ = write!(line, ", to = {one:?}");
            }
            many => {
                let roles: Vec<String> = many.iter().map(|r| format!("{r:?}")).collect();
                let _ = write!(line, ", to = [{}]", roles.join(", "));
            }
        }
        if let Some(using) = &policy.using {
            let _ = write!(line, ", using = {}", literal(using));
        }
        if let Some(check) = &policy.with_check {
            let _ = write!(line, ", with_check = {}", literal(check));
        }
        line.push_str(")]");
        let _ = writeln!(out, "{line}");
    }
    for grant in &table.grants {
        let privileges: Vec<String> = grant
            .privileges
            .iter()
            .map(|p| p.sql().to_lowercase())
            .collect();
        let _ = writeln!(
            out,
            "#[grant({}, to = {:?})]",
            privileges.join(", "),
            grant.role
        );
    }
    if let Some(pk) = &table.primary_key {
        if !pk.deferral.is_default() {
            pulled.not_expressed.push(format!(
                "primary key {} of {object}: it is{}, which a model's primary key cannot say",
                pk.name,
                pk.deferral.sql().to_ascii_lowercase()
            ));
        }
    }
    for index in &table.indexes {
        let columns: Vec<String> = index.columns.iter().map(|c| format!("{c:?}")).collect();
        let keys = match &index.keys {
            Some(keys) => format!("keys = {}", literal(keys)),
            None => format!("columns = [{}]", columns.join(", ")),
        };
        if index.keys.is_none() && index.columns.iter().any(|c| c == "(expression)") {
            pulled.not_expressed.push(format!(
                "index {} of {object}: it indexes an expression",
                index.name
            ));
            continue;
        }
        let mut extra = String::new();
        if index.unique {
            extra.push_str(", unique");
        }
        if let Some(predicate) = &index.predicate {
            let _ = write!(extra, ", where = {predicate:?}");
        }
        if let Some(method) = index.method.as_deref().filter(|m| *m != "btree") {
            let _ = write!(extra, ", using = {method:?}");
        }
        if let Some(ops) = &index.opclass {
            let _ = write!(extra, ", ops = {ops:?}");
        }
        let _ = writeln!(out, "#[index({keys}, name = {:?}{extra})]", index.name);
    }
    for check in &table.checks {
        let _ = writeln!(
            out,
            "#[check(name = {:?}, expr = {})]",
            check.name,
            literal(&check.expr)
        );
    }
    // A one-column unique constraint named as strata names it is the
    // column's `unique`; any other is the struct's `#[unique]`.
    let by_column = |u: &strata_manifest::Key| {
        u.columns.len() == 1
            && u.name == constraint_name(&table.name, &u.columns, "key")
            && u.deferral.is_default()
    };
    for unique in table.uniques.iter().filter(|u| !by_column(u)) {
        let columns: Vec<String> = unique.columns.iter().map(|c| format!("{c:?}")).collect();
        let deferral = deferral_attr(unique.deferral);
        let _ = writeln!(
            out,
            "#[unique(columns = [{}], name = {:?}{deferral})]",
            columns.join(", "),
            unique.name
        );
    }
    // A one-column foreign key named as strata names it is the column's
    // `references`; any other is the struct's `#[foreign_key]`.
    let fk_by_column = |fk: &strata_manifest::ForeignKey| {
        fk.columns.len() == 1
            && fk.name == constraint_name(&table.name, &fk.columns, "fkey")
            && !fk.not_valid
    };
    for fk in table.foreign_keys.iter().filter(|fk| !fk_by_column(fk)) {
        let columns: Vec<String> = fk.columns.iter().map(|c| format!("{c:?}")).collect();
        let _ = writeln!(
            out,
            "#[foreign_key(columns = [{}], references = {:?}, name = {:?}{}{}{}{})]",
            columns.join(", "),
            format!(
                "{}.{}({})",
                fk.references.schema,
                fk.references.name,
                fk.referenced_columns.join(", ")
            ),
            fk.name,
            action("on_delete", fk.on_delete),
            action("on_update", fk.on_update),
            deferral_attr(fk.deferral),
            if fk.not_valid { ", not_valid" } else { "" }
        );
    }
    // A primary key named as strata names it, over columns in table order,
    // is its fields' `primary_key`; any other is the struct's.
    let pk_by_fields = table.primary_key.as_ref().map_or(true, |pk| {
        let in_table_order: Vec<&String> = table
            .columns
            .iter()
            .map(|c| &c.name)
            .filter(|c| pk.columns.contains(c))
            .collect();
        pk.name == constraint_name(&table.name, &[], "pkey")
            && in_table_order.iter().copied().eq(pk.columns.iter())
    });
    if let Some(pk) = table.primary_key.as_ref().filter(|_| !pk_by_fields) {
        let columns: Vec<String> = pk.columns.iter().map(|c| format!("{c:?}")).collect();
        let name = match pk.name == constraint_name(&table.name, &[], "pkey") {
            true => String::new(),
            false => format!(", name = {:?}", pk.name),
        };
        let _ = writeln!(
            out,
            "#[primary_key(columns = [{}]{name})]",
            columns.join(", ")
        );
    }
    let _ = writeln!(out, "pub struct {rust} {{");
    let pk_columns: &[String] = match (&table.primary_key, pk_by_fields) {
        (Some(pk), true) => pk.columns.as_slice(),
        _ => &[],
    };
    for column in &table.columns {
        let mut attrs: Vec<String> = Vec::new();
        let (field, renamed) = rust_field_name(&column.name);
        if pk_columns.contains(&column.name) {
            attrs.push("primary_key".to_owned());
        }
        match (column.identity, column.identity_always) {
            (true, true) => attrs.push("identity = \"always\"".to_owned()),
            (true, false) => attrs.push("identity".to_owned()),
            (false, _) => {}
        }
        let one = std::slice::from_ref(&column.name);
        if table
            .uniques
            .iter()
            .any(|u| u.columns == one && by_column(u))
        {
            attrs.push("unique".to_owned());
        }
        let (ty, needs_type) = rust_type(state, &table.schema, column, names);
        if needs_type {
            attrs.push(format!("type = {:?}", column.sql_type));
        }
        if renamed {
            attrs.push(format!("name = {:?}", column.name));
        }
        if let Some(default) = &column.default {
            attrs.push(format!("default = {}", literal(default)));
        }
        if let Some(generated) = &column.generated {
            attrs.push(format!("generated = {}", literal(generated)));
        }
        if let Some(fk) = table
            .foreign_keys
            .iter()
            .find(|fk| fk.columns == one && fk_by_column(fk))
        {
            let target = state
                .tables
                .iter()
                .find(|t| t.schema == fk.references.schema && t.name == fk.references.name);
            let to_primary_key = target
                .and_then(|t| t.primary_key.as_ref())
                .is_some_and(|pk| pk.columns == fk.referenced_columns);
            let reference = match (target, to_primary_key) {
                (Some(_), true) => {
                    names.path(&table.schema, &fk.references.schema, &fk.references.name)
                }
                _ => format!(
                    "{:?}",
                    format!(
                        "{}.{}({})",
                        fk.references.schema,
                        fk.references.name,
                        fk.referenced_columns.join(", ")
                    )
                ),
            };
            attrs.push(format!(
                "references = {reference}{}{}{}",
                action("on_delete", fk.on_delete),
                action("on_update", fk.on_update),
                deferral_attr(fk.deferral)
            ));
        }
        doc(out, "    ", column.comment.as_ref());
        if !attrs.is_empty() {
            let _ = writeln!(out, "    #[column({})]", attrs.join(", "));
        }
        let ty = match column.nullable {
            true => format!("Option<{ty}>"),
            false => ty,
        };
        let _ = writeln!(out, "    pub {field}: {ty},");
    }
    out.push_str("}\n\n");
}

fn view_source(out: &mut String, view: &View, names: &Names, pulled: &mut Pulled) {
    let rust = names.ty(&view.schema, &view.name);
    if rust.to_snake_case() != view.name {
        pulled.not_expressed.push(format!(
            "view {}.{}: its name is not the snake_case name of a Rust struct",
            view.schema, view.name
        ));
        return;
    }
    let materialized = match view.materialized {
        true => ", materialized = true",
        false => "",
    };
    let _ = writeln!(
        out,
        "#[strata::view({:?}, sql = {}{materialized})]",
        view.schema,
        literal(view.sql.trim())
    );
    for index in &view.indexes {
        let columns: Vec<String> = index.columns.iter().map(|c| format!("{c:?}")).collect();
        let unique = if index.unique { ", unique" } else { "" };
        let _ = writeln!(
            out,
            "#[index(columns = [{}], name = {:?}{unique})]",
            columns.join(", "),
            index.name
        );
    }
    // A view's columns have the types its query gives them; read as text.
    let _ = writeln!(out, "pub struct {rust} {{");
    for column in &view.columns {
        let (field, renamed) = rust_field_name(column);
        if renamed {
            let _ = writeln!(out, "    #[column(name = {column:?})]");
        }
        let _ = writeln!(out, "    pub {field}: Option<String>,");
    }
    out.push_str("}\n\n");
}
