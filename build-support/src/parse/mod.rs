//! The one parser of `#[schema(…)]`, `#[column(…)]`, `#[index(…)]` and
//! `#[check(…)]`, for the macro and the build script alike: parse, then check.

mod column;
mod enum_type;
mod table;
mod values;
mod view;

pub use enum_type::parse_enum;
pub use view::parse_view;

use heck::ToSnakeCase;
use proc_macro2::{Span, TokenStream};
use strata_manifest::TENANT_PLACEHOLDER;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{LitStr, Token};

pub use table::STRUCT_ATTRIBUTES;

use crate::context::Ctxt;
use crate::model::{Field, Model};
use values::{checked_name, checked_schema, doc_comment, flag, string_once, unknown_key, unraw};

const SCHEMA_KEYS: &str =
    "table = \"…\", moved_from = \"…\", renamed_from = \"…\", compat_view, rls, rls = \"enabled\", partition_by = \"range(…)\", partition_interval = \"month\", partitions_ahead = 3, partitions_kept = 24, default_partition, partitions = 8";

/// `r#type` → `type`.
pub(crate) fn unraw_ident(ident: &syn::Ident) -> String {
    unraw(ident)
}

/// Parses a model: `args` are the tokens inside `#[schema(…)]`, `item` the
/// struct it is on. Every mistake is reported, each on its own tokens.
pub fn parse_model(args: TokenStream, item: &syn::ItemStruct) -> syn::Result<Model> {
    let mut cx = Ctxt::default();
    let schema_args = parse_schema_args(&mut cx, args);
    let table = match &schema_args.table {
        Some(lit) => checked_name(&mut cx, lit, lit.value()),
        None => {
            let name = unraw(&item.ident).to_snake_case();
            checked_name(&mut cx, &item.ident, name)
        }
    };
    let tenant = schema_args.tenant.is_some();
    let schema = match tenant {
        true => TENANT_PLACEHOLDER.to_owned(),
        false => schema_args.schema.clone().unwrap_or_default(),
    };
    if tenant {
        // Tables reach a tenant's schema by its own migrations; a move from a
        // shared schema would have to split rows between tenants.
        for (given, key) in [
            (
                schema_args.moved_from.as_ref().map(|l| l.span()),
                "moved_from",
            ),
            (
                schema_args.compat_view.as_ref().map(|p| p.span()),
                "compat_view",
            ),
        ] {
            if let Some(span) = given {
                cx.push(syn::Error::new(
                    span,
                    format!("`{key}` cannot be used on a tenant model: its table is created in each tenant's schema by the tenant migrations\nhelp: to rename a tenant table, use renamed_from = \"old_name\""),
                ));
            }
        }
    }
    let moved_from = schema_args.moved_from.as_ref().filter(|_| !tenant).map(|lit| {
        let from = checked_schema(&mut cx, lit);
        if from == schema {
            cx.error_spanned_by(
                lit,
                format!("`moved_from` names the schema the table used to live in, but the table lives in `{schema}` already\nhelp: remove `moved_from`, or change the schema the table moves to"),
            );
        }
        from
    });
    let renamed_from = schema_args.renamed_from.as_ref().map(|lit| {
        let from = checked_name(&mut cx, lit, lit.value());
        if from == table {
            cx.error_spanned_by(
                lit,
                format!("`renamed_from` names the table's old name, but the table is called `{table}` already"),
            );
        }
        from
    });
    if let Some(compat_view) = schema_args.compat_view.as_ref().filter(|_| !tenant) {
        if moved_from.is_none() && renamed_from.is_none() {
            cx.error_spanned_by(
                compat_view,
                "`compat_view` leaves a view under the table's old name, so it needs `moved_from` or `renamed_from`",
            );
        }
    }
    if !item.generics.params.is_empty() {
        cx.error_spanned_by(
            &item.generics,
            "a #[schema] model cannot be generic: it describes one table",
        );
    }
    let mut fields = Vec::new();
    match &item.fields {
        syn::Fields::Named(named) => {
            for field in &named.named {
                if let Some(parsed) = column::parse_field(&mut cx, field, &table) {
                    fields.push(parsed);
                }
            }
        }
        _ => cx.error_spanned_by(
            &item.ident,
            "#[schema] needs a struct with named fields, one per column: `struct Customer { id: i64 }`",
        ),
    }
    let primary_key = table::parse_primary_key(&mut cx, item, &mut fields);
    check_fields(&mut cx, item, &fields);
    let partition = partitioning(&mut cx, &schema_args, &fields, tenant);
    let table::TableAttrs {
        indexes,
        checks,
        uniques,
        foreign_keys,
        policies,
        grants,
    } = table::parse_table_attrs(&mut cx, item, &fields);
    if let (Some(policy), None) = (policies.first(), &schema_args.rls) {
        cx.push(syn::Error::new_spanned(
            &policy.1,
            format!(
                "policy `{}` needs row-level security on the table: add `rls` to #[strata::schema(…, rls)]",
                policy.0.name
            ),
        ));
    }
    let rls_forced = rls_forced(&mut cx, &schema_args);
    cx.check()?;
    Ok(Model {
        ident: item.ident.clone(),
        tenant,
        schema,
        table,
        moved_from,
        renamed_from,
        compat_view: !tenant && schema_args.compat_view.is_some(),
        comment: doc_comment(&item.attrs),
        fields,
        indexes,
        checks,
        uniques,
        foreign_keys,
        primary_key,
        rls: schema_args.rls.is_some(),
        rls_forced,
        policies: policies.into_iter().map(|(policy, _)| policy).collect(),
        grants: grants.into_iter().map(|(grant, _)| grant).collect(),
        partition,
    })
}

