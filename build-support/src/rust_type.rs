//! Rust field types to PostgreSQL column types, as sqlx maps them.

/// The PostgreSQL type for a Rust type, and whether it is `Option<_>`.
/// `None` when strata cannot tell: the user must say `type = "…"`.
pub(crate) fn sql_type_of(ty: &syn::Type) -> (Option<String>, bool) {
    match option_inner(ty) {
        Some(inner) => (scalar_or_array(inner), true),
        None => (scalar_or_array(ty), false),
    }
}

/// `T` when `ty` is `Option<T>` (also `std::option::Option<T>`).
pub(crate) fn option_inner(ty: &syn::Type) -> Option<&syn::Type> {
    let (name, args) = last_segment(ty)?;
    if name != "Option" {
        return None;
    }
    args.into_iter().next()
}

fn scalar_or_array(ty: &syn::Type) -> Option<String> {
    let (name, args) = last_segment(ty)?;
    if name == "Vec" {
        let inner = args.into_iter().next()?;
        if last_segment(inner).is_some_and(|(n, _)| n == "u8") {
            return Some("bytea".to_owned());
        }
        return scalar(inner).map(|t| format!("{t}[]"));
    }
    scalar(ty)
}

fn scalar(ty: &syn::Type) -> Option<String> {
    let (name, _) = last_segment(ty)?;
    let sql = match name.as_str() {
        "i16" => "smallint",
        "i32" => "integer",
        "i64" => "bigint",
        "f32" => "real",
        "f64" => "double precision",
        "bool" => "boolean",
        "String" => "text",
        // uuid
        "Uuid" => "uuid",
        // chrono and time
        "NaiveDate" | "Date" => "date",
        "NaiveDateTime" | "PrimitiveDateTime" => "timestamp without time zone",
        "NaiveTime" | "Time" => "time without time zone",
        "DateTime" | "OffsetDateTime" => "timestamp with time zone",
        // rust_decimal
        "Decimal" => "numeric",
        // serde_json
        "Value" | "JsonValue" | "Json" => "jsonb",
        _ => return None,
    };
    Some(sql.to_owned())
}

fn last_segment(ty: &syn::Type) -> Option<(String, Vec<&syn::Type>)> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    if path.qself.is_some() {
        return None;
    }
    let segment = path.path.segments.last()?;
    let args = match &segment.arguments {
        syn::PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|arg| match arg {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    Some((segment.ident.to_string(), args))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(src: &str) -> (Option<String>, bool) {
        sql_type_of(&syn::parse_str(src).unwrap())
    }

    #[test]
    fn maps_like_sqlx() {
        assert_eq!(map("i64"), (Some("bigint".into()), false));
        assert_eq!(map("Option<String>"), (Some("text".into()), true));
        assert_eq!(map("Vec<u8>"), (Some("bytea".into()), false));
        assert_eq!(map("Vec<i32>"), (Some("integer[]".into()), false));
        assert_eq!(
            map("Option<chrono::DateTime<chrono::Utc>>"),
            (Some("timestamp with time zone".into()), true)
        );
        assert_eq!(map("serde_json::Value"), (Some("jsonb".into()), false));
        assert_eq!(map("MyEnum"), (None, false));
        assert_eq!(map("u32"), (None, false));
    }
}
