//! The migrations a binary carries: the manifest and the SQL files.

use std::path::Path;

use strata_manifest::lexer::{leading_trivia, TokenKind};
use strata_manifest::{checksum, digest, Manifest};

use crate::Error;

/// Includes the migrations that `strata_build::Builder` wrote for this crate.
///
/// ```ignore
/// static MIGRATIONS: strata::Migrations = strata::embed_migrations!();
/// ```
#[macro_export]
macro_rules! embed_migrations {
    () => {
        $crate::Migrations::__from_build(::core::include!(::core::concat!(
            ::core::env!("OUT_DIR"),
            "/strata_migrations.rs"
        )))
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
        $crate::Migrations::__from_build(::core::include!(::core::concat!(
            ::core::env!("OUT_DIR"),
            "/strata_tenant_migrations.rs"
        )))
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
        /// What the build computed from them, when it did.
        prepared: Option<Prepared>,
    },
    /// Read from a directory, with what the build computes for the
    /// embedded form computed as it was read.
    Dir {
        manifest: String,
        light: Box<Manifest>,
        digest: String,
        /// Name, checksum and text of each file.
        files: Vec<(String, String, String)>,
        /// The last state as compact JSON, once a drift check needed it.
        state: std::sync::OnceLock<String>,
    },
}

/// What `strata_build` computes from the embedded files at build time, so
/// that a start-up never reads the whole manifest: its light reading
/// ([`Manifest::from_json_light`]) as JSON, the digest of its bytes, the
/// state after its last migration as compact JSON (what a full drift check
/// compares with), and each file's checksum, in the order of `files`.
#[derive(Debug)]
struct Prepared {
    light: &'static str,
    digest: &'static str,
    state: &'static str,
    checksums: &'static [&'static str],
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
    /// The checksum the build recorded for the down file and the one of its
    /// text now, when they differ: a rollback refuses such a file.
    pub(crate) down_edited: Option<(String, String)>,
    /// False when the file says `-- strata:no-transaction` in its leading comments.
    pub(crate) transactional: bool,
    /// The down steps that can lose data, as the build marked them, and as
    /// the recorded changes say (for manifests written before that mark).
    pub(crate) lossy_down: Vec<strata_manifest::Unconfirmed>,
}

pub use strata_manifest::NO_TRANSACTION;

fn is_transactional(sql: &str) -> bool {
    !leading_trivia(sql)
        .iter()
        .any(|t| t.kind == TokenKind::Comment && t.text.trim() == NO_TRANSACTION)
}

/// What the build writes for `embed_migrations!()` (`strata_build`'s
/// `embed.rs`): data alone, whose shape the compiler checks against this
/// type, so that no name of this crate's is written as text by another.
/// The manifest's text (empty when there is none); when there is one, what
/// the build computed from it (its light reading as JSON, its digest, the
/// last state as compact JSON, and each file's checksum, in file order);
/// and each file's name and text.
#[doc(hidden)]
pub type EmbeddedData = (
    &'static str,
    Option<(
        &'static str,
        &'static str,
        &'static str,
        &'static [&'static str],
    )>,
    &'static [(&'static str, &'static str)],
);

impl Migrations {
    /// What `embed_migrations!()` expands to, from what the build wrote.
    #[doc(hidden)]
    pub const fn __from_build(data: EmbeddedData) -> Self {
        match data {
            (manifest, None, files) => Migrations::__embedded(manifest, files),
            (manifest, Some((light, digest, state, checksums)), files) => {
                Migrations::__embedded_prepared(manifest, light, digest, state, files, checksums)
            }
        }
    }

    #[doc(hidden)]
    pub const fn __embedded(
        manifest: &'static str,
        files: &'static [(&'static str, &'static str)],
    ) -> Self {
        Migrations {
            source: Source::Embedded {
                manifest,
                files,
                prepared: None,
            },
        }
    }

