//! KCT Menswear's tables, one module per schema.

// The shop has more tables than this short run touches; the models are its schema all the same.
#![allow(dead_code)]

pub mod analytics;
pub mod audit;
pub mod kct;
pub mod public;
pub mod shared;
