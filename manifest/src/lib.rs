//! The schema model behind strata: schemas, tables, columns and keys, the
//! migration manifest file, the diff between two states and its PostgreSQL
//! rendering. Pure: no I/O and no database.
//!
//! ```
//! use strata_manifest::{diff, render_migration, Column, SchemaState, Table};
//!
//! let mut next = SchemaState::default();
//! let mut table = Table::new("tenant_kct", "customers");
//! table.columns.push(Column::new("id", "bigint").not_null());
//! next.add_table(table);
//!
//! let changes = diff(&SchemaState::default(), &next).unwrap();
//! let sql = render_migration(1, "initial", &changes);
//! assert!(sql.contains(r#"CREATE TABLE "tenant_kct"."customers""#));
//! ```
#![deny(missing_docs)]

mod checksum;
mod confirm;
pub mod crud;
mod default_expr;
mod diff;
mod error;
pub mod fragment;
mod ident;
mod kinds;
pub mod lexer;
pub mod lint;
mod manifest;
mod naming;
mod object_ref;
mod online;
mod plan;
mod render;
pub mod sql_files;
mod sql_object;
mod state;
mod statements;
mod tenant;
mod types;

pub use checksum::{checksum, digest};
pub use confirm::{object_name, Confirm, Unconfirmed, CONFIRM_ENV};
pub use default_expr::{canonical_default, canonical_expr};
pub use diff::{diff, diff_with};
pub use error::{DiffError, IdentError, ManifestError};
pub use ident::{qualified, quote_ident, quote_literal, validate_ident, MAX_IDENT_BYTES};
pub use kinds::check::Check;
pub use kinds::column::{Column, ColumnChange, Defaults};
pub use kinds::comment::{CommentChange, ObjectComment};
pub use kinds::compat_view::CompatViewChange;
pub use kinds::constraint::{Constraint, ConstraintChange};
pub use kinds::domain::{Domain, DomainChange, DomainCheck, DomainShape};
pub use kinds::enum_type::{EnumChange, EnumColumn, EnumType};
pub use kinds::event_trigger::{EventTrigger, EventTriggerChange};
pub use kinds::object_grant::{ObjectGrantChange, ObjectPrivilege};
pub use object_ref::{ObjectRef, ObjectRefKind};

/// How an object's privileges are compared with a new object's.
pub mod object_grant {
    pub use crate::kinds::object_grant::{acl, deviations, Acl};
}
pub use kinds::exclusion::{Exclusion, ExclusionChange};
pub use kinds::extension::ExtensionChange;
pub use kinds::grant::{schema_usage, DefaultPrivileges, Grant, GrantChange, Privilege};
pub use kinds::index::{Index, IndexChange};
pub use kinds::publication::{Publication, PublicationChange, PublishedTable, ACTIONS};
pub use online::{
    residual_lock_hazards, split_online, split_online_batched, split_online_tenant,
    tenant_lock_reason, BACKFILL_BATCH,
};

/// The marker of a migration that must run outside a transaction
/// (`CREATE INDEX CONCURRENTLY`), among the comments that open the file.
pub const NO_TRANSACTION: &str = "-- strata:no-transaction";

pub use kinds::key::{Action, Deferral, ForeignKey, Key};
pub use kinds::partition::{PartitionChange, PartitionInterval, PartitionMethod, Partitioning};
pub use kinds::policy::{Policy, PolicyChange, PolicyCommand, RowSecurity};
pub use kinds::role::RoleChange;
pub use kinds::routine::{Routine, RoutineChange};
pub use kinds::schema::SchemaChange;
pub use kinds::search_path::SearchPathChange;
pub use kinds::sequence::{Sequence, SequenceChange, SequenceSettings};
pub use kinds::table::{Table, TableChange};
pub use kinds::trigger::{Trigger, TriggerChange};
pub use kinds::view::{View, ViewChange};
pub use kinds::Change;
pub use manifest::{Manifest, MigrationEntry, Prepared, FORMAT_VERSION};
pub use naming::{constraint_name, migration_name, partition_index_name};
pub use plan::{plan, Plan, PlannedMigration, Stream};
pub use render::{
    render_down, render_migration, render_migration_with, stages, stages_with, Stage,
};
pub use sql_files::{SqlFile, SqlFileKind, SQL_FILE_KINDS};
pub use sql_object::{
    definition_shape, identify, replace_spans, RoutineKind, SequenceOption, SqlObject,
};
pub use state::{QualifiedName, SchemaState};
pub use statements::{lossy_statements, split_statements, transaction_control, Statement};
pub use tenant::{
    after_transaction, in_one_transaction, tenant_sql, AFTER_TRANSACTION, TENANT_PLACEHOLDER,
};
pub use types::{
    canonical_type, has_assignment_cast, is_builtin_type, is_metadata_only, is_widening,
};
