//! The statements a model's code runs on its own table (`SELECT`, `INSERT`,
//! and by primary key `SELECT`, `UPDATE`, `DELETE`): rendered here, with
//! the rest of strata's SQL, and handed to the `#[schema]` macro as text.

use crate::{qualified, quote_ident};

/// A column as its model's statements see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrudColumn<'a> {
    /// Its name.
    pub name: &'a str,
    /// Part of the primary key.
    pub primary_key: bool,
    /// Filled by the database (identity, generated): never inserted or updated.
    pub computed: bool,
}

/// A model's statements, each binding its values by position in field order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CrudSql {
    /// Every column of every row.
    pub select: String,
    /// A row, binding every column but the computed ones; returns the row.
    pub insert: String,
    /// The row with the given key (`$1`, …); none without a key.
    pub select_by_pk: Option<String>,
    /// Every column but the key and the computed ones, then the key; none
    /// without a key or without such a column.
    pub update_by_pk: Option<String>,
    /// The row with the given key; none without a key.
    pub delete_by_pk: Option<String>,
}

/// The statements of the table `schema`.`table` with `columns`.
///
/// ```
/// use strata_manifest::crud::{crud_sql, CrudColumn};
/// let id = CrudColumn { name: "id", primary_key: true, computed: true };
/// let email = CrudColumn { name: "email", primary_key: false, computed: false };
/// let sql = crud_sql("shop", "customers", &[id, email]);
/// assert_eq!(sql.insert, r#"INSERT INTO "shop"."customers" ("email") VALUES ($1) RETURNING "id", "email""#);
/// ```
pub fn crud_sql(schema: &str, table: &str, columns: &[CrudColumn<'_>]) -> CrudSql {
    let target = qualified(schema, table);
    let all = list(columns.iter().map(|c| quote_ident(c.name)));
    let select = format!("SELECT {all} FROM {target}");
    let inserted: Vec<String> = columns
        .iter()
        .filter(|c| !c.computed)
        .map(|c| quote_ident(c.name))
        .collect();
    let insert = match inserted.is_empty() {
        true => format!("INSERT INTO {target} DEFAULT VALUES RETURNING {all}"),
        false => format!(
            "INSERT INTO {target} ({}) VALUES ({}) RETURNING {all}",
            inserted.join(", "),
            list((1..=inserted.len()).map(|i| format!("${i}")))
        ),
    };
    let key: Vec<&str> = columns
        .iter()
        .filter(|c| c.primary_key)
        .map(|c| c.name)
        .collect();
    let mut sql = CrudSql {
        select,
        insert,
        select_by_pk: None,
        update_by_pk: None,
        delete_by_pk: None,
    };
    if key.is_empty() {
        return sql;
    }
    let where_from = |first: usize| {
        key.iter()
            .enumerate()
            .map(|(i, k)| format!("{} = ${}", quote_ident(k), first + i))
            .collect::<Vec<_>>()
            .join(" AND ")
    };
    let updated: Vec<String> = columns
        .iter()
        .filter(|c| !c.primary_key && !c.computed)
        .map(|c| quote_ident(c.name))
        .collect();
    sql.select_by_pk = Some(format!("{} WHERE {}", sql.select, where_from(1)));
    if !updated.is_empty() {
        let sets = list(
            updated
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{c} = ${}", i + 1)),
        );
        sql.update_by_pk = Some(format!(
            "UPDATE {target} SET {sets} WHERE {}",
            where_from(updated.len() + 1)
        ));
    }
    sql.delete_by_pk = Some(format!("DELETE FROM {target} WHERE {}", where_from(1)));
    sql
}

/// `SELECT` of `columns` from the relation `schema`.`name` (a view's).
pub fn select_sql(schema: &str, name: &str, columns: &[&str]) -> String {
    format!(
        "SELECT {} FROM {}",
        list(columns.iter().map(|c| quote_ident(c))),
        qualified(schema, name)
    )
}

fn list(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_statement_binds_in_field_order_then_the_key() {
        let column = |name, primary_key, computed| CrudColumn {
            name,
            primary_key,
            computed,
        };
        let sql = crud_sql(
            "shop",
            "order_lines",
            &[
                column("order_id", true, false),
                column("line", true, false),
                column("qty", false, false),
                column("total", false, true),
            ],
        );
        let all = r#""order_id", "line", "qty", "total""#;
        let target = r#""shop"."order_lines""#;
        assert_eq!(sql.select, format!("SELECT {all} FROM {target}"));
        assert_eq!(
            sql.insert,
            format!(
                r#"INSERT INTO {target} ("order_id", "line", "qty") VALUES ($1, $2, $3) RETURNING {all}"#
            )
        );
        let key = |first: usize| format!(r#""order_id" = ${first} AND "line" = ${}"#, first + 1);
        assert_eq!(
            sql.select_by_pk,
            Some(format!("SELECT {all} FROM {target} WHERE {}", key(1)))
        );
        assert_eq!(
            sql.update_by_pk,
            Some(format!(
                r#"UPDATE {target} SET "qty" = $1 WHERE {}"#,
                key(2)
            ))
        );
        assert_eq!(
            sql.delete_by_pk,
            Some(format!("DELETE FROM {target} WHERE {}", key(1)))
        );

        // Without a key, nothing by key; with only computed columns, DEFAULT VALUES.
        let bare = crud_sql("s", "t", &[column("id", false, true)]);
        assert_eq!(
            bare.insert,
            r#"INSERT INTO "s"."t" DEFAULT VALUES RETURNING "id""#
        );
        assert_eq!(
            (bare.select_by_pk, bare.update_by_pk, bare.delete_by_pk),
            (None, None, None)
        );
        assert_eq!(
            select_sql("a", "v", &["x", "y"]),
            r#"SELECT "x", "y" FROM "a"."v""#
        );
    }
}
