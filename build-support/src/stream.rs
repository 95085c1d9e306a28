//! One migration stream (the shared one, or the tenant stream): its
//! manifest, the files in its folder, and the hand-written migrations the
//! user added since the last build.

use std::path::{Path, PathBuf};

use strata_manifest::{
    checksum, lossy_statements, migration_name, render_down, render_migration_with, stages_with,
    tenant_lock_reason, Change, Manifest, MigrationEntry, PlannedMigration, SchemaState,
    Unconfirmed, AFTER_TRANSACTION, NO_TRANSACTION,
};

use crate::builder::write_atomically;
use crate::embed::write_embedded;
use crate::error::{io, Error};

/// One migration stream.
pub(crate) struct Stream {
    pub(crate) dir: PathBuf,
    pub(crate) manifest: Manifest,
    /// Hand-written migrations found in the folder and not in the manifest yet.
    pub(crate) hand_written: Vec<MigrationEntry>,
    /// Manifest entries whose file was edited since the manifest recorded it.
    pub(crate) edited: Vec<String>,
    /// Manifest entries whose down file was edited since the build judged
    /// what it can lose (or that no build has judged yet).
    pub(crate) edited_downs: Vec<String>,
    /// The file `embed_migrations!()` (or its tenant twin) includes.
    embed_file: &'static str,
    /// A comment opening each migration file.
    preamble: &'static str,
}

impl Stream {
    /// Reads the stream's manifest (none yet: empty), checks its files are
    /// there, and takes in the hand-written migrations that follow it. A
    /// file in the folder that is neither is an error naming it; `skip` is a
    /// sub-folder that belongs to another stream.
    pub(crate) fn read(
        dir: PathBuf,
        skip: Option<&Path>,
        embed_file: &'static str,
        preamble: &'static str,
    ) -> Result<Self, Error> {
        let manifest = read_manifest(&dir.join("manifest.json"))?;
        let mut edited = Vec::new();
        let mut edited_downs = Vec::new();
        for entry in &manifest.migrations {
            for file in std::iter::once(&entry.file).chain(entry.down_file.as_ref()) {
                let path = dir.join(file);
                if !path.is_file() {
                    return Err(Error::MissingMigration { path });
                }
            }
            let text = std::fs::read_to_string(dir.join(&entry.file)).map_err(io(&dir))?;
            if checksum(&text) != entry.checksum {
                refuse_transaction_control(&dir.join(&entry.file), &text)?;
                edited.push(entry.file.clone());
            }
            if let Some(down) = &entry.down_file {
                let path = dir.join(down);
                let text = std::fs::read_to_string(&path).map_err(io(&path))?;
                if entry.down_checksum.as_deref() != Some(checksum(&text).as_str()) {
                    refuse_transaction_control(&path, &text)?;
                    edited_downs.push(down.clone());
                }
            }
        }
        let hand_written = take_in(&dir, skip, false, &manifest)?;
        Ok(Stream {
            dir,
            manifest,
            hand_written,
            edited,
            edited_downs,
            embed_file,
            preamble,
        })
    }

    /// What this stream would record without any model change: the
    /// hand-written migrations it takes in, and edited files whose checksum
    /// it refreshes.
    pub(crate) fn pending_bookkeeping(&self, prefix: &str) -> Vec<String> {
        let taken = self
            .hand_written
            .iter()
            .map(|m| format!("{prefix}take in the hand-written migration {}", m.file));
        let edited = self
            .edited
            .iter()
            .map(|f| format!("{prefix}record the new checksum of the edited {f}"));
        let downs = self.edited_downs.iter().map(|f| {
            format!("{prefix}judge what the down file {f} can lose, and record its checksum")
        });
        taken.chain(edited).chain(downs).collect()
    }