#[derive(Default)]
struct SchemaArgs {
    schema: Option<String>,
    /// `tenant` in place of the schema's name.
    tenant: Option<syn::Ident>,
    table: Option<LitStr>,
    moved_from: Option<LitStr>,
    renamed_from: Option<LitStr>,
    compat_view: Option<syn::Path>,
    rls: Option<syn::Path>,
    /// `rls = "enabled"`, or `"forced"` as bare `rls` is.
    rls_kind: Option<LitStr>,
    partition_by: Option<LitStr>,
    partition_interval: Option<LitStr>,
    partitions_ahead: Option<syn::LitInt>,
    partitions_kept: Option<syn::LitInt>,
    default_partition: Option<syn::Path>,
    partitions: Option<syn::LitInt>,
}

/// `partition_by = "range(occurred_at)"` and what goes with it, checked
/// against the model's columns and primary key.
/// Whether `rls` forces row-level security: bare `rls` and
/// `rls = "forced"` do, `rls = "enabled"` does not.
fn rls_forced(cx: &mut Ctxt, args: &SchemaArgs) -> bool {
    let Some(lit) = &args.rls_kind else {
        return true;
    };
    match lit.value().to_ascii_lowercase().as_str() {
        "forced" => true,
        "enabled" => false,
        other => {
            cx.error_spanned_by(
                lit,
                format!("`rls = \"{other}\"`: write bare `rls` (enabled and forced: the table's owner obeys the policies too) or `rls = \"enabled\"` (the owner passes them)"),
            );
            true
        }
    }
}

