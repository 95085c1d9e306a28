//! The migrations a binary carries: the manifest and the SQL files.

use std::path::Path;

use strata_manifest::lexer::{leading_trivia, TokenKind};
use strata_manifest::{checksum, Manifest};

use crate::Error;

/// Includes the migrations that `strata_build::Builder` wrote for this crate.
///
/// ```ignore
/// static MIGRATIONS: strata::Migrations = strata::embed_migrations!();
/// ```
#[macro_export]
macro_rules! embed_migrations {
    () => {
        ::core::include!(::core::concat!(
            ::core::env!("OUT_DIR"),
            "/strata_migrations.rs"
        ))
    };
}

/// Includes the tenant stream that `strata_build::Builder` wrote for this
/// crate's `#[strata::schema(tenant)]` models (empty when it has none), for
/// [`crate::Tenants`].
///
/// ```ignore
/// static TENANT_MIGRATIONS: strata::Migrations = strata::embed_tenant_migrations!();
/// ```
#[macro_export]
macro_rules! embed_tenant_migrations {
    () => {
        ::core::include!(::core::concat!(
            ::core::env!("OUT_DIR"),
            "/strata_tenant_migrations.rs"
        ))
    };
}

/// A manifest and its migration files, embedded at compile time or read from a directory.
#[derive(Debug)]
pub struct Migrations {
    source: Source,
}

#[derive(Debug)]
enum Source {
    Embedded {
        manifest: &'static str,
        files: &'static [(&'static str, &'static str)],
    },
    Owned {
        manifest: String,
        files: Vec<(String, String)>,
    },
}

/// One migration, ready to apply.
#[derive(Debug, Clone)]
pub(crate) struct Migration<'a> {
    pub(crate) version: u32,
    pub(crate) name: &'a str,
    pub(crate) file: &'a str,
    pub(crate) sql: &'a str,
    pub(crate) checksum: String,
    /// The down file's name and text, if the migration has one.
    pub(crate) down: Option<(&'a str, &'a str)>,
    /// False when the file says `-- strata:no-transaction` in its leading comments.
    pub(crate) transactional: bool,
    /// The down steps that can lose data, as the build marked them, and as
    /// the recorded changes say (for manifests written before that mark).
    pub(crate) lossy_down: Vec<strata_manifest::Unconfirmed>,
}

/// The marker of a migration that must run outside a transaction
/// (`CREATE INDEX CONCURRENTLY`), among the comments that open the file.
pub const NO_TRANSACTION: &str = "-- strata:no-transaction";

fn is_transactional(sql: &str) -> bool {
    !leading_trivia(sql)
        .iter()
        .any(|t| t.kind == TokenKind::Comment && t.text.trim() == NO_TRANSACTION)
}

impl Migrations {
    #[doc(hidden)]
    pub const fn __embedded(
        manifest: &'static str,
        files: &'static [(&'static str, &'static str)],
    ) -> Self {
        Migrations {
            source: Source::Embedded { manifest, files },
        }
    }

    /// Reads `manifest.json` and the files it lists from a migrations directory.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self, Error> {
        let dir = dir.as_ref();
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|source| Error::Io {
                path: path.to_owned(),
                source,
            })
        };
        let manifest_text = read(&dir.join("manifest.json"))?;
        // Only the file names are needed here: the light reading skips the
        // changes and the state, which a start-up may never need.
        let manifest = match manifest_text.trim().is_empty() {
            true => Manifest::default(),
            false => Manifest::from_json_light(&manifest_text).map_err(Error::Manifest)?,
        };
        let mut files = Vec::new();
        for entry in &manifest.migrations {
            for file in std::iter::once(&entry.file).chain(entry.down_file.as_ref()) {
                files.push((file.clone(), read(&dir.join(file))?));
            }
        }
        Ok(Migrations {
            source: Source::Owned {
                manifest: manifest_text,
                files,
            },
        })
    }

    pub(crate) fn manifest_text(&self) -> &str {
        match &self.source {
            Source::Embedded { manifest, .. } => manifest,
            Source::Owned { manifest, .. } => manifest,
        }
    }

    fn file(&self, name: &str) -> Option<&str> {
        match &self.source {
            Source::Embedded { files, .. } => {
                files.iter().find(|(n, _)| *n == name).map(|(_, sql)| *sql)
            }
            Source::Owned { files, .. } => files
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, sql)| sql.as_str()),
        }
    }

    /// The manifest: the migrations and the schema state after the last one.
    pub fn manifest(&self) -> Result<Manifest, Error> {
        parse_manifest(self.manifest_text())
    }

    /// The manifest's migrations without their changes, and of its state
    /// only the `search_path` ([`Manifest::from_json_light`]): what a
    /// start-up reads before it knows whether it must compare in full.
    pub(crate) fn manifest_light(&self) -> Result<Manifest, Error> {
        let text = self.manifest_text();
        if text.trim().is_empty() {
            return Ok(Manifest::default());
        }
        Manifest::from_json_light(text).map_err(Error::Manifest)
    }

    /// The state after the last migration alone, without the changes.
    pub(crate) fn last_state(&self) -> Result<strata_manifest::SchemaState, Error> {
        let text = self.manifest_text();
        if text.trim().is_empty() {
            return Ok(Default::default());
        }
        Manifest::state_from_json(text).map_err(Error::Manifest)
    }

    /// The migrations in order, each with the checksum of its text as carried.
    pub(crate) fn load<'a>(&'a self, manifest: &'a Manifest) -> Result<Vec<Migration<'a>>, Error> {
        manifest
            .migrations
            .iter()
            .map(|entry| {
                let sql = self
                    .file(&entry.file)
                    .ok_or_else(|| Error::MissingMigration {
                        file: entry.file.clone(),
                    })?;
                let down = match &entry.down_file {
                    Some(file) => Some((
                        file.as_str(),
                        self.file(file)
                            .ok_or_else(|| Error::MissingMigration { file: file.clone() })?,
                    )),
                    None => None,
                };
                Ok(Migration {
                    version: entry.version,
                    name: &entry.name,
                    file: &entry.file,
                    sql,
                    checksum: checksum(sql),
                    down,
                    transactional: is_transactional(sql),
                    lossy_down: {
                        let mut steps = entry.lossy_down.clone();
                        for step in entry.changes.iter().flat_map(|c| c.lossy_inverse()) {
                            if !steps.contains(&step) {
                                steps.push(step);
                            }
                        }
                        steps
                    },
                })
            })
            .collect()
    }
}

fn parse_manifest(text: &str) -> Result<Manifest, Error> {
    if text.trim().is_empty() {
        return Ok(Manifest::default());
    }
    Manifest::from_json(text).map_err(Error::Manifest)
}