    /// The files, and what the build computed from them (see
    /// `strata_build`'s `embed.rs`).
    #[doc(hidden)]
    pub const fn __embedded_prepared(
        manifest: &'static str,
        light: &'static str,
        digest: &'static str,
        state: &'static str,
        files: &'static [(&'static str, &'static str)],
        checksums: &'static [&'static str],
    ) -> Self {
        Migrations {
            source: Source::Embedded {
                manifest,
                files,
                prepared: Some(Prepared {
                    light,
                    digest,
                    state,
                    checksums,
                }),
            },
        }
    }

    /// Reads `manifest.json` and the files it lists from a migrations
    /// directory, and computes what a start-up reads first, as the build
    /// does for `embed_migrations!()`.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self, Error> {
        let dir = dir.as_ref();
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|cause| Error::Io {
                path: path.to_owned(),
                cause,
            })
        };
        let manifest_path = dir.join("manifest.json");
        let manifest = read(&manifest_path)?;
        if manifest.trim().is_empty() {
            return Err(Error::EmptyManifest {
                path: manifest_path,
            });
        }
        let light = light(&manifest)?;
        let mut files = Vec::new();
        for entry in &light.migrations {
            for file in std::iter::once(&entry.file).chain(entry.down_file.as_ref()) {
                let sql = read(&dir.join(file))?;
                files.push((file.clone(), checksum(&sql), sql));
            }
        }
        // A migration the manifest does not list would never run: the build
        // takes a hand-written one in, and nothing else belongs here.
        let listing = std::fs::read_dir(dir).map_err(|cause| Error::Io {
            path: dir.to_owned(),
            cause,
        })?;
        for entry in listing.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let listed = files.iter().any(|(file, _, _)| *file == name);
            if name.ends_with(".sql") && !listed && entry.path().is_file() {
                return Err(Error::UnlistedMigration { path: entry.path() });
            }
        }
        Ok(Migrations {
            source: Source::Dir {
                digest: digest(manifest.as_bytes()),
                manifest,
                light: Box::new(light),
                files,
                state: std::sync::OnceLock::new(),
            },
        })
    }

    /// The digest of the manifest's bytes, which names the state a clean
    /// drift check was made against.
    pub(crate) fn manifest_digest(&self) -> std::borrow::Cow<'_, str> {
        match &self.source {
            Source::Embedded {
                prepared: Some(prepared),
                ..
            } => prepared.digest.into(),
            Source::Embedded { manifest, .. } => digest(manifest.as_bytes()).into(),
            Source::Dir { digest, .. } => digest.as_str().into(),
        }
    }

    /// A file's text and checksum.
    fn file(&self, name: &str) -> Option<(&str, std::borrow::Cow<'_, str>)> {
        match &self.source {
            Source::Embedded {
                files, prepared, ..
            } => {
                let i = files.iter().position(|(n, _)| *n == name)?;
                let sql = files.get(i)?.1;
                let sum = prepared
                    .as_ref()
                    .and_then(|p| p.checksums.get(i))
                    .map_or_else(|| checksum(sql).into(), |c| (*c).into());
                Some((sql, sum))
            }
            Source::Dir { files, .. } => files
                .iter()
                .find(|(n, ..)| n == name)
                .map(|(_, sum, sql)| (sql.as_str(), sum.as_str().into())),
        }
    }

    fn manifest_text(&self) -> &str {
        match &self.source {
            Source::Embedded { manifest, .. } => manifest,
            Source::Dir { manifest, .. } => manifest,
        }
    }

    /// The manifest: the migrations and the schema state after the last one.
    pub fn manifest(&self) -> Result<Manifest, Error> {
        let text = self.manifest_text();
        if text.trim().is_empty() {
            return Ok(Manifest::default());
        }
        Manifest::from_json(text).map_err(Error::Manifest)
    }

    /// The manifest's migrations without their changes, and of its state
    /// only the `search_path` ([`Manifest::from_json_light`]): what a
    /// start-up reads before it knows whether it must compare in full.
    pub(crate) fn manifest_light(&self) -> Result<Manifest, Error> {
        match &self.source {
            Source::Embedded {
                prepared: Some(prepared),
                ..
            } => Manifest::from_json_light(prepared.light).map_err(Error::Manifest),
            Source::Embedded { manifest, .. } => light(manifest),
            Source::Dir { light, .. } => Ok((**light).clone()),
        }
    }

    /// The state after the last migration, for a drift check: from the
    /// compact state a build embeds, one table at a time
    /// ([`crate::expected::Expected`]); else whole.
    pub(crate) fn expected(&self) -> Result<crate::expected::Expected<'_>, Error> {
        let text = match &self.source {
            Source::Embedded {
                prepared: Some(prepared),
                ..
            } => prepared.state,
            Source::Dir { state, .. } => match state.get() {
                Some(text) => text,
                None => {
                    let text = self.last_state()?.to_compact_json();
                    state.get_or_init(|| text)
                }
            },
            Source::Embedded { prepared: None, .. } => {
                return Ok(crate::expected::Expected::owned(self.last_state()?))
            }
        };
        crate::expected::Expected::from_compact_json(text).map_err(|e| Error::Manifest(e.into()))
    }

    /// The state after the last migration alone, without the changes.
    pub(crate) fn last_state(&self) -> Result<strata_manifest::SchemaState, Error> {
        if let Source::Embedded {
            prepared: Some(prepared),
            ..
        } = &self.source
        {
            return strata_manifest::SchemaState::from_compact_json(prepared.state)
                .map_err(Error::Manifest);
        }
        let text = self.manifest_text();
        if text.trim().is_empty() {
            return Ok(Default::default());
        }
        Manifest::state_from_json(text).map_err(Error::Manifest)
    }

    /// The migrations in order, each with the checksum of its text as carried.
    pub(crate) fn load<'a>(&'a self, manifest: &'a Manifest) -> Result<Vec<Migration<'a>>, Error> {
        let file = |name: &String| {
            self.file(name)
                .ok_or_else(|| Error::MissingMigration { file: name.clone() })
        };
        manifest
            .migrations
            .iter()
            .map(|entry| {
                let (sql, sum) = file(&entry.file)?;
                let mut down = None;
                let mut down_edited = None;
                let mut lossy_down = entry.lossy_down.clone();
                if let Some(name) = &entry.down_file {
                    let (text, sum) = file(name)?;
                    match &entry.down_checksum {
                        Some(recorded) if *recorded != sum => {
                            down_edited = Some((recorded.clone(), sum.into_owned()));
                        }
                        Some(_) => {}
                        // No build has judged it (a manifest older than down
                        // checksums): every statement that can lose data is.
                        None => {
                            lossy_down.extend(strata_manifest::lossy_statements(name, text, ""))
                        }
                    }
                    down = Some((name.as_str(), text));
                }
                Ok(Migration {
                    version: entry.version,
                    name: &entry.name,
                    file: &entry.file,
                    sql,
                    checksum: sum.into_owned(),
                    down,
                    down_edited,
                    transactional: is_transactional(sql),
                    lossy_down: {
                        for step in entry.changes.iter().flat_map(|c| c.lossy_inverse()) {
                            if !lossy_down.contains(&step) {
                                lossy_down.push(step);
                            }
                        }
                        lossy_down
                    },
                })
            })
            .collect()
    }
}

