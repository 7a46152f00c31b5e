//! Statistics into presentable forms.

pub mod chart;
