//! What only the `strata` command line (and tools like it) needs, kept out
//! of the crates every service compiles: `pull`, which writes models for a
//! database that exists, and [`DatabaseDiff`], which brings one live
//! database to parity with another.
//!
//! ```no_run
//! # fn pull(state: &strata_manifest::SchemaState) -> Result<(), strata_tools::Error> {
//! let pulled = strata_tools::pull::write(state, std::path::Path::new("."))?;
//! println!("{} files written", pulled.files.len());
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod db_diff;
mod error;
pub mod graph;
pub mod pull;

pub use db_diff::{DatabaseDiff, StageOutcome};
pub use error::Error;
