//! Turns a parsed model into `impl strata::Model`, its SQL constants and `FromRow`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use strata_build::manifest::crud::{crud_sql, select_sql, CrudColumn};
use strata_build::manifest::qualified;
use strata_build::{
    parse_enum, parse_model, parse_view, EnumModel, Field, Model, Reference, STRUCT_ATTRIBUTES,
};
use syn::spanned::Spanned;

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    if let Ok(input) = syn::parse2::<syn::ItemEnum>(item.clone()) {
        return expand_enum(args, input);
    }
    let mut input: syn::ItemStruct = match syn::parse2(item.clone()) {
        Ok(input) => input,
        Err(_) => {
            let error = syn::Error::new(
                proc_macro2::Span::call_site(),
                "#[schema] goes on a struct with named fields, one per column, or on a unit-only enum",
            )
            .to_compile_error();
            return quote!(#item #error);
        }
    };
    let model = parse_model(args, &input);
    // The struct is always emitted, without our field attributes, so that one
    // mistake in an attribute does not turn into an error at every use of the type.
    for field in input.fields.iter_mut() {
        field.attrs.retain(|a| !a.path().is_ident("column"));
    }
    input
        .attrs
        .retain(|a| !STRUCT_ATTRIBUTES.iter().any(|n| a.path().is_ident(n)));
    match model {
        Ok(model) => {
            let generated = generate(&model);
            quote!(#input #generated)
        }
        Err(error) => {
            let error = error.to_compile_error();
            quote!(#input #error)
        }
    }
}

fn generate(model: &Model) -> TokenStream {
    let ident = &model.ident;
    let schema = &model.schema;
    let table = &model.table;
    let target = qualified(&model.schema, &model.table);
    let columns: Vec<&str> = model.columns().map(|f| f.column.as_str()).collect();
    let key: Vec<&str> = model
        .columns()
        .filter(|f| f.primary_key)
        .map(|f| f.column.as_str())
        .collect();
    let crud: Vec<CrudColumn<'_>> = model
        .columns()
        .map(|f| CrudColumn {
            name: &f.column,
            primary_key: f.primary_key,
            computed: f.is_computed(),
        })
        .collect();
    let sql = crud_sql(&model.schema, &model.table, &crud);

    // A tenant model's SQL names the placeholder schema; it is only handed
    // out through functions that put a validated tenant schema in its place.
    let statement = |name: &str, doc: &str, sql: &str| {
        let doc = doc.to_owned();
        if model.tenant {
            let function =
                syn::Ident::new(&name.to_ascii_lowercase(), proc_macro2::Span::call_site());
            let doc = format!("{doc} In the given tenant's schema.");
            quote! {
                #[doc = #doc]
                pub fn #function(tenant: &::strata::TenantSchema) -> ::std::string::String {
                    ::strata::__private::tenant_sql(#sql, tenant)
                }
            }
        } else {
            let constant = syn::Ident::new(name, proc_macro2::Span::call_site());
            quote! {
                #[doc = #doc]
                pub const #constant: &'static str = #sql;
            }
        }
    };
    let mut statements = vec![
        statement("SELECT", "Selects every column of every row.", &sql.select),
        statement(
            "INSERT",
            "Inserts a row: binds every column but identity and generated ones, in field order; returns the row.",
            &sql.insert,
        ),
    ];
    if model.tenant {
        statements.push(quote! {
            /// The table's quoted, schema-qualified name in the given tenant's schema.
            pub fn qualified(tenant: &::strata::TenantSchema) -> ::std::string::String {
                ::strata::__private::tenant_sql(#target, tenant)
            }
        });
    }
    for (name, doc, text) in [
        (
            "SELECT_BY_PK",
            "Selects the row with the given primary key (`$1`, …).",
            &sql.select_by_pk,
        ),
        (
            "UPDATE_BY_PK",
            "Updates every column but the key, identity and generated columns: binds them in field order, then the key.",
            &sql.update_by_pk,
        ),
        (
            "DELETE_BY_PK",
            "Deletes the row with the given primary key (`$1`, …).",
            &sql.delete_by_pk,
        ),
    ] {
        if let Some(text) = text {
            statements.push(statement(name, doc, text));
        }
    }

    let row_methods = row_methods(model, &key);

    let reads = reads(&model.fields);

    // `references = Product` must name a model, and a shared table may only
    // reference shared ones: checked by the compiler, on the user's path.
    let reference_checks = model.columns().filter_map(|f| match &f.references {
        Some(Reference::Model(path)) if model.tenant => Some(quote_spanned! {path.span()=>
            __strata_is_model::<#path>();
        }),
        Some(Reference::Model(path)) => Some(quote_spanned! {path.span()=>
            __strata_is_shared_model::<#path>();
        }),
        _ => None,
    });
    // A type strata does not map must be a #[strata::schema] enum: checked
    // by the compiler, on the field's type.
    let type_checks = model.columns().filter_map(|f| {
        let path = f.enum_type.as_ref()?;
        Some(quote_spanned! {path.span()=>
            __strata_is_enum::<#path>();
        })
    });
    let shared_marker = if model.tenant {
        quote!()
    } else {
        quote! {
            #[automatically_derived]
            impl ::strata::__private::SharedModel for #ident {}
        }
    };
    let tenant = model.tenant;

    quote! {
        const _: () = {
            #[allow(dead_code)]
            const fn __strata_is_model<T: ::strata::Model>() {}
            #[allow(dead_code)]
            const fn __strata_is_shared_model<T: ::strata::__private::SharedModel>() {}
            #[allow(dead_code)]
            const fn __strata_is_enum<T: ::strata::PgEnum>() {}
            #[allow(dead_code)]
            const fn __strata_references() {
                #(#reference_checks)*
                #(#type_checks)*
            }

            #[automatically_derived]
            impl ::strata::Model for #ident {
                const SCHEMA: &'static str = #schema;
                const TABLE: &'static str = #table;
                const QUALIFIED: &'static str = #target;
                const COLUMNS: &'static [&'static str] = &[#(#columns),*];
                const PRIMARY_KEY: &'static [&'static str] = &[#(#key),*];
                const TENANT: bool = #tenant;
            }
            #shared_marker

            #[automatically_derived]
            impl #ident {
                #(#statements)*
                #row_methods
            }

            #[automatically_derived]
            impl<'r> ::strata::__private::sqlx::FromRow<'r, ::strata::__private::sqlx::postgres::PgRow>
                for #ident
            {
                fn from_row(
                    row: &'r ::strata::__private::sqlx::postgres::PgRow,
                ) -> ::core::result::Result<Self, ::strata::__private::sqlx::Error> {
                    ::core::result::Result::Ok(Self { #(#reads),* })
                }
            }
        };
    }
}

/// `insert_row` and `update_row`: the model's own fields bound to their own
/// columns, by the same list that wrote the SQL, so adding or reordering a
/// field can never move a value into another column.
fn row_methods(model: &Model, key: &[&str]) -> TokenStream {
    let sqlx = quote!(::strata::__private::sqlx);
    let binds = |fields: Vec<&Field>| {
        let each = fields.into_iter().map(|f| {
            let ident = &f.ident;
            match &f.enum_type {
                // Through strata's enum argument, so that a type that is no
                // enum fails on the field's type with strata's message alone.
                Some(path) if f.nullable => quote_spanned! {path.span()=>
                    .bind(::strata::__private::enum_opt_arg::<#path>(&self.#ident))
                },
                Some(path) => quote_spanned! {path.span()=>
                    .bind(::strata::__private::enum_arg::<#path>(&self.#ident))
                },
                None => quote!(.bind(&self.#ident)),
            }
        });
        quote!(#(#each)*)
    };
    let inserted = binds(model.columns().filter(|f| !f.is_computed()).collect());
    let (tenant_param, insert_sql, update_sql) = if model.tenant {
        (
            quote!(tenant: &::strata::TenantSchema,),
            quote!(&Self::insert(tenant)),
            quote!(&Self::update_by_pk(tenant)),
        )
    } else {
        (quote!(), quote!(Self::INSERT), quote!(Self::UPDATE_BY_PK))
    };
    let tenant_doc = if model.tenant {
        " In the given tenant's schema."
    } else {
        ""
    };
    let insert_doc = format!(
        "Inserts this row, each field bound to its own column (identity and generated columns are left to PostgreSQL), and returns the row as stored.{tenant_doc}"
    );
    let mut methods = quote! {
        #[doc = #insert_doc]
        pub async fn insert_row<'e, E>(&self, #tenant_param executor: E)
            -> ::core::result::Result<Self, #sqlx::Error>
        where
            E: #sqlx::Executor<'e, Database = #sqlx::Postgres>,
        {
            #sqlx::query_as::<#sqlx::Postgres, Self>(#insert_sql)
                #inserted
                .fetch_one(executor)
                .await
        }
    };
    let updated: Vec<&Field> = model
        .columns()
        .filter(|f| !f.primary_key && !f.is_computed())
        .collect();
    if !key.is_empty() && !updated.is_empty() {
        let key_fields: Vec<&Field> = model.columns().filter(|f| f.primary_key).collect();
        let binds = binds(updated.into_iter().chain(key_fields).collect());
        let update_doc = format!(
            "Updates the row with this row's primary key to this row's values, each field bound to its own column; returns how many rows changed (0: no such row).{tenant_doc}"
        );
        methods.extend(quote! {
            #[doc = #update_doc]
            pub async fn update_row<'e, E>(&self, #tenant_param executor: E)
                -> ::core::result::Result<u64, #sqlx::Error>
            where
                E: #sqlx::Executor<'e, Database = #sqlx::Postgres>,
            {
                #sqlx::query::<#sqlx::Postgres>(#update_sql)
                    #binds
                    .execute(executor)
                    .await
                    .map(|done| done.rows_affected())
            }
        });
    }
    methods
}

/// A `#[strata::schema]` enum: the enum as written (without `#[value]`),
/// `impl strata::PgEnum`, and sqlx's `Type`, `Encode` and `Decode` naming the
/// schema-qualified type.
fn expand_enum(args: TokenStream, mut input: syn::ItemEnum) -> TokenStream {
    let model = parse_enum(args, &input);
    for variant in input.variants.iter_mut() {
        variant.attrs.retain(|a| !a.path().is_ident("value"));
    }
    match model {
        Ok(model) => {
            let generated = generate_enum(&model);
            quote!(#input #generated)
        }
        Err(error) => {
            let error = error.to_compile_error();
            quote!(#input #error)
        }
    }
}

fn generate_enum(model: &EnumModel) -> TokenStream {
    let ident = &model.ident;
    let schema = &model.schema;
    let name = &model.name;
    let qualified = qualified(&model.schema, &model.name);
    let values: Vec<&str> = model.values.iter().map(|v| v.value.as_str()).collect();
    let variants: Vec<&syn::Ident> = model.values.iter().map(|v| &v.ident).collect();
    let sqlx = quote!(::strata::__private::sqlx);
    quote! {
        impl ::strata::PgEnum for #ident {
            const SCHEMA: &'static str = #schema;
            const NAME: &'static str = #name;
            const QUALIFIED: &'static str = #qualified;
            const VALUES: &'static [&'static str] = &[#(#values),*];
            fn as_str(&self) -> &'static str {
                match self {
                    #(Self::#variants => #values,)*
                }
            }
            fn from_str(text: &str) -> ::core::option::Option<Self> {
                match text {
                    #(#values => ::core::option::Option::Some(Self::#variants),)*
                    _ => ::core::option::Option::None,
                }
            }
        }
        impl #sqlx::Type<#sqlx::Postgres> for #ident {
            fn type_info() -> #sqlx::postgres::PgTypeInfo {
                #sqlx::postgres::PgTypeInfo::with_name(#qualified)
            }
        }
        impl #sqlx::postgres::PgHasArrayType for #ident {
            fn array_type_info() -> #sqlx::postgres::PgTypeInfo {
                #sqlx::postgres::PgTypeInfo::array_of(#qualified)
            }
        }
        impl<'q> #sqlx::Encode<'q, #sqlx::Postgres> for #ident {
            fn encode_by_ref(
                &self,
                buf: &mut #sqlx::postgres::PgArgumentBuffer,
            ) -> ::core::result::Result<#sqlx::encode::IsNull, #sqlx::error::BoxDynError> {
                ::strata::__private::encode_enum(self, buf)
            }
        }
        impl<'r> #sqlx::Decode<'r, #sqlx::Postgres> for #ident {
            fn decode(
                value: #sqlx::postgres::PgValueRef<'r>,
            ) -> ::core::result::Result<Self, #sqlx::error::BoxDynError> {
                ::strata::__private::decode_enum(value)
            }
        }
    }
}

