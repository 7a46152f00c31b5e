//! HTML forms: the submitted pairs, and what a form shows again after a refusal — the user's
//! input and each error next to its field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lienhoan_domain::format::parse_date;
use lienhoan_domain::validation::FieldError;
use time::Date;
use uuid::Uuid;

use crate::i18n::Lang;

/// An `application/x-www-form-urlencoded` body as ordered pairs (a multiple select repeats its
/// name).
#[derive(Debug, Clone, Default)]
pub struct FormData(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE.into_response())?;
        Ok(FormData::parse(&bytes))
    }
}

impl FormData {
    pub fn parse(bytes: &[u8]) -> Self {
        FormData(
            form_urlencoded::parse(bytes)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of a field, trimmed; empty when absent.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    }

    pub fn raw(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect()
    }

    pub fn has(&self, name: &str) -> bool {
        !self.get(name).is_empty()
    }

    /// Non-empty lines of a text area.
    pub fn lines(&self, name: &str) -> Vec<String> {
        self.raw(name)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    }
}

/// Reads typed values out of a [`FormData`], collecting an error per unreadable field, so that
/// one refusal reports every problem at once.
pub struct Reader<'a> {
    pub data: &'a FormData,
    pub errors: Vec<FieldError>,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a FormData) -> Self {
        Self {
            data,
            errors: Vec::new(),
        }
    }

    pub fn text(&self, name: &str) -> String {
        self.data.get(name).to_owned()
    }

    pub fn optional_date(&mut self, name: &str) -> Option<Date> {
        let value = self.data.get(name);
        if value.is_empty() {
            return None;
        }
        let parsed = parse_date(value);
        if parsed.is_none() {
            self.errors.push(FieldError::new(name, "error-date-format"));
        }
        parsed
    }

    pub fn date(&mut self, name: &str) -> Option<Date> {
        if self.data.get(name).is_empty() {
            self.errors.push(FieldError::new(name, "error-required"));
            return None;
        }
        self.optional_date(name)
    }

    pub fn optional_id(&mut self, name: &str) -> Option<Uuid> {
        let value = self.data.get(name);
        if value.is_empty() {
            return None;
        }
        let parsed = Uuid::parse_str(value).ok();
        if parsed.is_none() {
            self.errors.push(FieldError::new(name, "error-required"));
        }
        parsed
    }

    pub fn id(&mut self, name: &str) -> Option<Uuid> {
        if self.data.get(name).is_empty() {
            self.errors.push(FieldError::new(name, "error-required"));
            return None;
        }
        self.optional_id(name)
    }

    /// One of a fixed set of values.
    pub fn choice<T>(&mut self, name: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
        let parsed = parse(self.data.get(name));
        if parsed.is_none() {
            self.errors.push(FieldError::new(name, "error-required"));
        }
        parsed
    }

    /// The collected errors, if any.
    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }
}

/// A form as shown again: values the user typed, translated errors by field, and errors about
/// fields this form does not show.
#[derive(Debug, Clone, Default)]
pub struct Form {
    data: FormData,
    errors: Vec<(String, String)>,
    pub general: Vec<String>,
    /// Whether the form was submitted and refused.
    pub failed: bool,
    /// Whether the form was submitted at all (a page with folded forms unfolds this one).
    pub open: bool,
}

impl Form {
    /// An empty form with preset values.
    pub fn with(values: &[(&str, String)]) -> Self {
        Self {
            data: FormData(
                values
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.clone()))
                    .collect(),
            ),
            ..Self::default()
        }
    }

    /// The submitted form, shown again without errors (e.g. after a search).
    pub fn echo(data: FormData) -> Self {
        Self {
            data,
            open: true,
            ..Self::default()
        }
    }

    /// The submitted form with its errors. `fields` are the names this form shows; errors on
    /// other fields (or on an element of a list field such as `signatories[2]`) are matched by
    /// prefix, and anything else is listed above the form.
    pub fn refused(data: FormData, errors: &[FieldError], lang: Lang, fields: &[&str]) -> Self {
        let mut form = Self {
            data,
            failed: true,
            open: true,
            ..Self::default()
        };
        for e in errors {
            let message = lang.field_error(e);
            if fields.iter().any(|f| e.field.starts_with(f)) {
                form.errors.push((e.field.clone(), message));
            } else {
                form.general.push(message);
            }
        }
        if form.errors.is_empty() && form.general.is_empty() {
            form.general.push(lang.t("problem-invalid"));
        }
        form
    }

    pub fn data(&self) -> &FormData {
        &self.data
    }

    /// The value to show in a field.
    pub fn v(&self, name: &str) -> &str {
        self.data.raw(name)
    }

    /// The value for an `<input type=date>`: yyyy-mm-dd when it parses (users may have typed
    /// dd/mm/yyyy where the browser has no date picker).
    pub fn d(&self, name: &str) -> String {
        let value = self.data.get(name);
        match parse_date(value) {
            Some(day) => format!(
                "{:04}-{:02}-{:02}",
                day.year(),
                day.month() as u8,
                day.day()
            ),
            None => value.to_owned(),
        }
    }

    pub fn selected(&self, name: &str, value: &str) -> bool {
        self.data.0.iter().any(|(k, v)| k == name && v == value)
    }

    /// The errors of a field (and of its list elements), joined.
    pub fn err(&self, name: &str) -> Option<String> {
        let messages: Vec<&str> = self
            .errors
            .iter()
            .filter(|(field, _)| {
                field == name
                    || field
                        .strip_prefix(name)
                        .is_some_and(|rest| rest.starts_with('['))
            })
            .map(|(_, m)| m.as_str())
            .collect();
        (!messages.is_empty()).then(|| messages.join(" "))
    }

    pub fn invalid(&self, name: &str) -> bool {
        self.err(name).is_some()
    }

    /// `aria-invalid` value.
    pub fn aria(&self, name: &str) -> &'static str {
        if self.invalid(name) { "true" } else { "false" }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_land_next_to_their_fields() {
        let data = FormData::parse(b"title=Q&signatories=A%0AB&joined_on=05%2F03%2F2019");
        let errors = vec![
            FieldError::new("signatories[1]", "error-required"),
            FieldError::new("title", "error-too-long").with("max", 200),
            FieldError::new("elsewhere", "error-required"),
        ];
        let form = Form::refused(data, &errors, Lang::Vi, &["title", "signatories"]);
        assert!(form.err("signatories").is_some());
        assert!(form.err("title").unwrap().contains("200"));
        assert_eq!(form.general.len(), 1);
        assert_eq!(form.d("joined_on"), "2019-03-05");
        assert_eq!(form.v("title"), "Q");
        assert!(form.err("sign").is_none());
    }

    #[test]
    fn reader_collects_every_problem() {
        let data = FormData::parse(b"a=31%2F02%2F2020&b=&c=2020-02-29&id=nope");
        let mut r = Reader::new(&data);
        assert_eq!(r.optional_date("a"), None);
        assert_eq!(r.date("b"), None);
        assert!(r.date("c").is_some());
        assert_eq!(r.id("id"), None);
        let errors = r.finish().unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["a", "b", "id"]);
    }
}
