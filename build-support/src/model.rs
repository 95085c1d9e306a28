//! A model as read from its struct: what the macro expands and the build script plans from.

use strata_manifest::{
    constraint_name, Action, Check, Column, ForeignKey, Grant, Index, Policy, QualifiedName, Table,
};

/// A struct annotated with `#[strata::schema(…)]`.
#[derive(Debug, Clone)]
pub struct Model {
    /// The struct's name.
    pub ident: syn::Ident,
    /// `#[strata::schema(tenant)]`: the table lives in every tenant's schema;
    /// `schema` is then [`strata_manifest::TENANT_PLACEHOLDER`].
    pub tenant: bool,
    /// The schema the table lives in.
    pub schema: String,
    /// The table's name.
    pub table: String,
    /// `moved_from = "public"`: the schema the table used to live in.
    pub moved_from: Option<String>,
    /// `renamed_from = "product"`: the name the table used to have.
    pub renamed_from: Option<String>,
    /// `compat_view`: leave a view under the old name.
    pub compat_view: bool,
    /// The struct's doc comment: `COMMENT ON TABLE`.
    pub comment: Option<String>,
    /// Every field of the struct, in order, columns and skipped fields alike.
    pub fields: Vec<Field>,
    /// `#[index(…)]` on the struct.
    pub indexes: Vec<IndexSpec>,
    /// `#[check(…)]` on the struct.
    pub checks: Vec<Check>,
    /// `#[unique(…)]` on the struct.
    pub uniques: Vec<UniqueSpec>,
    /// `#[foreign_key(…)]` on the struct (an empty name: strata's).
    pub foreign_keys: Vec<ForeignKey>,
    /// `#[primary_key(columns = […], name = "…")]`: the key's order and
    /// name, when the struct says them (its fields are `primary_key` too).
    pub primary_key: Option<(Vec<String>, Option<String>)>,
    /// `rls`: row-level security enabled and, unless `rls = "enabled"`,
    /// forced.
    pub rls: bool,
    /// `rls = "enabled"`: enabled and not forced (the table's owner
    /// passes the policies).
    pub rls_forced: bool,
    /// `#[policy(…)]` on the struct.
    pub policies: Vec<Policy>,
    /// `#[grant(…)]` on the struct, one per role.
    pub grants: Vec<Grant>,
    /// `partition_by = "range(…)"` and its partitions.
    pub partition: Option<strata_manifest::Partitioning>,
}

/// `#[unique(columns = […], name = "…")]`: a unique constraint over
/// several columns, or one named otherwise than strata names it.
#[derive(Debug, Clone)]
pub struct UniqueSpec {
    /// The columns, in order.
    pub columns: Vec<String>,
    /// The name, if given (default `<table>_<columns>_key`).
    pub name: Option<String>,
    /// `deferrable`: when it is checked.
    pub deferral: strata_manifest::Deferral,
}

/// A struct annotated with `#[strata::view(…)]`: a view or materialized view.
#[derive(Debug, Clone)]
pub struct ViewModel {
    /// The struct's name.
    pub ident: syn::Ident,
    /// The schema the view lives in.
    pub schema: String,
    /// The view's name: the struct's in snake_case.
    pub name: String,
    /// `sql = "…"`.
    pub sql: Option<String>,
    /// `sql_file = "…"`, from the crate's root.
    pub sql_file: Option<String>,
    /// `materialized`.
    pub materialized: bool,
    /// The struct's fields: the view's columns, and skipped fields.
    pub fields: Vec<Field>,
    /// A materialized view's `#[index(…)]`.
    pub indexes: Vec<IndexSpec>,
}

impl ViewModel {
    /// The fields that are columns.
    pub fn columns(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| !f.skip)
    }

    /// True when a unique index lets `REFRESH … CONCURRENTLY` run.
    pub fn refreshes_concurrently(&self) -> bool {
        self.materialized
            && self
                .indexes
                .iter()
                .any(|i| i.unique && i.predicate.is_none())
    }

    /// The view this struct describes, with `sql` the SQL it runs.
    pub fn view_state(&self, sql: String) -> strata_manifest::View {
        strata_manifest::View {
            schema: self.schema.clone(),
            name: self.name.clone(),
            sql,
            materialized: self.materialized,
            columns: self.columns().map(|f| f.column.clone()).collect(),
            indexes: self
                .indexes
                .iter()
                .map(|spec| Index {
                    name: spec
                        .name
                        .clone()
                        .unwrap_or_else(|| constraint_name(&self.name, &spec.columns, "idx")),
                    columns: spec.columns.clone(),
                    unique: spec.unique,
                    predicate: spec.predicate.clone(),
                    method: spec.method.clone(),
                    opclass: spec.opclass.clone(),
                    keys: spec.keys.clone(),
                })
                .collect(),
        }
    }
}

