//! No text makes strata panic: arbitrary Unicode, and the spellings the
//! catalog prints, go through every lexer and normaliser.

use proptest::prelude::*;
use strata_manifest::lexer::tokenize;
use strata_manifest::{
    canonical_default, canonical_expr, canonical_type, definition_shape, identify, is_widening,
    split_statements, tenant_sql, Routine, Trigger,
};

/// Pieces of SQL that make the readers change state, mixed with any text.
fn sqlish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        any::<String>(),
        Just("'".to_owned()),
        Just("\"".to_owned()),
        Just("$$".to_owned()),
        Just("$q$".to_owned()),
        Just("--".to_owned()),
        Just("/*".to_owned()),
        Just("*/".to_owned()),
        Just("::".to_owned()),
        Just("E'\\".to_owned()),
        Just("U&'".to_owned()),
        Just(" IN (".to_owned()),
        Just(" NOT BETWEEN ".to_owned()),
        Just("\"{tenant}\"".to_owned()),
        Just("é".to_owned()),
        Just("𝄞".to_owned()),
        Just("::character varying(".to_owned()),
        Just("[]".to_owned()),
        Just(";".to_owned()),
        Just("-1".to_owned()),
        Just("'abé'::text".to_owned()),
        Just("CREATE OR REPLACE FUNCTION ".to_owned()),
        Just("CREATE TRIGGER t AFTER INSERT ON ".to_owned()),
        Just(" EXECUTE FUNCTION ".to_owned()),
        Just("a.b(".to_owned()),
        Just(" RETURNS ".to_owned()),
        Just(")".to_owned()),
        Just(",".to_owned()),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_lexer_gives_its_input_back(sql in sqlish()) {
        let joined: String = tokenize(&sql).iter().map(|t| t.text).collect();
        prop_assert_eq!(joined, sql);
    }

    #[test]
    fn no_reader_panics(sql in sqlish()) {
        let _ = canonical_expr(&sql);
        let _ = canonical_default(&sql);
        let _ = canonical_type(&sql);
        let _ = is_widening(&sql, "text");
        let _ = is_widening("numeric(10,2)", &sql);
        let _ = tenant_sql(&sql, "\"tenant_a\"");
        let _ = identify(&sql);
        let _ = definition_shape(&sql);
        let _ = Routine::from_sql(&sql);
        let _ = Trigger::from_sql(&sql);
        for statement in split_statements(&sql) {
            prop_assert!(sql.contains(statement.sql));
        }
    }
}

#[test]
fn catalog_spellings_with_non_ascii_text() {
    // The check of issue 10, as written and as PostgreSQL prints it.
    assert_eq!(
        canonical_expr("label <> 'abé'"),
        canonical_expr("((label)::text <> 'abé'::text)")
    );
    assert_eq!(canonical_default("'abé'::character varying"), "'abé'");
    assert_eq!(
        canonical_default("'日本'::text"),
        canonical_default("'日本'")
    );
}
