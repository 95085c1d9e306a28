//! The migration manifest: `migrations/manifest.json`.

use serde::{Deserialize, Serialize};

use crate::{Change, ManifestError, SchemaState};

/// The manifest format this version writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The ordered migrations and the schema state after the last one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The file format version.
    pub format: u32,
    /// Every migration, oldest first.
    pub migrations: Vec<MigrationEntry>,
    /// The full schema state after the last migration: what drift is checked against.
    pub state: SchemaState,
}

/// One migration recorded in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationEntry {
    /// Its number, from 1.
    pub version: u32,
    /// What it does, as in its file name.
    pub name: String,
    /// The file name, relative to the migrations directory.
    pub file: String,
    /// The SHA-256 of the file when it was written (see [`crate::checksum`]).
    pub checksum: String,
    /// The down file, which undoes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down_file: Option<String>,
    /// What it changes, in apply order: the record of every move and rename,
    /// and what lets the state after any version be replayed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
    /// The steps of the down file that can lose data (dropping what the
    /// migration added, narrowing what it widened), each named as a
    /// confirmation names it: a rollback through this migration refuses to
    /// run before anything is undone unless each is confirmed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lossy_down: Vec<crate::Unconfirmed>,
    /// Written by hand, not generated: it changes no modelled state.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hand_written: bool,
}

impl Default for Manifest {
    fn default() -> Self {
        Manifest {
            format: FORMAT_VERSION,
            migrations: Vec::new(),
            state: SchemaState::default(),
        }
    }
}

impl Manifest {
    /// Reads a manifest from its JSON text.
    pub fn from_json(text: &str) -> Result<Self, ManifestError> {
        let manifest: Manifest = serde_json::from_str(text)?;
        if manifest.format > FORMAT_VERSION {
            return Err(ManifestError::UnsupportedFormat {
                found: manifest.format,
                supported: FORMAT_VERSION,
            });
        }
        Ok(manifest)
    }

    /// The manifest as JSON: pretty, ending in a newline, the same bytes for the same state.
    pub fn to_json(&self) -> String {
        let mut text =
            serde_json::to_string_pretty(self).expect("a manifest always serializes to JSON");
        text.push('\n');
        text
    }

    /// The schema state after migration `version` (0: before the first),
    /// replayed from the recorded changes.
    pub fn state_at(&self, version: u32) -> SchemaState {
        let mut state = SchemaState::default();
        for entry in self.migrations.iter().take_while(|m| m.version <= version) {
            for change in &entry.changes {
                change.apply_to(&mut state);
            }
        }
        state
    }

    /// The number the next migration gets.
    pub fn next_version(&self) -> u32 {
        self.migrations.last().map_or(1, |m| m.version + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Column, Table};

    #[test]
    fn round_trips_byte_identically() {
        let mut manifest = Manifest::default();
        let mut table = Table::new("audit", "change_log");
        table.columns.push(Column::new("id", "bigint").not_null());
        table.set_primary_key(vec!["id".into()]);
        manifest.state.add_table(table);
        let text = manifest.to_json();
        let back = Manifest::from_json(&text).unwrap();
        assert_eq!(back, manifest);
        assert_eq!(back.to_json(), text);
    }

    #[test]
    fn refuses_a_newer_format() {
        let text = r#"{"format": 99, "migrations": [], "state": {"schemas": [], "tables": []}}"#;
        assert!(matches!(
            Manifest::from_json(text),
            Err(ManifestError::UnsupportedFormat { found: 99, .. })
        ));
    }
}
