fn main() {
    // Shared models go to migrations/, tenant models to migrations/tenant/.
    strata_build::Builder::new()
        // Every error as cargo's own, each once, and no panic.
        .report();
}
