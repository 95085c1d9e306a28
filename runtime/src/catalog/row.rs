//! One object of a kind read as rows: a `text[]` of its fields, as the
//! server prints them, read into a tuple by serde.
//!
//! A field is text, NULL (`Option`), a boolean (`true`/`false`), a number,
//! or, for a list, JSON (`array_to_json(…)::text`). Rows instead of one JSON
//! document per kind: `json_build_array` looks up the type of every
//! argument of every row, which cost more than reading the catalog.

use serde::de::value::Error;
use serde::de::{self, DeserializeOwned, DeserializeSeed, SeqAccess, Visitor};
use serde::forward_to_deserialize_any;

/// Reads one object's fields into `T`, a tuple in field order.
pub(crate) fn read_row<T: DeserializeOwned>(fields: &[Option<String>]) -> Result<T, Error> {
    T::deserialize(Fields(fields.iter()))
}

struct Fields<'a>(std::slice::Iter<'a, Option<String>>);

impl<'de> de::Deserializer<'de> for Fields<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_seq(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de> SeqAccess<'de> for Fields<'de> {
    type Error = Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Error> {
        match self.0.next() {
            Some(field) => seed.deserialize(Field(field.as_deref())).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Field<'a>(Option<&'a str>);

impl<'a> Field<'a> {
    fn text(&self) -> Result<&'a str, Error> {
        self.0
            .ok_or_else(|| de::Error::custom("a catalog field is NULL where a value was expected"))
    }

    fn parse<T: std::str::FromStr>(&self) -> Result<T, Error> {
        let text = self.text()?;
        text.parse()
            .map_err(|_| de::Error::custom(format!("catalog field `{text}` is not a number")))
    }
}

impl<'de> de::Deserializer<'de> for Field<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            None => visitor.visit_none(),
            Some(text) => visitor.visit_str(text),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            None => visitor.visit_none(),
            Some(_) => visitor.visit_some(self),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.text()? {
            "true" | "t" => visitor.visit_bool(true),
            "false" | "f" => visitor.visit_bool(false),
            other => Err(de::Error::custom(format!(
                "catalog field `{other}` is not a boolean"
            ))),
        }
    }

    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_i16(self.parse()?)
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_i32(self.parse()?)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_i64(self.parse()?)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.json(|d| de::Deserializer::deserialize_seq(d, visitor))
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Error> {
        self.json(|d| de::Deserializer::deserialize_tuple(d, len, visitor))
    }

    forward_to_deserialize_any! {
        i8 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de> Field<'de> {
    /// A list field, which the statement gives as JSON.
    fn json<T>(
        &self,
        read: impl FnOnce(
            &mut serde_json::Deserializer<serde_json::de::StrRead<'de>>,
        ) -> serde_json::Result<T>,
    ) -> Result<T, Error> {
        let text = self.text()?;
        let mut json = serde_json::Deserializer::from_str(text);
        read(&mut json).map_err(|e| de::Error::custom(format!("catalog field `{text}`: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Sample = (
        String,
        Option<String>,
        bool,
        i64,
        Vec<String>,
        Vec<(String, bool)>,
    );

    fn fields(values: &[Option<&str>]) -> Vec<Option<String>> {
        values.iter().map(|v| v.map(str::to_owned)).collect()
    }

    #[test]
    fn reads_text_nulls_booleans_numbers_and_lists() {
        let row = fields(&[
            Some("shop"),
            None,
            Some("true"),
            Some("-42"),
            Some(r#"["id","Mixed \"Case\""]"#),
            Some(r#"[["idx",true]]"#),
        ]);
        let read: Sample = read_row(&row).unwrap();
        assert_eq!(
            read,
            (
                "shop".to_owned(),
                None,
                true,
                -42,
                vec!["id".to_owned(), "Mixed \"Case\"".to_owned()],
                vec![("idx".to_owned(), true)],
            )
        );
    }

    #[test]
    fn a_malformed_field_is_an_error_not_a_panic() {
        assert!(read_row::<(bool,)>(&fields(&[None])).is_err());
        assert!(read_row::<(bool,)>(&fields(&[Some("maybe")])).is_err());
        assert!(read_row::<(i64,)>(&fields(&[Some("12x")])).is_err());
        assert!(read_row::<(Vec<String>,)>(&fields(&[Some("[unclosed")])).is_err());
        assert!(read_row::<(String, String)>(&fields(&[Some("only one")])).is_err());
    }
}