    /// Records the hand-written migrations and refreshed checksums in the
    /// manifest; true when the manifest changed.
    pub(crate) fn record_bookkeeping(&mut self) -> Result<bool, Error> {
        if self.hand_written.is_empty() && self.edited.is_empty() && self.edited_downs.is_empty() {
            return Ok(false);
        }
        for entry in &mut self.manifest.migrations {
            if self.edited.contains(&entry.file) {
                let text = std::fs::read_to_string(self.dir.join(&entry.file))
                    .map_err(io(self.dir.join(&entry.file)))?;
                entry.checksum = checksum(&text);
            }
            let Some(down) = entry.down_file.clone() else {
                continue;
            };
            if self.edited_downs.contains(&down) {
                let path = self.dir.join(&down);
                let text = std::fs::read_to_string(&path).map_err(io(&path))?;
                // What strata generated is judged by its changes already;
                // every other statement that can lose data is judged here.
                let generated = match entry.hand_written {
                    true => String::new(),
                    false => render_down(entry.version, &entry.name, &entry.changes),
                };
                for step in lossy_statements(&down, &text, &generated) {
                    if !entry.lossy_down.contains(&step) {
                        entry.lossy_down.push(step);
                    }
                }
                entry.down_checksum = Some(checksum(&text));
            }
        }
        self.manifest.migrations.append(&mut self.hand_written);
        self.edited.clear();
        self.edited_downs.clear();
        write_atomically(&self.dir.join("manifest.json"), &self.manifest.to_json())?;
        Ok(true)
    }

    /// Writes the next generated migration, its down file and the manifest,
    /// with `hazards` that the changes hold where they stand besides their
    /// own (a lock on a table that existed before), confirmed: recorded
    /// with the migration, and their statements marked.
    ///
    /// `after` (a tenant migration's) runs after the transaction, each step
    /// on its own: it follows the [`AFTER_TRANSACTION`] marker.
    pub(crate) fn write(&mut self, planned: PlannedMigration) -> Result<PathBuf, Error> {
        let PlannedMigration {
            changes,
            in_transaction,
            after,
            hazards,
            state,
            ..
        } = planned;
        self.write_with(&changes, in_transaction, &after, state, hazards)
    }

    fn write_with(
        &mut self,
        before: &[Change],
        in_transaction: bool,
        after: &[Change],
        desired: SchemaState,
        hazards: Vec<Unconfirmed>,
    ) -> Result<PathBuf, Error> {
        let all: Vec<Change> = before.iter().chain(after).cloned().collect();
        let changes = all.as_slice();
        let manifest = &mut self.manifest;
        let dir = &self.dir;
        let version = manifest.next_version();
        let name = migration_name(changes, manifest.migrations.is_empty());
        let file = format!("{version:04}_{name}.sql");
        let down_file = format!("{version:04}_{name}.down.sql");
        // `CONCURRENTLY` cannot run in a transaction: the runtime runs a file
        // so marked statement by statement (its down file stays plain).
        let marker = if !in_transaction {
            format!("{NO_TRANSACTION}\n")
        } else {
            String::new()
        };
        let reason = |change: &Change| {
            change
                .lock_reason()
                .or_else(|| tenant_lock_reason(change, &hazards))
        };
        let mut sql = format!(
            "{marker}{}{}",
            self.preamble,
            render_migration_with(version, &name, before, &reason)
        );
        if !after.is_empty() {
            sql.push_str(&format!(
                "\n{AFTER_TRANSACTION}\n-- Each step below runs on its own once the tenant's transaction has committed, and a failed one resumes where it stopped; the tenant's version advances when all have run. A new tenant runs them in its transaction, without CONCURRENTLY.\n"
            ));
            for stage in stages_with(after, &reason) {
                sql.push_str(&format!(
                    "\n-- {}. {}\n{}",
                    stage.number, stage.title, stage.sql
                ));
            }
        }
        let down = format!("{}{}", self.preamble, render_down(version, &name, changes));
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let path = dir.join(&file);
        write_atomically(&path, &sql)?;
        write_atomically(&dir.join(&down_file), &down)?;
        let down_checksum = Some(checksum(&down));
        let mut lossy_down: Vec<Unconfirmed> = Vec::new();
        for step in changes.iter().flat_map(Change::lossy_inverse) {
            if !lossy_down.contains(&step) {
                lossy_down.push(step);
            }
        }
        manifest.migrations.push(MigrationEntry {
            version,
            name,
            file,
            checksum: checksum(&sql),
            down_file: Some(down_file),
            down_checksum,
            changes: changes.to_vec(),
            lossy_down,
            hazards: changes
                .iter()
                .filter_map(Change::hazard)
                .chain(hazards)
                .collect(),
            hand_written: false,
        });
        manifest.state = desired;
        write_atomically(&dir.join("manifest.json"), &manifest.to_json())?;
        Ok(path)
    }

