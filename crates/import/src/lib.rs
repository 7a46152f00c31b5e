//! Bulk import from the spreadsheet templates the UI offers. A file goes in whole or not at all:
//! every row is checked first and every problem is reported by line and column.

pub mod incidents;
pub mod table;

pub use table::Format;

/// One problem in an imported file. `line` counts the header as line 1, as a spreadsheet does.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CellError {
    pub line: usize,
    pub column: String,
    /// Translation key of the message.
    pub key: &'static str,
    pub value: String,
    /// Arguments of the message, such as a maximum length.
    pub args: Vec<(&'static str, String)>,
}

impl CellError {
    pub fn new(line: usize, column: &str, key: &'static str, value: impl Into<String>) -> Self {
        Self {
            line,
            column: column.to_owned(),
            key,
            value: value.into(),
            args: Vec::new(),
        }
    }
}
