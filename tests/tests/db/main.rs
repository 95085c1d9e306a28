//! strata's database tests: each on a fresh database of a real PostgreSQL
//! (`DATABASE_URL`, or one throwaway cluster for the whole binary).

mod read_back;
mod support;

mod adoption;
mod build;
mod drift;
mod enums;
mod expressions;
mod faults;
mod generated_sql;
mod golden;
mod hardening;
mod histories;
mod kinds;
mod messages;
mod migrate;
mod model_histories;
mod moves;
mod names;
mod new_kinds;
mod no_transaction;
mod online;
mod partitions;
mod rls;
mod smuggling;
mod sql_objects;
mod tenant_life;
mod tenants;
mod watch;