fn partitioning(
    cx: &mut Ctxt,
    args: &SchemaArgs,
    fields: &[Field],
    tenant: bool,
) -> Option<strata_manifest::Partitioning> {
    use strata_manifest::{PartitionInterval, PartitionMethod};
    let Some(lit) = &args.partition_by else {
        for (given, key) in [
            (
                args.partition_interval.as_ref().map(|l| l.span()),
                "partition_interval",
            ),
            (
                args.partitions_ahead.as_ref().map(|l| l.span()),
                "partitions_ahead",
            ),
            (
                args.partitions_kept.as_ref().map(|l| l.span()),
                "partitions_kept",
            ),
            (
                args.default_partition.as_ref().map(|p| p.span()),
                "default_partition",
            ),
        ] {
            if let Some(span) = given {
                cx.push(syn::Error::new(
                    span,
                    format!("`{key}` goes with `partition_by = \"range(…)\"`"),
                ));
            }
        }
        return None;
    };
    if tenant {
        cx.error_spanned_by(
            lit,
            "a tenant model cannot be partitioned yet: partition a table in a named schema",
        );
        return None;
    }
    let text = lit.value();
    let parsed = text
        .trim()
        .strip_suffix(')')
        .and_then(|t| t.split_once('('));
    let Some((method, columns)) = parsed else {
        cx.error_spanned_by(lit, "`partition_by` is a method and its columns: partition_by = \"range(occurred_at)\", \"list(region)\" or \"hash(id)\"");
        return None;
    };
    let method = match method.trim().to_ascii_lowercase().as_str() {
        "range" => PartitionMethod::Range,
        "list" => PartitionMethod::List,
        "hash" => PartitionMethod::Hash,
        other => {
            cx.error_spanned_by(
                lit,
                format!(
                    "unknown partitioning `{other}`: partition_by = \"range(…)\", \"list(…)\" or \"hash(…)\""
                ),
            );
            return None;
        }
    };
    let columns: Vec<String> = columns.split(',').map(|c| c.trim().to_owned()).collect();
    let known: Vec<&Field> = fields.iter().filter(|f| !f.skip).collect();
    let key: Vec<&str> = known
        .iter()
        .filter(|f| f.primary_key)
        .map(|f| f.column.as_str())
        .collect();
    for column in &columns {
        if !known.iter().any(|f| f.column == *column) {
            cx.error_spanned_by(
                lit,
                format!("no column `{column}` in this model to partition by"),
            );
        } else if !key.is_empty() && !key.contains(&column.as_str()) {
            cx.error_spanned_by(
                lit,
                format!("the partition key `{column}` must be part of the primary key (PostgreSQL enforces a key only within each partition): add #[column(primary_key)] to it, making the key ({}, {column})", key.join(", ")),
            );
        }
    }
    let interval = args.partition_interval.as_ref().and_then(|lit| {
        let parsed = PartitionInterval::parse(&lit.value());
        if parsed.is_none() {
            cx.error_spanned_by(lit, "partition_interval = \"day\", \"month\" or \"year\"");
        }
        parsed
    });
    if interval.is_some() && (method != PartitionMethod::Range || columns.len() != 1) {
        cx.error_spanned_by(lit, "`partition_interval` makes partitions of a range over one date or time column: partition_by = \"range(occurred_at)\"");
    }
    let ahead = match &args.partitions_ahead {
        Some(n) => match n.base10_parse::<u32>() {
            Ok(n) if n <= 1000 && interval.is_some() => n,
            Ok(_) if interval.is_none() => {
                cx.error_spanned_by(
                    n,
                    "`partitions_ahead` goes with `partition_interval = \"month\"`",
                );
                0
            }
            _ => {
                cx.error_spanned_by(n, "`partitions_ahead` is a count from 0 to 1000");
                0
            }
        },
        None if interval.is_some() => 3,
        None => 0,
    };
    let kept = args
        .partitions_kept
        .as_ref()
        .and_then(|n| match n.base10_parse::<u32>() {
            Ok(n) if interval.is_some() => Some(n),
            Ok(_) => {
                cx.error_spanned_by(
                    n,
                    "`partitions_kept` goes with `partition_interval = \"month\"`",
                );
                None
            }
            Err(_) => {
                cx.error_spanned_by(
                    n,
                    "`partitions_kept` is a count of whole periods before the current one",
                );
                None
            }
        });
    let hash_partitions = match (&args.partitions, method) {
        (Some(n), PartitionMethod::Hash) => match n.base10_parse::<u32>() {
            Ok(n) if (1..=1024).contains(&n) => Some(n),
            _ => {
                cx.error_spanned_by(
                    n,
                    "`partitions` is how many hash partitions, from 1 to 1024",
                );
                None
            }
        },
        (None, PartitionMethod::Hash) => {
            cx.error_spanned_by(lit, "a hash-partitioned table needs its number of partitions: partition_by = \"hash(id)\", partitions = 8");
            None
        }
        (Some(n), _) => {
            cx.error_spanned_by(n, "`partitions` goes with partition_by = \"hash(…)\"");
            None
        }
        (None, _) => None,
    };
    if method == PartitionMethod::Hash && args.default_partition.is_some() {
        cx.error_spanned_by(
            lit,
            "a hash-partitioned table has no default partition: every row has a hash",
        );
    }
    Some(strata_manifest::Partitioning {
        method,
        columns,
        interval,
        ahead,
        default_partition: args.default_partition.is_some(),
        kept,
        hash_partitions,
    })
}