/// A unit-only enum annotated with `#[strata::schema(…)]`: a PostgreSQL enum type.
#[derive(Debug, Clone)]
pub struct EnumModel {
    /// The enum's name.
    pub ident: syn::Ident,
    /// The schema the type lives in.
    pub schema: String,
    /// The type's name: the enum's in snake_case.
    pub name: String,
    /// Its values, in order.
    pub values: Vec<EnumValue>,
}

/// One variant of an enum model.
#[derive(Debug, Clone)]
pub struct EnumValue {
    /// The variant.
    pub ident: syn::Ident,
    /// The value: the variant's name in snake_case.
    pub value: String,
    /// `#[value(renamed_from = "…")]`.
    pub renamed_from: Option<String>,
}

/// One field of a model.
#[derive(Debug, Clone)]
pub struct Field {
    /// The original field, kept for spans.
    pub field: syn::Field,
    /// The field's name.
    pub ident: syn::Ident,
    /// `#[column(skip)]`: not a column.
    pub skip: bool,
    /// The column's name.
    pub column: String,
    /// The column's type, in `format_type` spelling.
    pub sql_type: String,
    /// `Option<T>`: the column accepts NULL.
    pub nullable: bool,
    /// Part of the primary key.
    pub primary_key: bool,
    /// `GENERATED BY DEFAULT AS IDENTITY`.
    pub identity: bool,
    /// `identity = "always"`: `GENERATED ALWAYS AS IDENTITY` instead.
    pub identity_always: bool,
    /// `generated = "…"`: `GENERATED ALWAYS AS (…) STORED`.
    pub generated: Option<String>,
    /// The field's doc comment: `COMMENT ON COLUMN`.
    pub comment: Option<String>,
    /// A type strata does not map itself and no `type = "…"` names: a
    /// `#[strata::schema]` enum, which the build resolves (and the compiler
    /// checks: it must implement `strata::PgEnum`).
    pub enum_type: Option<syn::Path>,
    /// A unique constraint on this column alone.
    pub unique: bool,
    /// An index on this column alone.
    pub index: bool,
    /// The default expression, as written.
    pub default: Option<String>,
    /// A check on this column.
    pub check: Option<String>,
    /// The name the column used to have.
    pub renamed_from: Option<String>,
    /// `using = "…"`: how a type change computes the new value.
    pub using: Option<String>,
    /// What the column references, if it is a foreign key.
    pub references: Option<Reference>,
    /// `on_delete`.
    pub on_delete: Action,
    /// `on_update`.
    pub on_update: Action,
    /// `deferrable`: when the foreign key is checked.
    pub deferral: strata_manifest::Deferral,
}

/// The target of `references`.
#[derive(Debug, Clone)]
pub enum Reference {
    /// `references = Product`: another model's primary key.
    Model(syn::Path),
    /// `references = "legacy.vendors(id)"`: a table strata does not manage.
    External {
        /// The table.
        table: QualifiedName,
        /// The column.
        column: String,
    },
}

/// `#[index(columns = […], unique, name = "…", where = "…")]`.
#[derive(Debug, Clone)]
pub struct IndexSpec {
    /// The columns, in order.
    pub columns: Vec<String>,
    /// `UNIQUE`.
    pub unique: bool,
    /// The name, if given.
    pub name: Option<String>,
    /// The predicate of a partial index.
    pub predicate: Option<String>,
    /// `using = "gin"`: the access method.
    pub method: Option<String>,
    /// `ops = "gin_trgm_ops"`: the operator class of its columns.
    pub opclass: Option<String>,
    /// `keys = "lower(email), created_at DESC"`: the key list, when it is
    /// more than columns (`columns` then holds those it reads).
    pub keys: Option<String>,
}

impl Field {
    /// True when `INSERT` and `UPDATE` leave the column to PostgreSQL: an
    /// identity (its sequence) or generated column (its expression).
    pub fn is_computed(&self) -> bool {
        self.identity || self.generated.is_some()
    }
}

