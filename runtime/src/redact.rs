//! Connection settings as `Debug` may show them: never a password.

use sqlx::postgres::PgConnectOptions;

/// What `Debug` shows of connection options: where they connect, as whom.
pub(crate) fn options(options: &PgConnectOptions) -> String {
    format!(
        "postgres://{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or_default()
    )
}

/// `url` with its password, in the user part or as a `password=`
/// parameter, replaced by `***`; text that is not a URL is shown as
/// `<not a URL>`, since it may hold anything.
#[cfg_attr(not(feature = "testing"), allow(dead_code))]
pub(crate) fn url(text: &str) -> String {
    let mut url = match url::Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "postgres" | "postgresql") => url,
        _ => return "<not a URL>".to_owned(),
    };
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    if url
        .query_pairs()
        .any(|(key, _)| key.eq_ignore_ascii_case("password"))
    {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(key, value)| match key.eq_ignore_ascii_case("password") {
                true => (key.into_owned(), "***".to_owned()),
                false => (key.into_owned(), value.into_owned()),
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_never_shown() {
        for (given, shown) in [
            (
                "postgres://app:s3cr%40t@db:5432/shop",
                "postgres://app:***@db:5432/shop",
            ),
            (
                "postgres://app:p@ss@db/shop?sslmode=require",
                "postgres://app:***@db/shop?sslmode=require",
            ),
            (
                "postgres://db/shop?user=app&password=hunter2",
                "postgres://db/shop?user=app&password=***",
            ),
            ("postgres://app@db", "postgres://app@db"),
            ("app:hunter2 not a url", "<not a URL>"),
        ] {
            assert_eq!(super::url(given), shown);
        }
    }
}