    pub(crate) fn embed(&self, out: &Path) -> Result<(), Error> {
        write_embedded(out, self.embed_file, &self.dir, &self.manifest)
    }
}

fn read_manifest(path: &Path) -> Result<Manifest, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => Manifest::from_json(&text).map_err(|cause| Error::Manifest {
            path: path.to_owned(),
            cause,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Manifest::default()),
        Err(e) => Err(io(path)(e)),
    }
}

/// A migration file's name taken apart: `0003_backfill_labels.down.sql` is
/// version 3, name `backfill_labels`, a down file.
struct FileName {
    version: u32,
    name: String,
    down: bool,
}

fn parse_file_name(file: &str) -> Option<FileName> {
    let (stem, down) = match file.strip_suffix(".down.sql") {
        Some(stem) => (stem, true),
        None => (file.strip_suffix(".sql")?, false),
    };
    let (number, name) = stem.split_once('_')?;
    let valid_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if number.len() != 4 || !number.chars().all(|c| c.is_ascii_digit()) || !valid_name {
        return None;
    }
    Some(FileName {
        version: number.parse().ok()?,
        name: name.to_owned(),
        down,
    })
}

/// The hand-written migrations in `dir` that the manifest does not list yet,
/// numbered on from its last; anything else in the folder is an error.
/// `skip` is another stream's folder inside this one; with `folders_allowed`
/// every folder is passed over.
fn take_in(
    dir: &Path,
    skip: Option<&Path>,
    folders_allowed: bool,
    manifest: &Manifest,
) -> Result<Vec<MigrationEntry>, Error> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let listed: Vec<&str> = manifest
        .migrations
        .iter()
        .flat_map(|m| std::iter::once(m.file.as_str()).chain(m.down_file.as_deref()))
        .collect();
    let mut ups: Vec<(FileName, String)> = Vec::new();
    let mut downs: Vec<(FileName, String)> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        let file = entry.file_name().to_string_lossy().into_owned();
        if skip.is_some_and(|s| path == s)
            || file == "manifest.json"
            || listed.contains(&file.as_str())
        {
            continue;
        }
        if matches!(file.as_str(), ".gitkeep" | ".gitignore") {
            continue;
        }
        let stray = |why: &str| Error::StrayFile {
            path: path.clone(),
            why: why.to_owned(),
        };
        if path.is_dir() && folders_allowed {
            continue; // starting a migration: folders are the build's business
        }
        if path.is_dir() {
            return Err(stray(
                "a folder strata does not use; move it out of the migrations folder",
            ));
        }
        let Some(parsed) = parse_file_name(&file) else {
            return Err(stray(
                "not a migration: a hand-written migration is named NNNN_name.sql (four digits, then lowercase letters, digits and underscores), with an optional NNNN_name.down.sql; rename it, or move it out of the migrations folder",
            ));
        };
        if parsed.version < manifest.next_version() {
            return Err(stray(&format!(
                "its number {:04} is taken: the manifest already has migrations 0001 to {:04}; number it {:04}",
                parsed.version,
                manifest.next_version() - 1,
                manifest.next_version()
            )));
        }
        if parsed.down {
            downs.push((parsed, file));
        } else {
            ups.push((parsed, file));
        }
    }
    ups.sort_by_key(|(p, _)| p.version);
    let mut taken = Vec::new();
    for (expected, (parsed, file)) in (manifest.next_version()..).zip(ups.iter()) {
        let path = dir.join(file);
        if parsed.version < expected {
            return Err(Error::StrayFile {
                path,
                why: format!(
                    "a second migration numbered {:04}; give it the next free number",
                    parsed.version
                ),
            });
        }
        if parsed.version > expected {
            return Err(Error::StrayFile {
                path,
                why: format!(
                    "a gap in the numbering: the next migration is {expected:04}, not {:04}; renumber it",
                    parsed.version
                ),
            });
        }
        let sql = std::fs::read_to_string(&path).map_err(io(&path))?;
        refuse_transaction_control(&path, &sql)?;
        let down = downs
            .iter()
            .find(|(d, _)| d.version == parsed.version && d.name == parsed.name)
            .map(|(_, f)| f.clone());
        let (lossy_down, down_checksum) = match &down {
            Some(down) => {
                let text = std::fs::read_to_string(dir.join(down)).map_err(io(dir.join(down)))?;
                refuse_transaction_control(&dir.join(down), &text)?;
                (lossy_statements(down, &text, ""), Some(checksum(&text)))
            }
            None => (Vec::new(), None),
        };
        taken.push(MigrationEntry {
            version: parsed.version,
            name: parsed.name.clone(),
            file: file.clone(),
            checksum: checksum(&sql),
            down_file: down,
            down_checksum,
            changes: Vec::new(),
            lossy_down,
            hazards: Vec::new(),
            hand_written: true,
        });
    }
    for (parsed, file) in &downs {
        if !taken
            .iter()
            .any(|m| m.down_file.as_deref() == Some(file.as_str()))
        {
            return Err(Error::StrayFile {
                path: dir.join(file),
                why: format!(
                    "a down file without its migration: add {:04}_{}.sql beside it, or remove it",
                    parsed.version, parsed.name
                ),
            });
        }
    }
    Ok(taken)
}

