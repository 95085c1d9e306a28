//! Reads `#[strata::schema]` models out of Rust source and writes the next
//! migration from them: the build-script side of strata, and the one parser
//! the `#[schema]` macro uses too.
//!
//! In `build.rs`:
//!
//! ```no_run
//! strata_build::Builder::new() // models in "src", files in "migrations"
//!     .report(); // every error as cargo's own, each once, no panic
//! ```
#![deny(missing_docs)]

mod builder;
mod context;
mod embed;
mod error;
mod model;
mod parse;
mod rust_type;
mod scan;
mod sql_dir;
mod stream;
mod warnings;

pub use builder::{Builder, Outcome};
pub use error::{Error, ModelError};
pub use model::{EnumModel, EnumValue, Field, IndexSpec, Model, Reference, UniqueSpec, ViewModel};
pub use parse::{parse_enum, parse_model, parse_view, STRUCT_ATTRIBUTES};
pub use scan::{scan_models, ScannedEnum, ScannedModel, ScannedModels, ScannedView};
pub use stream::new_migration;

/// The schema model this crate plans with, re-exported for the macro.
pub use strata_manifest as manifest;