fn parse_schema_args(cx: &mut Ctxt, args: TokenStream) -> SchemaArgs {
    let split = |input: ParseStream| -> syn::Result<(FirstArg, TokenStream)> {
        let first = if input.peek(LitStr) {
            FirstArg::Schema(input.parse::<LitStr>()?)
        } else if input.peek(syn::Ident) && !input.peek2(Token![=]) {
            FirstArg::Word(input.parse::<syn::Ident>()?)
        } else {
            FirstArg::None
        };
        if !matches!(first, FirstArg::None) && !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
        Ok((first, input.parse()?))
    };
    let mut parsed = SchemaArgs::default();
    let (first, rest) = match split.parse2(args.clone()) {
        Ok(parts) => parts,
        Err(error) => {
            cx.push(error);
            return parsed;
        }
    };
    match first {
        FirstArg::Schema(lit) => parsed.schema = Some(checked_schema(cx, &lit)),
        FirstArg::Word(word) if word == "tenant" => parsed.tenant = Some(word),
        FirstArg::Word(word) => cx.error_spanned_by(
            &word,
            format!("the schema's name is a string: #[strata::schema(\"{word}\")]\nhelp: for a table in every tenant's schema, write #[strata::schema(tenant)]"),
        ),
        FirstArg::None => {
            let message = "the schema name comes first: #[strata::schema(\"tenant_kct\")], or `tenant` for a table in every tenant's schema: #[strata::schema(tenant)]";
            match args.is_empty() {
                true => cx.push(syn::Error::new(Span::call_site(), message)),
                false => cx.error_spanned_by(&args, message),
            }
        }
    }
    let result = syn::meta::parser(|meta| {
        match values::path_name(&meta.path).as_str() {
            "table" => string_once(cx, &meta, &mut parsed.table, "table = \"customers\"")?,
            "moved_from" => {
                string_once(cx, &meta, &mut parsed.moved_from, "moved_from = \"public\"")?
            }
            "renamed_from" => string_once(
                cx,
                &meta,
                &mut parsed.renamed_from,
                "renamed_from = \"product\"",
            )?,
            "compat_view" => flag(cx, &meta, &mut parsed.compat_view)?,
            "rls" if meta.input.peek(syn::Token![=]) => {
                string_once(cx, &meta, &mut parsed.rls_kind, "rls = \"enabled\"")?;
                parsed.rls.get_or_insert(meta.path.clone());
            }
            "rls" => flag(cx, &meta, &mut parsed.rls)?,
            "partition_by" => string_once(
                cx,
                &meta,
                &mut parsed.partition_by,
                "partition_by = \"range(occurred_at)\"",
            )?,
            "partition_interval" => string_once(
                cx,
                &meta,
                &mut parsed.partition_interval,
                "partition_interval = \"month\"",
            )?,
            "partitions_ahead" => {
                let n: syn::LitInt = meta.value()?.parse()?;
                parsed.partitions_ahead = Some(n);
            }
            "partitions_kept" => {
                let n: syn::LitInt = meta.value()?.parse()?;
                parsed.partitions_kept = Some(n);
            }
            "default_partition" => flag(cx, &meta, &mut parsed.default_partition)?,
            "partitions" => {
                let n: syn::LitInt = meta.value()?.parse()?;
                parsed.partitions = Some(n);
            }
            _ => unknown_key(cx, &meta, "#[schema]", SCHEMA_KEYS)?,
        }
        Ok(())
    })
    .parse2(rest);
    if let Err(error) = result {
        cx.push(error);
    }
    parsed
}

/// What opens `#[schema(…)]`.
enum FirstArg {
    /// `"tenant_kct"`.
    Schema(LitStr),
    /// A bare word: `tenant`, or a mistake.
    Word(syn::Ident),
    /// Neither.
    None,
}

fn check_fields(cx: &mut Ctxt, item: &syn::ItemStruct, fields: &[Field]) {
    let columns: Vec<&Field> = fields.iter().filter(|f| !f.skip).collect();
    if columns.is_empty() && matches!(item.fields, syn::Fields::Named(_)) {
        cx.error_spanned_by(&item.ident, "a #[schema] model needs at least one column");
    }
    for (i, field) in columns.iter().enumerate() {
        if columns[..i].iter().any(|f| f.column == field.column) {
            cx.error_spanned_by(
                &field.ident,
                format!(
                    "column `{}` is declared twice in this model: give one a different #[column(name = \"…\")]",
                    field.column
                ),
            );
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse(args: TokenStream, item: TokenStream) -> syn::Result<Model> {
        parse_model(args, &syn::parse2(item).unwrap())
    }

    #[test]
    fn reads_a_model() {
        let model = parse(
            quote!("tenant_kct", table = "customers"),
            quote! {
                pub struct Customer {
                    #[column(primary_key, identity)]
                    pub id: i64,
                    #[column(unique, type = "VARCHAR(255)")]
                    pub email: String,
                    pub note: Option<String>,
                    #[column(skip)]
                    pub cached: Option<u32>,
                }
            },
        )
        .unwrap();
        let table = model
            .table_state(
                |_| Err("no other models".into()),
                |_| Err("no enums".into()),
            )
            .unwrap();
        assert_eq!(
            (table.schema.as_str(), table.name.as_str()),
            ("tenant_kct", "customers")
        );
        assert_eq!(table.columns.len(), 3);
        assert_eq!(table.columns[1].sql_type, "character varying(255)");
        assert!(table.columns[2].nullable);
        assert_eq!(table.primary_key.unwrap().columns, vec!["id"]);
        assert_eq!(table.uniques[0].columns, vec!["email"]);
    }

    #[test]
    fn default_table_name_is_snake_case() {
        let model = parse(
            quote!("tenant_shared"),
            quote!(
                struct ProductVariant {
                    id: i64,
                }
            ),
        )
        .unwrap();
        assert_eq!(model.table, "product_variant");
    }

    #[test]
    fn reports_every_mistake_at_once() {
        let err = parse(
            quote!("s", tabel = "x"),
            quote! {
                struct T {
                    #[column(primary_key)]
                    a: Option<i64>,
                    b: std::collections::HashMap<String, String>,
                }
            },
        )
        .unwrap_err();
        assert_eq!(err.into_iter().count(), 3);
    }
}
