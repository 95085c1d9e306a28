//! The schema state: what the database should look like.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::{EnumType, Routine, Sequence, Table, Trigger, View};

/// Every schema and table strata manages, in a stable order.
///
/// One field per kind of object, each kept sorted by the `add_…` method
/// its kind's module gives. `#[non_exhaustive]`: code outside this crate
/// starts from [`SchemaState::default`] and reads the fields, so a new kind
/// is a new field and breaks no one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SchemaState {
    /// The managed schemas, sorted.
    pub schemas: BTreeSet<String>,
    /// The managed tables, sorted by schema and name.
    #[serde(deserialize_with = "exact")]
    pub tables: Vec<Table>,
    /// The database's default `search_path`, when the application sets one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_path: Option<Vec<String>>,
    /// The extensions the models use (`Builder::extension`), sorted.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub extensions: BTreeSet<String>,
    /// The schema of each extension the models place
    /// (`Builder::extension_in`); the others go to the first schema of the
    /// search path. Read from a database, every extension's.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub extension_schemas: std::collections::BTreeMap<String, String>,
    /// The enum types, sorted by schema and name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enums: Vec<EnumType>,
    /// The views of `#[strata::view]` models, sorted by schema and name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub views: Vec<View>,
    /// The functions and procedures of `Builder::sql_dir`, sorted by schema,
    /// name and argument types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routines: Vec<Routine>,
    /// The sequences of `Builder::sql_dir`, sorted by schema and name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sequences: Vec<Sequence>,
    /// The domains of `Builder::sql_dir`, sorted by schema and name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<crate::Domain>,
    /// The triggers of `Builder::sql_dir`, sorted by schema, table and name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<Trigger>,
    /// The roles the migrations grant to (`Builder::role`), sorted.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub roles: BTreeSet<String>,
    /// What each role gets on the tables made later in a schema
    /// (`Builder::default_privileges`), sorted by schema and role.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub default_privileges: Vec<crate::DefaultPrivileges>,
    /// The comments on functions, procedures, views and indexes (a
    /// table's and a column's are the model's doc comments), sorted by
    /// what they are on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<crate::ObjectComment>,
    /// The event triggers of `Builder::sql_dir`, sorted by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub event_triggers: Vec<crate::EventTrigger>,
    /// The publications of `Builder::sql_dir`, sorted by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub publications: Vec<crate::Publication>,
    /// How the privileges on functions, procedures, sequences and types
    /// differ from a new object's, sorted by object.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub object_privileges: Vec<crate::ObjectPrivilege>,
}

impl SchemaState {
    /// The state alone as compact JSON: what `embed_migrations!()` carries
    /// beside the manifest, so that a full drift check parses a fifth of
    /// the bytes (no changes, no indentation) and never touches the rest.
    pub fn to_compact_json(&self) -> String {
        serde_json::to_string(self).expect("a schema state always serializes to JSON")
    }

    /// Reads what [`SchemaState::to_compact_json`] wrote.
    pub fn from_compact_json(text: &str) -> Result<Self, crate::ManifestError> {
        Ok(serde_json::from_str(text)?)
    }

    /// Adds a table (and its schema), keeping the order stable.
    pub fn add_table(&mut self, table: Table) {
        self.schemas.insert(table.schema.clone());
        let at = self
            .tables
            .partition_point(|t| (&t.schema, &t.name) < (&table.schema, &table.name));
        self.tables.insert(at, table);
    }

    /// Adds an enum type (and its schema), keeping the order stable.
    pub fn add_enum(&mut self, ty: EnumType) {
        self.schemas.insert(ty.schema.clone());
        let at = self
            .enums
            .partition_point(|e| (&e.schema, &e.name) < (&ty.schema, &ty.name));
        self.enums.insert(at, ty);
    }

    /// Adds a view (and its schema), keeping the order stable.
    pub fn add_view(&mut self, view: View) {
        self.schemas.insert(view.schema.clone());
        let at = self
            .views
            .partition_point(|v| (&v.schema, &v.name) < (&view.schema, &view.name));
        self.views.insert(at, view);
    }

    /// Sets the comment on an object, or removes it (`None`), keeping the
    /// order stable.
    pub fn set_comment(&mut self, on: &crate::ObjectRef, text: Option<String>) {
        match (self.comments.binary_search_by(|c| c.on.cmp(on)), text) {
            (Ok(at), Some(text)) => self.comments[at].text = text,
            (Ok(at), None) => {
                self.comments.remove(at);
            }
            (Err(at), Some(text)) => self.comments.insert(
                at,
                crate::ObjectComment {
                    on: on.clone(),
                    text,
                },
            ),
            (Err(_), None) => {}
        }
    }

    /// The comment on an object, if it has one.
    pub fn comment_on(&self, on: &crate::ObjectRef) -> Option<&str> {
        self.comments
            .binary_search_by(|c| c.on.cmp(on))
            .ok()
            .map(|at| self.comments[at].text.as_str())
    }

    /// Adds a function or procedure (and its schema), keeping the order stable.
    pub fn add_routine(&mut self, routine: Routine) {
        self.schemas.insert(routine.schema.clone());
        let key = |r: &Routine| (r.schema.clone(), r.name.clone(), r.args.clone());
        let at = self.routines.partition_point(|r| key(r) < key(&routine));
        self.routines.insert(at, routine);
    }

    /// Adds a sequence (and its schema), keeping the order stable.
    pub fn add_sequence(&mut self, sequence: Sequence) {
        self.schemas.insert(sequence.schema.clone());
        let at = self
            .sequences
            .partition_point(|s| (&s.schema, &s.name) < (&sequence.schema, &sequence.name));
        self.sequences.insert(at, sequence);
    }

    /// Adds a trigger, keeping the order stable.
    pub fn add_trigger(&mut self, trigger: Trigger) {
        let key = |t: &Trigger| (t.schema.clone(), t.table.clone(), t.name.clone());
        let at = self.triggers.partition_point(|t| key(t) < key(&trigger));
        self.triggers.insert(at, trigger);
    }

    /// The enum type `name`, mutably.
    pub fn enum_mut(&mut self, name: &QualifiedName) -> Option<&mut EnumType> {
        self.enums
            .iter_mut()
            .find(|e| e.schema == name.schema && e.name == name.name)
    }

    /// The table `schema.name`, if managed.
    pub fn table(&self, schema: &str, name: &str) -> Option<&Table> {
        self.table_index(schema, name).map(|at| &self.tables[at])
    }

    /// Where table `schema.name` is: found by binary search, since the
    /// tables are kept sorted by schema and name ([`SchemaState::add_table`]);
    /// a diff of 11,000 tables looked each up one by one, which was most of
    /// its time.
    fn table_index(&self, schema: &str, name: &str) -> Option<usize> {
        self.tables
            .binary_search_by(|t| (t.schema.as_str(), t.name.as_str()).cmp(&(schema, name)))
            .ok()
    }

    /// The table `schema.name`, mutably.
    pub fn table_mut(&mut self, schema: &str, name: &str) -> Option<&mut Table> {
        let at = self.table_index(schema, name)?;
        self.tables.get_mut(at)
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
        *self == SchemaState::default()
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

/// A list read with no room to spare: serde grows a list read from JSON by
/// doubling, which left a state of 11,000 tables holding twice the memory
/// its columns need.
pub(crate) fn exact<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    let mut list = Vec::<T>::deserialize(deserializer)?;
    list.shrink_to_fit();
    Ok(list)
}
