//! Identifier rules: every name that reaches SQL is validated here and quoted here.

use crate::IdentError;

/// PostgreSQL keeps at most `NAMEDATALEN - 1` = 63 bytes of an identifier and
/// silently truncates the rest, so two longer names could collide.
pub const MAX_IDENT_BYTES: usize = 63;

/// Checks that `name` can be used as a PostgreSQL identifier exactly as written.
pub fn validate_ident(name: &str) -> Result<(), IdentError> {
    if name.is_empty() {
        return Err(IdentError::Empty);
    }
    if name.contains('\0') {
        return Err(IdentError::Nul(name.replace('\0', "\\0")));
    }
    if name.len() > MAX_IDENT_BYTES {
        return Err(IdentError::TooLong {
            name: name.to_owned(),
            bytes: name.len(),
        });
    }
    Ok(())
}

/// Quotes an identifier for SQL, doubling embedded double quotes.
pub fn quote_ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Quotes text as an SQL string literal, doubling embedded single quotes
/// (with `standard_conforming_strings`, on since PostgreSQL 9.1, a
/// backslash is an ordinary character).
pub fn quote_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        if c == '\'' {
            out.push('\'');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// `"schema"."name"`, both parts quoted.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_doubles_quotes() {
        assert_eq!(quote_ident("AiAction"), "\"AiAction\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(
            qualified("tenant_kct", "orders"),
            "\"tenant_kct\".\"orders\""
        );
    }

    #[test]
    fn rejects_empty_nul_and_long_names() {
        assert_eq!(validate_ident(""), Err(IdentError::Empty));
        assert!(matches!(validate_ident("a\0b"), Err(IdentError::Nul(_))));
        assert!(validate_ident(&"x".repeat(63)).is_ok());
        // 32 two-byte characters: 64 bytes although only 32 characters.
        assert!(matches!(
            validate_ident(&"é".repeat(32)),
            Err(IdentError::TooLong { bytes: 64, .. })
        ));
    }
}
