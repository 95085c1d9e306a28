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
    Json(#[from] serde_json::Error),
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

/// The desired state cannot be reached without a change strata refuses to write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DiffError {
    /// Changes that could lose data: each entry names the object and what would happen.
    #[error(
        "refusing to write a migration that could lose data:\n{}\nhelp: strata never drops or narrows anything unless told to: restore the model, or confirm with STRATA_ALLOW_DESTRUCTIVE=1 (or Builder::allow_destructive(true)) and the changes are written in their own stage, `confirmed drops`",
        .0.iter().map(|c| format!("  - {c}")).collect::<Vec<_>>().join("\n")
    )]
    Destructive(Vec<String>),
}
