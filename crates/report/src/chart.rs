//! Grouped bar charts as self-contained SVG: small, scalable, printable, no JavaScript.

/// One bar group: a label and one value per series.
pub struct Group {
    pub label: String,
    pub values: Vec<i64>,
}

pub struct BarChart {
    /// Series names, e.g. "2017" and "2016".
    pub series: Vec<String>,
    pub groups: Vec<Group>,
    /// Formats axis and bar values, e.g. with the language's thousands separator.
    pub format: fn(i64) -> String,
    /// Accessible description of the chart.
    pub title: String,
}

const COLOURS: [&str; 4] = ["#1f5fa8", "#9bb8d9", "#c0392b", "#7f8c8d"];
const ROW: f64 = 28.0;
const BAR_GAP: f64 = 2.0;
const LABEL_WIDTH: f64 = 190.0;
const PLOT_WIDTH: f64 = 420.0;
const VALUE_WIDTH: f64 = 70.0;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A horizontal grouped bar chart; bars scale to the largest value.
pub fn render(chart: &BarChart) -> String {
    let series = chart.series.len().max(1);
    let bar = (ROW - BAR_GAP * (series as f64 + 1.0)) / series as f64;
    let max = chart
        .groups
        .iter()
        .flat_map(|g| g.values.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let legend_height = if chart.series.len() > 1 { 24.0 } else { 0.0 };
    let height = legend_height + ROW * chart.groups.len().max(1) as f64 + 8.0;
    let width = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" role=\"img\" \
         aria-label=\"{}\" font-family=\"sans-serif\" font-size=\"12\">",
        escape(&chart.title)
    );
    svg.push_str(&format!("<title>{}</title>", escape(&chart.title)));
    if chart.series.len() > 1 {
        for (i, name) in chart.series.iter().enumerate() {
            let x = LABEL_WIDTH + i as f64 * 110.0;
            svg.push_str(&format!(
                "<rect x=\"{x}\" y=\"4\" width=\"12\" height=\"12\" fill=\"{}\"/>\
                 <text x=\"{}\" y=\"14\">{}</text>",
                COLOURS[i % COLOURS.len()],
                x + 16.0,
                escape(name)
            ));
        }
    }
    for (row, group) in chart.groups.iter().enumerate() {
        let top = legend_height + row as f64 * ROW;
        svg.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            LABEL_WIDTH - 8.0,
            top + ROW / 2.0 + 4.0,
            escape(&group.label)
        ));
        for (i, value) in group.values.iter().enumerate() {
            let y = top + BAR_GAP + i as f64 * (bar + BAR_GAP);
            let length = PLOT_WIDTH * (*value).max(0) as f64 / max as f64;
            svg.push_str(&format!(
                "<rect x=\"{LABEL_WIDTH}\" y=\"{y:.1}\" width=\"{length:.1}\" height=\"{bar:.1}\" fill=\"{}\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                COLOURS[i % COLOURS.len()],
                LABEL_WIDTH + length + 4.0,
                y + bar / 2.0 + 4.0,
                (chart.format)(*value)
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_value_and_text_is_escaped() {
        let chart = BarChart {
            series: vec!["2017".into(), "2016".into()],
            groups: vec![
                Group {
                    label: "Hình sự <HS>".into(),
                    values: vec![45, 58],
                },
                Group {
                    label: "Giao thông".into(),
                    values: vec![0, 29],
                },
            ],
            format: |v| v.to_string(),
            title: "Vụ việc 2017 so với 2016".into(),
        };
        let svg = render(&chart);
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("Hình sự &lt;HS&gt;"));
        assert!(
            svg.contains(&format!("width=\"{PLOT_WIDTH:.1}\"")),
            "the largest bar is full width"
        );
        assert!(svg.contains("width=\"0.0\""), "a zero is an empty bar");
        assert_eq!(
            svg.matches("<rect").count(),
            2 + 4,
            "two legend keys and four bars"
        );
    }

    #[test]
    fn an_empty_chart_still_renders() {
        let chart = BarChart {
            series: vec!["2020".into()],
            groups: vec![],
            format: |v| v.to_string(),
            title: "Trống".into(),
        };
        assert!(render(&chart).ends_with("</svg>"));
    }
}