/// The light reading of a manifest's text; a blank one is empty.
fn light(text: &str) -> Result<Manifest, Error> {
    if text.trim().is_empty() {
        return Ok(Manifest::default());
    }
    Manifest::from_json_light(text).map_err(Error::Manifest)
}

/// Refuses to undo `undo` when a migration has no down file, or its down
/// file was edited after the build judged what it can lose: before
/// anything is undone, for the shared rollback and each tenant's alike.
pub(crate) fn refuse_down_files(undo: &[&Migration<'_>]) -> Result<(), Error> {
    if let Some(missing) = undo.iter().find(|m| m.down.is_none()) {
        return Err(Error::NoDownMigration {
            file: missing.file.to_owned(),
        });
    }
    if let Some(edited) = undo.iter().find(|m| m.down_edited.is_some()) {
        let (file, _) = edited.down.unwrap_or_default();
        let (recorded, current) = edited.down_edited.clone().unwrap_or_default();
        return Err(Error::DownFileModified {
            file: file.to_owned(),
            recorded,
            current,
        });
    }
    Ok(())
}

/// `confirm` and what `STRATA_CONFIRM` confirms, together.
pub(crate) fn with_env_confirmation(
    confirm: &strata_manifest::Confirm,
) -> strata_manifest::Confirm {
    confirm.clone().and(&strata_manifest::Confirm::parse(
        &std::env::var(strata_manifest::CONFIRM_ENV).unwrap_or_default(),
    ))
}
