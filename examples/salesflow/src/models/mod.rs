//! SalesFlow's tables: shared schemas, and the tables of every tenant.

// The CRM has more to it than this short run touches; the models are its schema all the same.
#![allow(dead_code)]

pub mod activity;
pub mod auth;
pub mod contact;
pub mod public;
pub mod tenant;
