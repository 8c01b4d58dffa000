//! The Markdown fragment: per section a `## Title`, how it was measured, tables of
//! figures, and one line per goal saying whether it was met, with the figure.

use std::fmt;

/// One `## ` section.
#[derive(Debug, Default)]
pub struct Section {
    pub title: String,
    /// How it was measured, in a sentence or two.
    pub how: String,
    pub tables: Vec<Table>,
    pub notes: Vec<String>,
    pub goals: Vec<Goal>,
    /// Why the section has no figures, if it has none.
    pub failure: Option<String>,
}

impl Section {
    /// Adds `goals` as not judged, each with `why` as its figure.
    pub fn not_judged(&mut self, goals: impl IntoIterator<Item = String>, why: &str) {
        for goal in goals {
            self.goals.push(Goal {
                goal,
                met: None,
                figure: why.to_owned(),
            });
        }
    }
}

/// A Markdown table.
#[derive(Debug, Default)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }
}

/// A goal and how the measured figure compares with it.
#[derive(Debug)]
pub struct Goal {
    pub goal: String,
    /// `Some(true)` met, `Some(false)` not met, `None` not measured.
    pub met: Option<bool>,
    /// The measured figure, in words.
    pub figure: String,
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "## {}\n", self.title)?;
        writeln!(f, "{}\n", self.how)?;
        if let Some(failure) = &self.failure {
            writeln!(f, "**Could not be measured:** {failure}\n")?;
        }
        for table in &self.tables {
            writeln!(f, "| {} |", table.header.join(" | "))?;
            writeln!(f, "|{}", "---|".repeat(table.header.len()))?;
            for row in &table.rows {
                writeln!(f, "| {} |", row.join(" | "))?;
            }
            writeln!(f)?;
        }
        for note in &self.notes {
            writeln!(f, "{note}\n")?;
        }
        for goal in &self.goals {
            let verdict = match goal.met {
                Some(true) => "**met**",
                Some(false) => "**not met**",
                None => "**not measured**",
            };
            writeln!(f, "- Goal: {} — {verdict} ({})", goal.goal, goal.figure)?;
        }
        if !self.goals.is_empty() {
            writeln!(f)?;
        }
        Ok(())
    }
}

/// A whole number with thousands separators: 10,000.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Bytes as megabytes (1 MB = 1,000,000 bytes) with one decimal.
pub fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}
