//! Client-side checks against an operation's documented limits, run before any traffic.
//! Each failure is a [`ValidationError`] naming the field, the value's size and the limit.

use crate::error::{ValidationError, ValidationKind};
use crate::spec::Operation;

/// Builds validation errors for one operation.
#[derive(Debug, Clone, Copy)]
pub struct Checker<'a> {
    operation: &'a Operation,
}

impl<'a> Checker<'a> {
    /// Checks against `operation`'s limits.
    pub fn new(operation: &'a Operation) -> Self {
        Self { operation }
    }

    /// A validation error for `field`.
    pub fn error(&self, field: impl Into<String>, kind: ValidationKind) -> ValidationError {
        ValidationError {
            vendor: self.operation.vendor,
            operation: self.operation.name,
            field: field.into(),
            kind,
        }
    }

    /// Message content: not empty, at most the documented characters (Unicode scalar values).
    pub fn content(&self, field: &str, content: &str) -> Result<(), ValidationError> {
        if content.is_empty() {
            return Err(self.error(field, ValidationKind::Empty));
        }
        self.max_chars(field, content, self.operation.limits.max_content_chars)
    }

    /// A sender id: at most the documented characters.
    pub fn sender_id(&self, field: &str, sender_id: &str) -> Result<(), ValidationError> {
        self.max_chars(field, sender_id, self.operation.limits.max_sender_id_chars)
    }

    /// At most `limit` characters (no limit when `None`).
    pub fn max_chars(
        &self,
        field: &str,
        value: &str,
        limit: Option<usize>,
    ) -> Result<(), ValidationError> {
        let Some(limit) = limit else { return Ok(()) };
        // Count only as far as needed: a huge value costs no more than the limit.
        let chars = value.chars().take(limit + 1).count();
        if chars > limit {
            return Err(self.error(
                field,
                ValidationKind::TooLong {
                    chars: value.chars().count(),
                    limit,
                },
            ));
        }
        Ok(())
    }

    /// Phone numbers: at least one, each digits only (country code first, no `+`), no more
    /// than `limit`.
    pub fn numbers<S: AsRef<str>>(
        &self,
        field: &str,
        numbers: &[S],
        limit: Option<usize>,
    ) -> Result<(), ValidationError> {
        if numbers.is_empty() {
            return Err(self.error(field, ValidationKind::Empty));
        }
        self.count(field, numbers.len(), limit)?;
        for (i, number) in numbers.iter().enumerate() {
            let number = number.as_ref();
            if number.is_empty() {
                return Err(self.error(format!("{field}[{i}]"), ValidationKind::Empty));
            }
            if !number.bytes().all(|b| b.is_ascii_digit()) {
                return Err(self.error(
                    format!("{field}[{i}]"),
                    ValidationKind::Malformed {
                        rule: "digits only: country code and number, no `+`, spaces or dashes",
                    },
                ));
            }
        }
        Ok(())
    }

    /// A list length against a limit.
    pub fn count(
        &self,
        field: &str,
        count: usize,
        limit: Option<usize>,
    ) -> Result<(), ValidationError> {
        match limit {
            Some(limit) if count > limit => {
                Err(self.error(field, ValidationKind::TooMany { count, limit }))
            }
            _ => Ok(()),
        }
    }

    /// Two lists that must be the same length.
    pub fn same_count(
        &self,
        field: &str,
        count: usize,
        other_field: &'static str,
        other_count: usize,
    ) -> Result<(), ValidationError> {
        if count == other_count {
            return Ok(());
        }
        Err(self.error(
            field,
            ValidationKind::CountMismatch {
                count,
                other_field,
                other_count,
            },
        ))
    }

    /// A value that must satisfy `valid`, described by `rule`.
    pub fn format(
        &self,
        field: &str,
        valid: bool,
        rule: &'static str,
    ) -> Result<(), ValidationError> {
        if valid {
            return Ok(());
        }
        Err(self.error(field, ValidationKind::Malformed { rule }))
    }
}

/// Whether a list item contains the separator the vendor joins lists with.
pub fn contains_separator(value: &str) -> bool {
    value.contains(',')
}
