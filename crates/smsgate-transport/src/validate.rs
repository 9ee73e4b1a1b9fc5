//! Client-side checks against an operation's documented limits, run before any traffic.
//! Each failure is a [`ValidationError`] naming the field, the value's size and the limit.

use std::fmt;

use crate::endpoint::StrList;
use crate::error::{ValidationError, ValidationKind};
use crate::spec::Operation;

/// A field name as the vendor names it, formatted only when an error needs it (validation
/// runs per item on large requests; formatting every name up front costs more than the checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    item: Option<(&'a str, usize)>,
    name: &'a str,
}

impl<'a> Field<'a> {
    /// A top-level field (`content`).
    pub const fn new(name: &'a str) -> Self {
        Self { item: None, name }
    }

    /// A field of an item of a list (`items[3].phone`).
    pub const fn item(list: &'a str, index: usize, name: &'a str) -> Self {
        Self {
            item: Some((list, index)),
            name,
        }
    }

    /// `name` inside the list item `item` (`Some(("items", 3))`), or at the top level.
    pub const fn at(item: Option<(&'a str, usize)>, name: &'a str) -> Self {
        Self { item, name }
    }

    /// `name` at this field's position: a field of the same item, or a top-level field.
    pub const fn sibling(self, name: &'a str) -> Self {
        Self {
            item: self.item,
            name,
        }
    }
}

impl fmt::Display for Field<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.item {
            Some((list, index)) => write!(f, "{list}[{index}].{}", self.name),
            None => f.write_str(self.name),
        }
    }
}

impl<'a> From<&'a str> for Field<'a> {
    fn from(name: &'a str) -> Self {
        Self::new(name)
    }
}

