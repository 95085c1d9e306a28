//! Liventix's models: eleven domain schemas and `public`.

pub mod analytics;
pub mod campaigns;
pub mod events;
pub mod messaging;
pub mod ml;
pub mod organizations;
pub mod payments;
pub mod public;
pub mod reference;
pub mod sponsorship;
pub mod ticketing;
pub mod users;
