//! The guide's Rust blocks and the attribute reference's, as doc tests:
//! `cargo test` compiles every one (and runs those not marked `no_run`),
//! so a block that stops compiling fails the tests. A crate of its own,
//! because its build script (which gives the blocks' `embed_migrations!()`
//! something to embed) sets `OUT_DIR` for its tests, which would reach the
//! builds the integration tests run.

/// The README's blocks are built and run as a crate of their own by
/// `scripts/outside-crate`, in CI.
#[cfg(doctest)]
pub mod guide {
    macro_rules! chapter {
        ($name:ident, $file:literal) => {
            #[doc = include_str!(concat!("../../docs/src/", $file))]
            pub struct $name;
        };
    }
    chapter!(Introduction, "introduction.md");
    chapter!(Models, "models.md");
    chapter!(SqlObjects, "sql-objects.md");
    chapter!(Security, "security.md");
    chapter!(Partitions, "partitions.md");
    chapter!(Build, "build.md");
    chapter!(Online, "online.md");
    chapter!(Startup, "startup.md");
    chapter!(TenantsChapter, "tenants.md");
    chapter!(FleetChapter, "fleet.md");
    chapter!(Adoption, "adoption.md");
    chapter!(Cli, "cli.md");
    chapter!(Testing, "testing.md");
    chapter!(Limits, "limits.md");
    chapter!(Performance, "performance.md");
    chapter!(Examples, "examples.md");

    /// The reference of `#[strata::schema]`, as docs.rs shows it.
    #[doc = include_str!("../../macros/src/schema.md")]
    pub struct SchemaReference;
    /// The reference of `#[strata::view]`.
    #[doc = include_str!("../../macros/src/view.md")]
    pub struct ViewReference;
}
