//! The one error type of the tools.

use std::path::PathBuf;

/// Why a tool could not finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or folder could not be written; its cause is printed, not
    /// exposed again as `source()`.
    #[error("{}: {cause}", .path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        cause: std::io::Error,
    },
    /// The runtime failed: reading a database, or running SQL on it.
    #[error("{0}")]
    Runtime(strata::Error),
    /// A diff between two databases needs changes that can lose data (or
    /// that strata cannot write).
    #[error("{0}\nhelp: for a diff between two databases, pass --unsafe (DatabaseDiff::plan with allow_loss) once you have checked that the database being changed may lose them")]
    DiffRefused(strata_manifest::DiffError),
}

impl From<strata::Error> for Error {
    fn from(error: strata::Error) -> Self {
        Error::Runtime(error)
    }
}

pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |cause| Error::Io { path, cause }
}
