//! Integration tests for strata live in `tests/`; this library is empty.
