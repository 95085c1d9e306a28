//! The schema state: what the database should look like.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::naming::constraint_name;

/// Every schema and table strata manages, in a stable order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaState {
    /// The managed schemas, sorted.
    pub schemas: BTreeSet<String>,
    /// The managed tables, sorted by schema and name.
    pub tables: Vec<Table>,
    /// The database's default `search_path`, when the application sets one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_path: Option<Vec<String>>,
}

impl SchemaState {
    /// Adds a table (and its schema), keeping the order stable.
    pub fn add_table(&mut self, table: Table) {
        self.schemas.insert(table.schema.clone());
        let at = self
            .tables
            .partition_point(|t| (&t.schema, &t.name) < (&table.schema, &table.name));
        self.tables.insert(at, table);
    }

    /// The table `schema.name`, if managed.
    pub fn table(&self, schema: &str, name: &str) -> Option<&Table> {
        self.tables
            .iter()
            .find(|t| t.schema == schema && t.name == name)
    }

    /// The table `schema.name`, mutably.
    pub fn table_mut(&mut self, schema: &str, name: &str) -> Option<&mut Table> {
        self.tables
            .iter_mut()
            .find(|t| t.schema == schema && t.name == name)
    }

    /// Removes and returns the table `schema.name`.
    pub fn remove_table(&mut self, schema: &str, name: &str) -> Option<Table> {
        let at = self
            .tables
            .iter()
            .position(|t| t.schema == schema && t.name == name)?;
        Some(self.tables.remove(at))
    }

    /// True when nothing is managed yet.
    pub fn is_empty(&self) -> bool {
        self.schemas.is_empty() && self.tables.is_empty() && self.search_path.is_none()
    }

    /// Every compat view, with the table it shows.
    pub fn views(&self) -> impl Iterator<Item = (&QualifiedName, &Table)> {
        self.tables
            .iter()
            .filter_map(|t| t.compat_view.as_ref().map(|v| (v, t)))
    }
}

/// A schema-qualified name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct QualifiedName {
    /// The schema.
    pub schema: String,
    /// The name inside it.
    pub name: String,
}

impl QualifiedName {
    /// `schema.name`.
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        QualifiedName {
            schema: schema.into(),
            name: name.into(),
        }
    }
}

/// One table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// The schema it lives in.
    pub schema: String,
    /// Its name.
    pub name: String,
    /// Its columns, in declaration order.
    pub columns: Vec<Column>,
    /// The primary key, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<Key>,
    /// Unique constraints, sorted by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uniques: Vec<Key>,
    /// Foreign keys, sorted by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_keys: Vec<ForeignKey>,
    /// Indexes other than those behind keys, sorted by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Index>,
    /// Check constraints, sorted by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
    /// A view under the table's old name, left after a move or rename.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compat_view: Option<QualifiedName>,
    /// Build-time hint: the schema the table used to live in. Never stored.
    #[serde(skip)]
    pub moved_from: Option<String>,
    /// Build-time hint: the name the table used to have. Never stored.
    #[serde(skip)]
    pub renamed_from: Option<String>,
}

impl Table {
    /// An empty table.
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        Table {
            schema: schema.into(),
            name: name.into(),
            columns: Vec::new(),
            primary_key: None,
            uniques: Vec::new(),
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
            checks: Vec::new(),
            compat_view: None,
            moved_from: None,
            renamed_from: None,
        }
    }

    /// `schema.name`.
    pub fn qualified_name(&self) -> QualifiedName {
        QualifiedName::new(&self.schema, &self.name)
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Sets the primary key over `columns`, with the name PostgreSQL would give it.
    pub fn set_primary_key(&mut self, columns: Vec<String>) {
        let name = constraint_name(&self.name, &[], "pkey");
        self.primary_key = Some(Key { name, columns });
    }

    /// Adds a unique constraint over `columns`, with the name PostgreSQL would give it.
    pub fn add_unique(&mut self, columns: Vec<String>) {
        let name = constraint_name(&self.name, &columns, "key");
        insert_sorted(&mut self.uniques, Key { name, columns }, |k| &k.name);
    }

    /// Adds a foreign key, keeping them sorted by name.
    pub fn add_foreign_key(&mut self, key: ForeignKey) {
        insert_sorted(&mut self.foreign_keys, key, |k| &k.name);
    }

    /// Adds an index, keeping them sorted by name.
    pub fn add_index(&mut self, index: Index) {
        insert_sorted(&mut self.indexes, index, |i| &i.name);
    }

    /// Adds a check, keeping them sorted by name.
    pub fn add_check(&mut self, check: Check) {
        insert_sorted(&mut self.checks, check, |c| &c.name);
    }

    /// The table without its indexes and foreign keys: what `CREATE TABLE` makes.
    pub fn bare(&self) -> Table {
        Table {
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
            compat_view: None,
            moved_from: None,
            renamed_from: None,
            ..self.clone()
        }
    }
}