impl<'a> From<&'a String> for Field<'a> {
    fn from(name: &'a String) -> Self {
        Self::new(name)
    }
}

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
    pub fn error(&self, field: impl fmt::Display, kind: ValidationKind) -> ValidationError {
        ValidationError {
            vendor: self.operation.vendor,
            operation: self.operation.name,
            field: field.to_string(),
            kind,
        }
    }

    /// Message content: not empty, at most the documented characters (Unicode scalar values),
    /// no control character ([`Checker::no_control_characters`]).
    pub fn content<'f>(
        &self,
        field: impl Into<Field<'f>>,
        content: &str,
    ) -> Result<(), ValidationError> {
        let field = field.into();
        if content.is_empty() {
            return Err(self.error(field, ValidationKind::Empty));
        }
        self.max_chars(field, content, self.operation.limits.max_content_chars)?;
        self.no_control_characters(field, content)
    }

    /// A sender id: at most the documented characters, no control character.
    pub fn sender_id<'f>(
        &self,
        field: impl Into<Field<'f>>,
        sender_id: &str,
    ) -> Result<(), ValidationError> {
        let field = field.into();
        self.max_chars(field, sender_id, self.operation.limits.max_sender_id_chars)?;
        self.no_control_characters(field, sender_id)
    }

    /// No C0 control character but tab, line feed and carriage return, and no DEL
    /// ([`ValidationKind::ControlCharacter`] names the first one's position and code point).
    pub fn no_control_characters<'f>(
        &self,
        field: impl Into<Field<'f>>,
        value: &str,
    ) -> Result<(), ValidationError> {
        let Some((position, character)) = refused_control_character(value) else {
            return Ok(());
        };
        Err(self.error(
            field.into(),
            ValidationKind::ControlCharacter {
                position,
                code_point: u32::from(character),
            },
        ))
    }

    /// At most `limit` characters (no limit when `None`).
    pub fn max_chars<'f>(
        &self,
        field: impl Into<Field<'f>>,
        value: &str,
        limit: Option<usize>,
    ) -> Result<(), ValidationError> {
        let Some(limit) = limit else { return Ok(()) };
        // A value of at most `limit` bytes has at most `limit` characters: nothing to count.
        if value.len() <= limit {
            return Ok(());
        }
        // Count only as far as needed: a huge value costs no more than the limit.
        if value.chars().take(limit + 1).count() > limit {
            let chars = value.chars().count();
            return Err(self.error(field.into(), ValidationKind::TooLong { chars, limit }));
        }
        Ok(())
    }

    /// Phone numbers: at least one, each digits only (country code first, no `+`), no more
    /// than `limit`.
    pub fn numbers<'f>(
        &self,
        field: impl Into<Field<'f>>,
        numbers: &dyn StrList,
        limit: Option<usize>,
    ) -> Result<(), ValidationError> {
        let field = field.into();
        if numbers.is_empty() {
            return Err(self.error(field, ValidationKind::Empty));
        }
        self.count(field, numbers.len(), limit)?;
        for i in 0..numbers.len() {
            self.digits(format_args!("{field}[{i}]"), numbers.get(i))?;
        }
        Ok(())
    }

    /// One phone number: digits only, country code first.
    pub fn number<'f>(
        &self,
        field: impl Into<Field<'f>>,
        number: &str,
    ) -> Result<(), ValidationError> {
        self.digits(field.into(), number)
    }

    /// One phone number in E.164 with its `+`: `+`, a country code that does not start with
    /// 0, at most 15 digits in all.
    pub fn number_e164<'f>(
        &self,
        field: impl Into<Field<'f>>,
        number: &str,
    ) -> Result<(), ValidationError> {
        let field = field.into();
        if number.is_empty() {
            return Err(self.error(field, ValidationKind::Empty));
        }
        let digits = number.strip_prefix('+').unwrap_or("");
        if digits.is_empty()
            || digits.len() > 15
            || digits.starts_with('0')
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(self.error(
                field,
                ValidationKind::Malformed {
                    rule: "E.164: `+`, country code and number, at most 15 digits, no spaces or dashes",
                },
            ));
        }
        Ok(())
    }

    fn digits(&self, field: impl fmt::Display, number: &str) -> Result<(), ValidationError> {
        if number.is_empty() {
            return Err(self.error(field, ValidationKind::Empty));
        }
        if !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.error(
                field,
                ValidationKind::Malformed {
                    rule: "digits only: country code and number, no `+`, spaces or dashes",
                },
            ));
        }
        Ok(())
    }

    /// Ids the wire joins with `separator`: at least one, each non-empty and free of the
    /// separator, no more than `limit`.
    pub fn ids<'f>(
        &self,
        field: impl Into<Field<'f>>,
        ids: &dyn StrList,
        separator: char,
        limit: Option<usize>,
    ) -> Result<(), ValidationError> {
        let field = field.into();
        if ids.is_empty() {
            return Err(self.error(field, ValidationKind::Empty));
        }
        self.count(field, ids.len(), limit)?;
        for i in 0..ids.len() {
            let id = ids.get(i);
            if id.is_empty() || id.contains(separator) {
                return Err(self.error(
                    format_args!("{field}[{i}]"),
                    ValidationKind::Malformed {
                        rule: "non-empty, without the list separator (ids are joined with it)",
                    },
                ));
            }
        }
        Ok(())
    }

    /// A required string: not empty.
    pub fn required<'f>(
        &self,
        field: impl Into<Field<'f>>,
        value: &str,
    ) -> Result<(), ValidationError> {
        if value.is_empty() {
            return Err(self.error(field.into(), ValidationKind::Empty));
        }
        Ok(())
    }

    /// A required list: at least one item, no more than `limit`.
    pub fn items<'f>(
        &self,
        field: impl Into<Field<'f>>,
        count: usize,
        limit: Option<usize>,
    ) -> Result<(), ValidationError> {
        let field = field.into();
        if count == 0 {
            return Err(self.error(field, ValidationKind::Empty));
        }
        self.count(field, count, limit)
    }

    /// A list length against a limit.
    pub fn count<'f>(
        &self,
        field: impl Into<Field<'f>>,
        count: usize,
        limit: Option<usize>,
    ) -> Result<(), ValidationError> {
        match limit {
            Some(limit) if count > limit => {
                Err(self.error(field.into(), ValidationKind::TooMany { count, limit }))
            }
            _ => Ok(()),
        }
    }

    /// Two lists that must be the same length.
    pub fn same_count<'f>(
        &self,
        field: impl Into<Field<'f>>,
        count: usize,
        other_field: &'static str,
        other_count: usize,
    ) -> Result<(), ValidationError> {
        if count == other_count {
            return Ok(());
        }
        Err(self.error(
            field.into(),
            ValidationKind::CountMismatch {
                count,
                other_field,
                other_count,
            },
        ))
    }

    /// A value that must satisfy `valid`, described by `rule`.
    pub fn format<'f>(
        &self,
        field: impl Into<Field<'f>>,
        valid: bool,
        rule: &'static str,
    ) -> Result<(), ValidationError> {
        if valid {
            return Ok(());
        }
        Err(self.error(field.into(), ValidationKind::Malformed { rule }))
    }
}

