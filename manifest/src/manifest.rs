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
    /// The SHA-256 of the down file when the build last judged what it can
    /// lose: a rollback refuses a down file edited since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down_checksum: Option<String>,
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
    /// The hazards it holds, confirmed when it was written: each change that
    /// stops a table's reads or writes for longer than a catalog update (a
    /// rewrite, a copy, a scan under a strong lock), named as a
    /// confirmation names it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hazards: Vec<crate::Unconfirmed>,
    /// Written by hand, not generated: it changes no modelled state.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hand_written: bool,
}

/// What `embed_migrations!()` carries beside a manifest's text, computed
/// once by the build so that a start-up reads none of the text itself: the
/// light reading ([`Manifest::from_json_light`]), the digest of the bytes
/// ([`crate::digest`]), and the last state as compact JSON
/// ([`SchemaState::to_compact_json`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The migrations without their changes, and the `search_path`.
    pub light: Manifest,
    /// The SHA-256 of the manifest's bytes, as hex.
    pub digest: String,
    /// The state after the last migration, as compact JSON.
    pub state: String,
}

/// Refuses a listed file name that could name anything but a file of the
/// migrations folder, so that no reader of the manifest opens one.
fn check_file_names(migrations: &[MigrationEntry]) -> Result<(), ManifestError> {
    let plain = |file: &str| {
        file.ends_with(".sql") && !file.starts_with('.') && !file.contains(['/', '\\', '\0', ':'])
    };
    for file in migrations
        .iter()
        .flat_map(|m| std::iter::once(&m.file).chain(m.down_file.as_ref()))
    {
        if !plain(file) {
            return Err(ManifestError::FileName { file: file.clone() });
        }
    }
    Ok(())
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
    /// [`Prepared`] from a manifest's text; a blank one is empty.
    pub fn prepare(text: &str) -> Result<Prepared, ManifestError> {
        let (light, state) = match text.trim().is_empty() {
            true => (Manifest::default(), SchemaState::default()),
            false => (
                Manifest::from_json_light(text)?,
                Manifest::state_from_json(text)?,
            ),
        };
        Ok(Prepared {
            light,
            digest: crate::digest(text.as_bytes()),
            state: state.to_compact_json(),
        })
    }

    /// Reads a manifest from its JSON text.
    pub fn from_json(text: &str) -> Result<Self, ManifestError> {
        let manifest: Manifest = serde_json::from_str(text)?;
        if manifest.format > FORMAT_VERSION {
            return Err(ManifestError::UnsupportedFormat {
                found: manifest.format,
                supported: FORMAT_VERSION,
            });
        }
        check_file_names(&manifest.migrations)?;
        Ok(manifest)
    }

    /// Reads a manifest's migrations (without their changes) and the
    /// state's `search_path`, skipping the rest of the state: what a
    /// start-up needs when there is nothing to compare in full. Much
    /// cheaper than [`Manifest::from_json`] on a large schema.
    pub fn from_json_light(text: &str) -> Result<Self, ManifestError> {
        #[derive(Deserialize)]
        struct Light {
            format: u32,
            migrations: Vec<LightEntry>,
            #[serde(default)]
            state: LightState,
        }
        #[derive(Deserialize)]
        struct LightEntry {
            version: u32,
            name: String,
            file: String,
            checksum: String,
            #[serde(default)]
            down_file: Option<String>,
            #[serde(default)]
            down_checksum: Option<String>,
            #[serde(default)]
            lossy_down: Vec<crate::Unconfirmed>,
            #[serde(default)]
            hand_written: bool,
        }
        #[derive(Deserialize, Default)]
        struct LightState {
            #[serde(default)]
            search_path: Option<Vec<String>>,
            #[serde(default)]
            tables: Vec<LightTable>,
            // Compared at every start-up: the DDL watch cannot see them.
            #[serde(default)]
            event_triggers: Vec<crate::EventTrigger>,
        }
        // Only the partitioned tables are kept: a start-up makes their
        // partitions ahead without reading the rest of the state.
        #[derive(Deserialize)]
        struct LightTable {
            schema: String,
            name: String,
            #[serde(default)]
            partition: Option<crate::Partitioning>,
        }
        let light: Light = serde_json::from_str(text)?;
        if light.format > FORMAT_VERSION {
            return Err(ManifestError::UnsupportedFormat {
                found: light.format,
                supported: FORMAT_VERSION,
            });
        }
        let manifest = Manifest {
            format: light.format,
            migrations: light
                .migrations
                .into_iter()
                .map(|e| MigrationEntry {
                    version: e.version,
                    name: e.name,
                    file: e.file,
                    checksum: e.checksum,
                    down_file: e.down_file,
                    down_checksum: e.down_checksum,
                    changes: Vec::new(),
                    lossy_down: e.lossy_down,
                    hazards: Vec::new(),
                    hand_written: e.hand_written,
                })
                .collect(),
            state: SchemaState {
                search_path: light.state.search_path,
                event_triggers: light.state.event_triggers,
                tables: light
                    .state
                    .tables
                    .into_iter()
                    .filter(|t| t.partition.is_some())
                    .map(|t| crate::Table {
                        partition: t.partition,
                        ..crate::Table::new(t.schema, t.name)
                    })
                    .collect(),
                ..SchemaState::default()
            },
        };
        check_file_names(&manifest.migrations)?;
        Ok(manifest)
    }

    /// Reads only the state after the last migration, skipping the
    /// migrations' changes: what a full drift check compares with.
    pub fn state_from_json(text: &str) -> Result<SchemaState, ManifestError> {
        #[derive(Deserialize)]
        struct StateOnly {
            format: u32,
            state: SchemaState,
        }
        let only: StateOnly = serde_json::from_str(text)?;
        if only.format > FORMAT_VERSION {
            return Err(ManifestError::UnsupportedFormat {
                found: only.format,
                supported: FORMAT_VERSION,
            });
        }
        Ok(only.state)
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
    fn the_light_reading_keeps_the_migrations_and_the_search_path() {
        let mut full = Manifest::default();
        let mut table = Table::new("audit", "change_log");
        table.columns.push(Column::new("id", "bigint").not_null());
        full.state.add_table(table.clone());
        full.state.search_path = Some(vec!["audit".into(), "public".into()]);
        full.migrations.push(MigrationEntry {
            version: 1,
            name: "create".into(),
            file: "0001_create.sql".into(),
            checksum: "abc".into(),
            down_file: Some("0001_create.down.sql".into()),
            down_checksum: None,
            changes: vec![crate::Change::Table(crate::TableChange::CreateTable {
                table,
            })],
            lossy_down: vec![crate::Unconfirmed {
                object: "audit.change_log".into(),
                what: "drops the table".into(),
                help: String::new(),
            }],
            hazards: Vec::new(),
            hand_written: true,
        });
        let light = Manifest::from_json_light(&full.to_json()).unwrap();
        let mut expected = full.clone();
        expected.migrations[0].changes.clear();
        expected.state = SchemaState {
            search_path: full.state.search_path.clone(),
            ..SchemaState::default()
        };
        assert_eq!(light, expected);
        assert_eq!(
            Manifest::state_from_json(&full.to_json()).unwrap(),
            full.state
        );
    }

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