/// A migration file that begins, ends or marks its own transaction is an
/// error naming its line: the runtime runs each migration in one
/// transaction (or, marked, statement by statement), and a `COMMIT` in the
/// middle would leave the part before it applied when the rest fails.
fn refuse_transaction_control(path: &Path, sql: &str) -> Result<(), Error> {
    match strata_manifest::transaction_control(sql) {
        None => Ok(()),
        Some(statement) => Err(Error::SqlFile {
            path: path.to_owned(),
            line: Some(statement.line),
            why: format!(
                "`{}` controls the transaction, which strata does for each migration: remove it (a migration runs in one transaction); for what cannot run in one, such as CREATE INDEX CONCURRENTLY, start the file with the line `{NO_TRANSACTION}`, and each statement runs on its own",
                statement.sql.lines().next().unwrap_or_default().trim()
            ),
        }),
    }
}

/// Starts the next hand-written migration in `dir`: an empty
/// `NNNN_<name>.sql`, numbered after the manifest's last migration and any
/// hand-written one not taken in yet. Returns its path.
///
/// ```no_run
/// let path = strata_build::new_migration("migrations", "backfill_labels").unwrap();
/// println!("write your SQL in {}", path.display());
/// ```
pub fn new_migration(dir: impl AsRef<Path>, name: &str) -> Result<PathBuf, Error> {
    let dir = dir.as_ref();
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        return Err(Error::BadMigrationName {
            name: name.to_owned(),
        });
    }
    let manifest = read_manifest(&dir.join("manifest.json"))?;
    let pending = take_in(dir, None, true, &manifest)?;
    let version = pending
        .last()
        .map_or(manifest.next_version(), |m| m.version + 1);
    let file = dir.join(format!("{version:04}_{name}.sql"));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let text = format!(
        "-- strata migration {version:04}_{name}, written by hand.\n\
         -- The next build takes it into the manifest; it runs in order with the\n\
         -- generated ones, in one transaction. Add {version:04}_{name}.down.sql to undo it.\n\n"
    );
    write_atomically(&file, &text)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_migration_file_names() {
        let parsed = parse_file_name("0003_backfill_labels.down.sql").unwrap();
        assert_eq!(
            (parsed.version, parsed.name.as_str(), parsed.down),
            (3, "backfill_labels", true)
        );
        assert!(parse_file_name("3_backfill.sql").is_none());
        assert!(parse_file_name("0003_Backfill.sql").is_none());
        assert!(parse_file_name("0003_backfill.txt").is_none());
        assert!(parse_file_name("0003_.sql").is_none());
    }
}