/// The first character of `text` that is never sent — a C0 control character other than tab,
/// line feed and carriage return, or DEL — with its position in characters, counted from 1.
///
/// ```
/// use smsgate_transport::validate::refused_control_character;
/// assert_eq!(refused_control_character("tab\there\r\n"), None);
/// assert_eq!(refused_control_character("短信\u{1b}[0m"), Some((3, '\u{1b}')));
/// ```
pub fn refused_control_character(text: &str) -> Option<(usize, char)> {
    let refused =
        |byte: &u8| (*byte < 0x20 && !matches!(byte, b'\t' | b'\n' | b'\r')) || *byte == 0x7f;
    // Every character refused is ASCII, and an ASCII byte in UTF-8 is always a whole
    // character: scanning bytes is exact and needs no decoding; characters are counted only
    // when one is found.
    let at = text.bytes().position(|byte| refused(&byte))?;
    Some((
        text[..at].chars().count() + 1,
        char::from(text.as_bytes()[at]),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_format_lazily_and_exactly() {
        assert_eq!(Field::new("content").to_string(), "content");
        assert_eq!(
            Field::item("items", 3, "phone").to_string(),
            "items[3].phone"
        );
        assert_eq!(
            Field::item("array", 0, "content")
                .sibling("orderId")
                .to_string(),
            "array[0].orderId"
        );
    }

    #[test]
    fn char_limits_count_characters_not_bytes() {
        let op = crate::spec::Operation {
            vendor: "v",
            name: "op",
            method: crate::spec::HttpMethod::Post,
            base_url: "http://x",
            path: "/",
            encoding: crate::spec::RequestEncoding::Json,
            auth: "key-secret-timestamp-md5",
            alternative_auth: true,
            fixed_headers: &[],
            request_type: "R",
            response_type: "S",
            limits: crate::spec::Limits {
                max_content_chars: Some(3),
                ..crate::spec::Limits::default()
            },
        };
        let check = Checker::new(&op);
        assert!(check.content("content", "€€€").is_ok());
        let err = check
            .content(Field::item("items", 2, "content"), "€€€€")
            .unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.kind),
            (
                "items[2].content",
                ValidationKind::TooLong { chars: 4, limit: 3 }
            )
        );
        let err = check.numbers("numbers", &["1", "+2"], None).unwrap_err();
        assert_eq!(err.field, "numbers[1]");
    }

    fn op() -> Operation {
        Operation {
            vendor: "v",
            name: "op",
            method: crate::spec::HttpMethod::Post,
            base_url: "http://x",
            path: "/",
            encoding: crate::spec::RequestEncoding::Json,
            auth: "key-secret-timestamp-md5",
            alternative_auth: true,
            fixed_headers: &[],
            request_type: "R",
            response_type: "S",
            limits: crate::spec::Limits {
                max_content_chars: Some(1000),
                max_sender_id_chars: Some(20),
                ..crate::spec::Limits::default()
            },
        }
    }

    #[test]
    fn content_with_a_control_character_is_refused_naming_position_and_code_point() {
        let op = op();
        let check = Checker::new(&op);
        let cases = [
            ("\u{0}", 1, 0x00),
            ("a\u{1b}[31mred", 2, 0x1b),
            ("€€\u{7f}", 3, 0x7f),
            ("ok\u{1}and\u{2}", 3, 0x01),
            ("你好\u{8}", 3, 0x08),
            ("\t\r\n\u{1f}", 4, 0x1f),
        ];
        for (content, position, code_point) in cases {
            let err = check
                .content(Field::item("items", 4, "content"), content)
                .unwrap_err();
            assert_eq!(err.field, "items[4].content", "{content:?}");
            assert_eq!(
                err.kind,
                ValidationKind::ControlCharacter {
                    position,
                    code_point
                },
                "{content:?}"
            );
        }
        let err = check.content("content", "a\u{1b}b").unwrap_err();
        assert_eq!(
            err.to_string(),
            "v op: content holds control character U+001B at character 2; only tab, line feed \
             and carriage return are allowed"
        );
    }

    #[test]
    fn tab_newlines_and_other_characters_pass() {
        let op = op();
        let check = Checker::new(&op);
        for content in [
            "line one\nline two\r\n\tindented",
            "ünïcödé 你好 🎉",
            // C1 controls and other format characters are not refused: only C0 and DEL.
            "\u{80}\u{9f}\u{200b}\u{feff}",
            " ~",
        ] {
            assert!(check.content("content", content).is_ok(), "{content:?}");
        }
    }

    #[test]
    fn sender_ids_refuse_control_characters_too() {
        let op = op();
        let check = Checker::new(&op);
        let err = check.sender_id("senderId", "Shop\u{0}").unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.kind),
            (
                "senderId",
                ValidationKind::ControlCharacter {
                    position: 5,
                    code_point: 0
                }
            )
        );
    }
}
