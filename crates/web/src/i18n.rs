//! The caller's language and translated text. All user-facing text lives in `locales/`.

use std::borrow::Cow;
use std::collections::HashMap;

use axum::http::HeaderMap;
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE};
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "vi",
        // Isolation marks around arguments would show up as stray characters in plain text.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static VI: LanguageIdentifier = langid!("vi");
static EN: LanguageIdentifier = langid!("en");

pub const LANG_COOKIE: &str = "lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code.trim().get(..2)?.to_ascii_lowercase().as_str() {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language chosen with the switch (a cookie), else the first known language the
    /// client accepts, else Vietnamese.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let from_cookie = headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == LANG_COOKIE)
            .and_then(|(_, value)| Lang::parse(value));
        let from_accept = || {
            headers
                .get(ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| {
                    v.split(',')
                        .find_map(|part| Lang::parse(part.split(';').next()?))
                })
        };
        from_cookie.or_else(from_accept).unwrap_or_default()
    }

    fn id(self) -> &'static LanguageIdentifier {
        match self {
            Lang::Vi => &VI,
            Lang::En => &EN,
        }
    }

    pub fn t(self, key: &str) -> String {
        LOCALES.lookup(self.id(), key)
    }

    pub fn t_args(self, key: &str, args: &[(&str, String)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> = args
            .iter()
            .map(|(k, v)| (Cow::Owned(k.to_string()), FluentValue::from(v.clone())))
            .collect();
        LOCALES.lookup_with_args(self.id(), key, &args)
    }

    pub fn number(self, value: i64) -> String {
        let separator = match self {
            Lang::Vi => '.',
            Lang::En => ',',
        };
        lienhoan_domain::format::number(value, separator)
    }

    /// A field error in this language.
    pub fn field_error(self, error: &lienhoan_domain::validation::FieldError) -> String {
        let args: Vec<(&str, String)> = error.args.iter().map(|(k, v)| (*k, v.clone())).collect();
        self.t_args(error.key, &args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_exists_in_both_languages() {
        let keys = |text: &str| -> Vec<String> {
            text.lines()
                .filter_map(|l| l.split_once(" ="))
                .map(|(k, _)| k.trim().to_owned())
                .filter(|k| !k.starts_with('#') && !k.is_empty() && !k.starts_with('.'))
                .collect()
        };
        let vi = keys(include_str!("../locales/vi/main.ftl"));
        let en = keys(include_str!("../locales/en/main.ftl"));
        let missing_en: Vec<_> = vi.iter().filter(|k| !en.contains(k)).collect();
        let missing_vi: Vec<_> = en.iter().filter(|k| !vi.contains(k)).collect();
        assert!(missing_en.is_empty(), "missing in en: {missing_en:?}");
        assert!(missing_vi.is_empty(), "missing in vi: {missing_vi:?}");
    }

    #[test]
    fn language_choice() {
        let mut headers = HeaderMap::new();
        assert_eq!(Lang::from_headers(&headers), Lang::Vi);
        headers.insert(ACCEPT_LANGUAGE, "en-US,en;q=0.9".parse().unwrap());
        assert_eq!(Lang::from_headers(&headers), Lang::En);
        headers.insert(COOKIE, "a=b; lang=vi".parse().unwrap());
        assert_eq!(Lang::from_headers(&headers), Lang::Vi);
    }

    #[test]
    fn messages_take_arguments() {
        let text = Lang::En.t_args("error-too-long", &[("max", "200".into())]);
        assert!(text.contains("200"), "{text}");
        assert_ne!(Lang::Vi.t("nav-clusters"), Lang::En.t("nav-clusters"));
    }
}
