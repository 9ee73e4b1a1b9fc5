//! `--content` with `--csv` is a template: `{column}` placeholders filled from each row's CSV
//! columns, `{{` and `}}` for literal braces. Everything else is sent byte-exact.

use std::fmt;

/// A template checked against a CSV header: literal text and the columns it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    /// A column's value: its name (as written in the template) and its index in the header.
    Column(String, usize),
}

/// Why a template cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A `{` without its `}`.
    #[error("--content: `{{` at character {at} is not closed (write `{{{{` for a literal brace)")]
    Unclosed {
        /// Its character position (from 1).
        at: usize,
    },
    /// A `}` without a `{`.
    #[error("--content: `}}` at character {at} closes nothing (write `}}}}` for a literal brace)")]
    Stray {
        /// Its character position (from 1).
        at: usize,
    },
    /// `{}`.
    #[error("--content: an empty placeholder `{{}}` at character {at}")]
    Empty {
        /// Its character position (from 1).
        at: usize,
    },
    /// A placeholder names a column the CSV file does not have.
    #[error("--content: the CSV file has no column `{name}` (its columns: {columns})")]
    MissingColumn {
        /// The placeholder.
        name: String,
        /// The header's columns.
        columns: String,
    },
}

/// Why one row cannot fill the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmptyField(pub String);

impl fmt::Display for EmptyField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "column `{}` is empty: the template needs it (the row is not sent)",
            self.0
        )
    }
}

impl Template {
    /// Parses `text` and binds its placeholders to the columns of `headers` (names compared
    /// exactly, as the header row writes them once trimmed).
    pub fn new<'h>(
        text: &str,
        headers: impl IntoIterator<Item = &'h str> + Clone,
    ) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.char_indices().enumerate().peekable();
        while let Some((n, (_, c))) = chars.next() {
            match c {
                '{' if chars.peek().is_some_and(|(_, (_, c))| *c == '{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().is_some_and(|(_, (_, c))| *c == '}') => {
                    chars.next();
                    literal.push('}');
                }
                '}' => return Err(TemplateError::Stray { at: n + 1 }),
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some((_, (_, '}'))) => break,
                            Some((_, (_, '{'))) | None => {
                                return Err(TemplateError::Unclosed { at: n + 1 });
                            }
                            Some((_, (_, c))) => name.push(c),
                        }
                    }
                    if name.is_empty() {
                        return Err(TemplateError::Empty { at: n + 1 });
                    }
                    let Some(index) = headers.clone().into_iter().position(|h| h == name) else {
                        return Err(TemplateError::MissingColumn {
                            name,
                            columns: headers.into_iter().collect::<Vec<_>>().join(", "),
                        });
                    };
                    if !literal.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Column(name, index));
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Self { parts })
    }

    /// The text for one row: each placeholder replaced by its column's value, byte-exact. A
    /// placeholder whose value is empty (or missing from a short row) is an error: a text with
    /// a hole is not sent.
    pub fn fill(&self, record: &csv::StringRecord) -> Result<String, EmptyField> {
        let mut text = String::new();
        for part in &self.parts {
            match part {
                Part::Text(literal) => text.push_str(literal),
                Part::Column(name, index) => match record.get(*index) {
                    Some(value) if !value.is_empty() => text.push_str(value),
                    _ => return Err(EmptyField(name.clone())),
                },
            }
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADERS: [&str; 3] = ["to", "name", "code"];

    fn record(fields: &[&str]) -> csv::StringRecord {
        csv::StringRecord::from(fields.to_vec())
    }

    #[test]
    fn placeholders_are_filled_from_the_row_and_braces_escape() {
        let template = Template::new("Hi {name}, your code is {code} {{ok}}", HEADERS).unwrap();
        let text = template.fill(&record(&["+44", " Zoë ", "12 34"])).unwrap();
        assert_eq!(text, "Hi  Zoë , your code is 12 34 {ok}");
    }

    #[test]
    fn a_text_without_placeholders_is_kept_byte_exact() {
        let template = Template::new("  tabs\tand\nlines  ", HEADERS).unwrap();
        assert_eq!(
            template.fill(&record(&["+44"])).unwrap(),
            "  tabs\tand\nlines  "
        );
    }

    #[test]
    fn malformed_templates_and_missing_columns_are_refused() {
        assert_eq!(
            Template::new("Hi {name", HEADERS),
            Err(TemplateError::Unclosed { at: 4 })
        );
        assert_eq!(
            Template::new("a } b", HEADERS),
            Err(TemplateError::Stray { at: 3 })
        );
        assert_eq!(
            Template::new("x{}", HEADERS),
            Err(TemplateError::Empty { at: 2 })
        );
        let missing = Template::new("Hi {first_name}", HEADERS).unwrap_err();
        assert_eq!(
            missing.to_string(),
            "--content: the CSV file has no column `first_name` (its columns: to, name, code)"
        );
    }

    #[test]
    fn an_empty_or_missing_value_refuses_the_row() {
        let template = Template::new("Hi {name}, {code}", HEADERS).unwrap();
        assert_eq!(
            template.fill(&record(&["+44", "Ann", ""])),
            Err(EmptyField("code".to_owned()))
        );
        assert_eq!(
            template.fill(&record(&["+44", "Ann"])),
            Err(EmptyField("code".to_owned()))
        );
    }
}