fn insert_sorted<T>(list: &mut Vec<T>, item: T, key: impl Fn(&T) -> &String) {
    let at = list.partition_point(|x| key(x) < key(&item));
    list.insert(at, item);
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// Its type, spelt as PostgreSQL's `format_type` spells it.
    #[serde(rename = "type")]
    pub sql_type: String,
    /// Whether it accepts NULL.
    pub nullable: bool,
    /// Its default expression, as written by the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Whether it is `GENERATED BY DEFAULT AS IDENTITY`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub identity: bool,
    /// Build-time hint: the name the column used to have. Never stored.
    #[serde(skip)]
    pub renamed_from: Option<String>,
    /// Build-time hint: how to compute the new value when the type changes
    /// (`USING …`). Never stored in the state; recorded with the change.
    #[serde(skip)]
    pub using: Option<String>,
}

impl Column {
    /// A nullable column without default.
    pub fn new(name: impl Into<String>, sql_type: impl Into<String>) -> Self {
        Column {
            name: name.into(),
            sql_type: sql_type.into(),
            nullable: true,
            default: None,
            identity: false,
            renamed_from: None,
            using: None,
        }
    }

    /// The same column, `NOT NULL`.
    pub fn not_null(mut self) -> Self {
        self.nullable = false;
        self
    }
}

/// A primary key or unique constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Key {
    /// The constraint's name.
    pub name: String,
    /// Its columns, in key order.
    pub columns: Vec<String>,
}

/// What a foreign key does when the row it points at is deleted or updated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// `NO ACTION`, PostgreSQL's default.
    #[default]
    NoAction,
    /// `RESTRICT`.
    Restrict,
    /// `CASCADE`.
    Cascade,
    /// `SET NULL`.
    SetNull,
    /// `SET DEFAULT`.
    SetDefault,
}

impl Action {
    /// Reads `cascade`, `restrict`, `set null`, `set default` or `no action`.
    pub fn parse(text: &str) -> Option<Action> {
        let words: Vec<String> = text
            .split_whitespace()
            .map(str::to_ascii_lowercase)
            .collect();
        match words.join(" ").as_str() {
            "no action" => Some(Action::NoAction),
            "restrict" => Some(Action::Restrict),
            "cascade" => Some(Action::Cascade),
            "set null" => Some(Action::SetNull),
            "set default" => Some(Action::SetDefault),
            _ => None,
        }
    }

    /// The SQL words.
    pub fn sql(self) -> &'static str {
        match self {
            Action::NoAction => "NO ACTION",
            Action::Restrict => "RESTRICT",
            Action::Cascade => "CASCADE",
            Action::SetNull => "SET NULL",
            Action::SetDefault => "SET DEFAULT",
        }
    }

    /// True for the default, which need not be written down.
    pub fn is_default(&self) -> bool {
        *self == Action::NoAction
    }
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignKey {
    /// The constraint's name.
    pub name: String,
    /// The referencing columns.
    pub columns: Vec<String>,
    /// The referenced table.
    pub references: QualifiedName,
    /// The referenced columns.
    pub referenced_columns: Vec<String>,
    /// `ON DELETE`.
    #[serde(default, skip_serializing_if = "Action::is_default")]
    pub on_delete: Action,
    /// `ON UPDATE`.
    #[serde(default, skip_serializing_if = "Action::is_default")]
    pub on_update: Action,
}

/// An index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    /// Its name.
    pub name: String,
    /// Its columns, in order.
    pub columns: Vec<String>,
    /// `UNIQUE`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unique: bool,
    /// The `WHERE` of a partial index.
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
}

/// A check constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// The constraint's name.
    pub name: String,
    /// The boolean expression.
    pub expr: String,
}
