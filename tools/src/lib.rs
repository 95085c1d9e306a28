//! What only the `strata` command line (and tools like it) needs, kept out
//! of the crates every service compiles: `pull`, which writes models for a
//! database that exists.
//!
//! ```no_run
//! # fn pull(state: &strata_manifest::SchemaState) -> Result<(), strata_tools::Error> {
//! let pulled = strata_tools::pull::write(state, std::path::Path::new("."))?;
//! println!("{} files written", pulled.files.len());
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod error;
pub mod pull;

pub use error::Error;
