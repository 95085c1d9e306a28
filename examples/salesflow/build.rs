fn main() {
    // Shared models go to migrations/, tenant models to migrations/tenant/.
    strata_build::Builder::new()
        // On a fleet, the shared schemas tenant tables reference are copied
        // to every server (`--fleet`); the build checks that they are all.
        .replicated("activity")
        .replicated("auth")
        .replicated("contact")
        // Every error as cargo's own, each once, and no panic.
        .report();
}