/// `FromRow`'s reading of each field: a column by its name, an enum through
/// strata's enum column, a skipped field as its default.
fn reads(fields: &[Field]) -> Vec<TokenStream> {
    fields
        .iter()
        .map(|f| {
            let name = &f.ident;
            if f.skip {
                return quote!(#name: ::core::default::Default::default());
            }
            let ty = &f.field.ty;
            let column = &f.column;
            match &f.enum_type {
                Some(path) if f.nullable => quote_spanned! {path.span()=>
                    #name: ::strata::__private::get_enum_opt::<#path>(row, #column)?
                },
                Some(path) => quote_spanned! {path.span()=>
                    #name: ::strata::__private::get_enum::<#path>(row, #column)?
                },
                None => {
                    quote!(#name: ::strata::__private::sqlx::Row::try_get::<#ty, _>(row, #column)?)
                }
            }
        })
        .collect()
}

/// `#[strata::view]`: the struct as written (without strata's field and
/// index attributes), its `SELECT`, `FromRow`, and for a materialized view
/// `refresh`.
pub(crate) fn expand_view(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut input: syn::ItemStruct = match syn::parse2(item.clone()) {
        Ok(input) => input,
        Err(_) => {
            let error = syn::Error::new(
                proc_macro2::Span::call_site(),
                "#[view] goes on a struct with named fields, one per column of the view",
            )
            .to_compile_error();
            return quote!(#item #error);
        }
    };
    let view = parse_view(args, &input);
    for field in input.fields.iter_mut() {
        field.attrs.retain(|a| !a.path().is_ident("column"));
    }
    input
        .attrs
        .retain(|a| !STRUCT_ATTRIBUTES.iter().any(|n| a.path().is_ident(n)));
    let view = match view {
        Ok(view) => view,
        Err(error) => {
            let error = error.to_compile_error();
            return quote!(#input #error);
        }
    };
    let ident = &view.ident;
    let schema = &view.schema;
    let name = &view.name;
    let target = qualified(&view.schema, &view.name);
    let columns: Vec<&str> = view.columns().map(|f| f.column.as_str()).collect();
    let select = select_sql(&view.schema, &view.name, &columns);
    let reads = reads(&view.fields);
    let sqlx = quote!(::strata::__private::sqlx);
    let refresh = if view.materialized {
        let concurrently = view.refreshes_concurrently();
        let sql = format!(
            "REFRESH MATERIALIZED VIEW {}{target}",
            if concurrently { "CONCURRENTLY " } else { "" }
        );
        let doc = if concurrently {
            "Refreshes the materialized view `CONCURRENTLY` (its unique index allows it): readers keep reading the old rows meanwhile."
        } else {
            "Refreshes the materialized view; readers wait meanwhile. A unique index (`#[index(columns = […], unique)]`) would let it refresh `CONCURRENTLY`."
        };
        quote! {
            #[doc = #doc]
            pub async fn refresh<'e, E>(executor: E) -> ::core::result::Result<(), #sqlx::Error>
            where
                E: #sqlx::Executor<'e, Database = #sqlx::Postgres>,
            {
                #sqlx::query(#sql).execute(executor).await.map(|_| ())
            }
        }
    } else {
        quote!()
    };
    quote! {
        #input
        const _: () = {
            #[automatically_derived]
            impl #ident {
                /// The view's schema.
                pub const SCHEMA: &'static str = #schema;
                /// The view's name.
                pub const VIEW: &'static str = #name;
                /// The view's quoted, schema-qualified name.
                pub const QUALIFIED: &'static str = #target;
                /// The view's columns, in field order.
                pub const COLUMNS: &'static [&'static str] = &[#(#columns),*];
                /// Selects every column of every row.
                pub const SELECT: &'static str = #select;
                #refresh
            }

            #[automatically_derived]
            impl<'r> #sqlx::FromRow<'r, #sqlx::postgres::PgRow> for #ident {
                fn from_row(
                    row: &'r #sqlx::postgres::PgRow,
                ) -> ::core::result::Result<Self, #sqlx::Error> {
                    ::core::result::Result::Ok(Self { #(#reads),* })
                }
            }
        };
    }
}
