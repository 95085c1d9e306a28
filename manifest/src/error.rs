//! Errors of the pure schema layer.

/// A name that cannot be used as a PostgreSQL identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentError {
    /// The name is empty.
    #[error("name is empty; give a non-empty name")]
    Empty,
    /// The name contains a NUL byte.
    #[error("name `{0}` contains a NUL byte, which PostgreSQL cannot store")]
    Nul(String),
    /// The name is longer than PostgreSQL keeps.
    #[error(
        "name `{name}` is {bytes} bytes long; PostgreSQL keeps only 63 bytes of a name, so shorten it"
    )]
    TooLong {
        /// The name as given.
        name: String,
        /// Its length in bytes.
        bytes: usize,
    },
}

/// The manifest file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// The JSON is malformed or does not have the expected shape.
    #[error("manifest is not valid: {0}")]
    Json(serde_json::Error),
    /// A migration's file name that is not a plain `.sql` file name in the
    /// migrations folder (`../x.sql`, `/etc/x`): never read.
    #[error("manifest lists the file {file:?}, which is not a file name in the migrations folder: a migration is named NNNN_name.sql (and NNNN_name.down.sql), without folders")]
    FileName {
        /// The name as listed.
        file: String,
    },
    /// The manifest was written by a newer strata.
    #[error(
        "manifest format {found} is newer than this strata understands (format {supported}); upgrade strata"
    )]
    UnsupportedFormat {
        /// The format found in the file.
        found: u32,
        /// The newest format this version reads.
        supported: u32,
    },
}

// Each error prints its cause and does not expose it as `source()` as well,
// so that a printed chain says it once.
impl From<serde_json::Error> for ManifestError {
    fn from(error: serde_json::Error) -> Self {
        ManifestError::Json(error)
    }
}

/// The desired state cannot be reached without a change strata refuses to
/// write: one that needs confirmation, or one that cannot be written at all
/// as the models stand.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DiffError {
    /// Changes that could lose data, or cannot apply to a table with rows,
    /// and were not confirmed.
    pub unconfirmed: Vec<crate::Unconfirmed>,
    /// Hints that cannot be honoured and changes that cannot be written,
    /// confirmed or not, each saying what to change in the models.
    pub problems: Vec<String>,
}

impl DiffError {
    /// The error for `unconfirmed` changes alone.
    pub fn unconfirmed(unconfirmed: Vec<crate::Unconfirmed>) -> Self {
        DiffError {
            unconfirmed,
            problems: Vec::new(),
        }
    }
}

impl std::error::Error for DiffError {}

impl std::fmt::Display for DiffError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.problems.is_empty() {
            f.write_str("the models ask for changes strata cannot write:")?;
            for problem in &self.problems {
                write!(f, "\n  - {problem}")?;
            }
            if !self.unconfirmed.is_empty() {
                f.write_str("\n")?;
            }
        }
        if !self.unconfirmed.is_empty() {
            f.write_str("refusing to write changes that could lose data, cannot apply to a table with rows, or would stop a table's reads and writes (hazards):")?;
            for step in &self.unconfirmed {
                write!(f, "\n  - {step}")?;
            }
            let names: Vec<&str> = self.unconfirmed.iter().map(|u| u.object.as_str()).collect();
            write!(
                f,
                "\nhelp: change the models as the help lines say, or, if you know it is safe (the table is empty, or a hand-written migration before this one has prepared the data), confirm each object: STRATA_CONFIRM={} (or Builder::confirm); STRATA_CONFIRM=all confirms everything pending",
                names.join(",")
            )?;
        }
        Ok(())
    }
}
