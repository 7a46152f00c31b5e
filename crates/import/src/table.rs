//! Reading a sheet of text cells from CSV or XLSX, and writing the templates.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use rust_xlsxwriter::{Format as CellFormat, Workbook};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    /// Recognises an XLSX file by its ZIP signature; anything else is read as CSV.
    pub fn sniff(bytes: &[u8]) -> Self {
        if bytes.starts_with(b"PK\x03\x04") {
            Format::Xlsx
        } else {
            Format::Csv
        }
    }
}

/// The rows of the first sheet as text, header included.
pub fn read(bytes: &[u8], format: Format) -> Result<Vec<Vec<String>>, String> {
    match format {
        Format::Csv => read_csv(bytes),
        Format::Xlsx => read_xlsx(bytes),
    }
}

fn read_csv(bytes: &[u8]) -> Result<Vec<Vec<String>>, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // Spreadsheets set to Vietnamese save CSV with semicolons.
    let first_line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let semicolons = first_line.iter().filter(|b| **b == b';').count();
    let commas = first_line.iter().filter(|b| **b == b',').count();
    let delimiter = if semicolons > commas { b';' } else { b',' };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(bytes);
    reader
        .records()
        .map(|record| {
            record
                .map(|r| r.iter().map(|cell| cell.trim().to_owned()).collect())
                .map_err(|e| e.to_string())
        })
        .collect()
}

/// Excel counts days from 30 December 1899.
fn excel_date_text(serial: f64) -> String {
    let epoch = time::macros::datetime!(1899-12-30 0:00);
    let seconds = (serial * 86_400.0).round() as i64;
    let at = epoch + time::Duration::seconds(seconds);
    format!(
        "{:02}/{:02}/{:04} {:02}:{:02}",
        at.day(),
        at.month() as u8,
        at.year(),
        at.hour(),
        at.minute()
    )
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_owned(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "1" } else { "0" }.to_owned(),
        Data::DateTime(d) => excel_date_text(d.as_f64()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("{e:?}"),
    }
}

fn read_xlsx(bytes: &[u8]) -> Result<Vec<Vec<String>>, String> {
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let sheet = workbook
        .worksheet_range_at(0)
        .ok_or("the workbook has no sheet")?
        .map_err(|e| e.to_string())?;
    Ok(sheet
        .rows()
        .map(|row| row.iter().map(cell_text).collect())
        .collect())
}

/// A template: the header row and example rows, as XLSX.
pub fn xlsx_template(header: &[String], examples: &[Vec<String>]) -> Result<Vec<u8>, String> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let bold = CellFormat::new().set_bold();
    for (col, title) in header.iter().enumerate() {
        sheet
            .write_string_with_format(0, col as u16, title, &bold)
            .map_err(|e| e.to_string())?;
        sheet
            .set_column_width(col as u16, 20)
            .map_err(|e| e.to_string())?;
    }
    for (row, values) in examples.iter().enumerate() {
        for (col, value) in values.iter().enumerate() {
            sheet
                .write_string(row as u32 + 1, col as u16, value)
                .map_err(|e| e.to_string())?;
        }
    }
    workbook.save_to_buffer().map_err(|e| e.to_string())
}

/// The same template as CSV, with a byte-order mark so that Excel opens it as UTF-8.
pub fn csv_template(header: &[String], examples: &[Vec<String>]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let _ = writer.write_record(header);
    for row in examples {
        let _ = writer.write_record(row);
    }
    writer.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_semicolons_and_bom() {
        let rows = read(b"\xEF\xBB\xBFa;b\n1; 2 \n", Format::Csv).unwrap();
        assert_eq!(rows, vec![vec!["a", "b"], vec!["1", "2"]]);
        assert_eq!(Format::sniff(b"a,b"), Format::Csv);
    }

    #[test]
    fn templates_read_back() {
        let header = vec!["Mã xã".to_string(), "Ghi chú".to_string()];
        let examples = vec![vec!["02275".to_string(), "Trộm cắp, tài sản".to_string()]];
        let xlsx = xlsx_template(&header, &examples).unwrap();
        assert_eq!(Format::sniff(&xlsx), Format::Xlsx);
        let rows = read(&xlsx, Format::Xlsx).unwrap();
        assert_eq!(rows, vec![header.clone(), examples[0].clone()]);
        let csv = csv_template(&header, &examples);
        assert_eq!(
            read(&csv, Format::Csv).unwrap(),
            vec![header, examples[0].clone()]
        );
    }

    #[test]
    fn excel_serial_dates() {
        assert_eq!(excel_date_text(43_649.5), "03/07/2019 12:00");
    }
}
