//! Migration checksums.

use sha2::{Digest, Sha256};

/// The SHA-256 of a migration's text, as lowercase hex.
///
/// Line endings are normalised first: a checkout that turned `\n` into
/// `\r\n` (Git's `core.autocrlf` on Windows) has not edited the migration.
pub fn checksum(sql: &str) -> String {
    let normalised = sql.replace("\r\n", "\n");
    let digest = Sha256::digest(normalised.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of a manifest's bytes as they are, as lowercase hex: what
/// identifies the state a clean drift check was made against. Unlike
/// [`checksum`] it normalises nothing, so that it can be computed while
/// the file is streamed.
pub fn digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings_do_not_count_but_edits_do() {
        let lf = checksum("CREATE SCHEMA \"a\";\n");
        assert_eq!(lf, checksum("CREATE SCHEMA \"a\";\r\n"));
        assert_ne!(lf, checksum("CREATE SCHEMA \"b\";\n"));
        assert_eq!(lf.len(), 64);
    }
}
