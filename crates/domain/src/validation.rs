//! Field-level validation errors. Each names the field and a message key that the web layer
//! translates into the caller's language, so the domain stays free of UI text.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    /// Message key in the translation files, e.g. `error-required`.
    pub key: &'static str,
    /// Arguments for the message, e.g. `("max", "200")`.
    pub args: Vec<(&'static str, String)>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, key: &'static str) -> Self {
        Self {
            field: field.into(),
            key,
            args: Vec::new(),
        }
    }

    pub fn with(mut self, name: &'static str, value: impl ToString) -> Self {
        self.args.push((name, value.to_string()));
        self
    }
}

/// A set of field errors; empty means valid.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    pub fn check(&mut self, result: Result<(), FieldError>) {
        if let Err(e) = result {
            self.push(e);
        }
    }

    pub fn into_result(self) -> Result<(), Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

pub const NAME_MAX: usize = 200;
pub const TEXT_MAX: usize = 20_000;

/// A required single-line text: trimmed, non-empty, at most `max` characters.
pub fn required_text(field: &str, value: &str, max: usize) -> Result<(), FieldError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(field, "error-required"));
    }
    optional_text(field, trimmed, max)
}

pub fn optional_text(field: &str, value: &str, max: usize) -> Result<(), FieldError> {
    if value.chars().count() > max {
        return Err(FieldError::new(field, "error-too-long").with("max", max));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(FieldError::new(field, "error-control-characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_text_cases() {
        let long = "x".repeat(NAME_MAX + 1);
        let cases: [(&str, Option<&str>); 5] = [
            ("Cụm Sông Lô", None),
            ("", Some("error-required")),
            ("   ", Some("error-required")),
            (&long, Some("error-too-long")),
            ("a\u{0}b", Some("error-control-characters")),
        ];
        for (value, expected) in cases {
            let got = required_text("name", value, NAME_MAX).err().map(|e| e.key);
            assert_eq!(got, expected, "{value:?}");
        }
    }
}