impl Model {
    /// The fields that are columns.
    pub fn columns(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| !f.skip)
    }

    /// The table this model describes, with build-time hints. `resolve`
    /// finds another model's table and primary key for `references = Model`;
    /// an unresolved reference is an error on the path.
    pub fn table_state(
        &self,
        resolve: impl Fn(&syn::Path) -> Result<(QualifiedName, Vec<String>), String>,
        resolve_type: impl Fn(&syn::Path) -> Result<String, String>,
    ) -> syn::Result<Table> {
        let mut table = Table::new(&self.schema, &self.table);
        table.moved_from = self.moved_from.clone();
        table.renamed_from = self.renamed_from.clone();
        table.comment = self.comment.clone();
        table.set_row_security(strata_manifest::RowSecurity {
            enabled: self.rls,
            forced: self.rls && self.rls_forced,
        });
        for policy in &self.policies {
            table.add_policy(policy.clone());
        }
        for grant in &self.grants {
            table.add_grant(grant.clone());
        }
        table.partition = self.partition.clone();
        if self.compat_view {
            table.compat_view = Some(QualifiedName::new(
                self.moved_from.as_deref().unwrap_or(&self.schema),
                self.renamed_from.as_deref().unwrap_or(&self.table),
            ));
            table.compat_view_security_invoker = true;
        }
        let mut errors: Option<syn::Error> = None;
        for field in self.columns() {
            let sql_type = match &field.enum_type {
                Some(path) => match resolve_type(path) {
                    Ok(sql_type) => sql_type,
                    Err(message) => {
                        let error = syn::Error::new_spanned(&field.field.ty, message);
                        match &mut errors {
                            Some(all) => all.combine(error),
                            None => errors = Some(error),
                        }
                        continue;
                    }
                },
                None => field.sql_type.clone(),
            };
            table.columns.push(Column {
                name: field.column.clone(),
                sql_type,
                nullable: field.nullable,
                default: field.default.clone(),
                identity: field.identity,
                identity_always: field.identity_always,
                generated: field.generated.clone(),
                comment: field.comment.clone(),
                renamed_from: field.renamed_from.clone(),
                using: field.using.clone(),
            });
            let one = vec![field.column.clone()];
            if field.unique {
                table.add_unique(one.clone());
            }
            if field.index {
                table.add_index(Index {
                    name: constraint_name(&self.table, &one, "idx"),
                    columns: one.clone(),
                    unique: false,
                    predicate: None,
                    ..Index::default()
                });
            }
            if let Some(expr) = &field.check {
                table.add_check(Check {
                    name: constraint_name(&self.table, &one, "check"),
                    expr: expr.clone(),
                });
            }
            let target = match &field.references {
                None => continue,
                Some(Reference::External { table, column }) => Ok((table.clone(), vec![column.clone()])),
                Some(Reference::Model(path)) => resolve(path)
                    .and_then(|(target, key)| match key.len() {
                        1 => Ok((target, key)),
                        0 => Err(format!("{} has no primary key to reference", target_name(path))),
                        _ => Err(format!(
                            "{} has a composite primary key ({}); reference a table with a one-column key",
                            target_name(path),
                            key.join(", ")
                        )),
                    })
                    .map_err(|message| syn::Error::new_spanned(path, message)),
            };
            match target {
                Ok((references, referenced_columns)) => table.add_foreign_key(ForeignKey {
                    name: constraint_name(&self.table, &one, "fkey"),
                    columns: one,
                    references,
                    referenced_columns,
                    on_delete: field.on_delete,
                    on_update: field.on_update,
                    deferral: field.deferral,
                    not_valid: false,
                }),
                Err(error) => match &mut errors {
                    Some(all) => all.combine(error),
                    None => errors = Some(error),
                },
            }
        }
        if let Some(error) = errors {
            return Err(error);
        }
        let key: Vec<String> = match &self.primary_key {
            Some((columns, _)) => columns.clone(),
            None => self
                .columns()
                .filter(|f| f.primary_key)
                .map(|f| f.column.clone())
                .collect(),
        };
        if !key.is_empty() {
            table.set_primary_key(key);
        }
        if let (Some(key), Some((_, Some(name)))) = (&mut table.primary_key, &self.primary_key) {
            key.name = name.clone();
        }
        for spec in &self.indexes {
            table.add_index(Index {
                name: spec
                    .name
                    .clone()
                    .unwrap_or_else(|| constraint_name(&self.table, &spec.columns, "idx")),
                columns: spec.columns.clone(),
                unique: spec.unique,
                predicate: spec.predicate.clone(),
                method: spec.method.clone(),
                opclass: spec.opclass.clone(),
                keys: spec.keys.clone(),
            });
        }
        for check in &self.checks {
            table.add_check(check.clone());
        }
        for key in &self.foreign_keys {
            let mut key = key.clone();
            if key.name.is_empty() {
                key.name = constraint_name(&self.table, &key.columns, "fkey");
            }
            table.add_foreign_key(key);
        }
        for unique in &self.uniques {
            let name = unique
                .name
                .clone()
                .unwrap_or_else(|| constraint_name(&self.table, &unique.columns, "key"));
            table.add_named_unique(name.clone(), unique.columns.clone());
            if let Some(key) = table.uniques.iter_mut().find(|k| k.name == name) {
                key.deferral = unique.deferral;
            }
        }
        Ok(table)
    }
}

fn target_name(path: &syn::Path) -> String {
    path.segments
        .last()
        .map(|s| format!("`{}`", s.ident))
        .unwrap_or_default()
}
