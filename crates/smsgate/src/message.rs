//! Messages, phone-number normalisation and segment counting.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// One SMS to one recipient.
///
/// The strings are shared (`Arc<str>`): cloning a message copies no text, many messages can
/// share one text (`Message::new(number, Arc::clone(&text))`), and its outcome hands `to` and
/// `client_ref` back without copying them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Recipient: E.164 (`+86 138-0013-8000`, `+8613800138000`) or digits with the country code.
    pub to: Arc<str>,
    /// The text.
    pub content: Arc<str>,
    /// Sender id or number, if the provider supports one.
    pub sender_id: Option<Arc<str>>,
    /// Your own reference, returned with the outcome.
    pub client_ref: Option<Arc<str>>,
}

impl Message {
    /// A message of `content` to `to` (each a `&str`, a `String` or an `Arc<str>`).
    pub fn new(to: impl Into<Arc<str>>, content: impl Into<Arc<str>>) -> Self {
        Self {
            to: to.into(),
            content: content.into(),
            sender_id: None,
            client_ref: None,
        }
    }

    /// Sets the sender id.
    pub fn sender_id(mut self, sender_id: impl Into<Arc<str>>) -> Self {
        self.sender_id = Some(sender_id.into());
        self
    }

    /// Sets your reference.
    pub fn client_ref(mut self, client_ref: impl Into<Arc<str>>) -> Self {
        self.client_ref = Some(client_ref.into());
        self
    }
}

/// Why a phone number cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberProblem {
    /// Nothing but separators.
    Empty,
    /// A character that is not a digit or a separator (` `, `-`, `.`, `(`, `)`), or a `+` not at the start.
    InvalidCharacter(char),
    /// Fewer digits than any international number has.
    TooShort {
        /// Digits found.
        digits: usize,
    },
    /// More digits than E.164 allows (15).
    TooLong {
        /// Digits found.
        digits: usize,
    },
}

impl fmt::Display for NumberProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the number is empty"),
            Self::InvalidCharacter(c) => write!(f, "the number contains {c:?}"),
            Self::TooShort { digits } => write!(
                f,
                "the number has {digits} digits; with its country code it needs at least {MIN_DIGITS}"
            ),
            Self::TooLong { digits } => write!(
                f,
                "the number has {digits} digits; E.164 allows at most {MAX_DIGITS}"
            ),
        }
    }
}

const MIN_DIGITS: usize = 7;
const MAX_DIGITS: usize = 15;

/// Normalises a number to what every vendor wants: country code and subscriber number, digits
/// only, no `+` (`+86 138-0013-8000` → `8613800138000`; a leading `00` is read as `+`).
pub fn normalize_number(raw: &str) -> Result<String, NumberProblem> {
    normalize_number_borrowed(raw).map(Cow::into_owned)
}

/// [`normalize_number`], borrowing from `raw` when it already is digits (with or without a
/// leading `+`): the common case copies nothing.
pub(crate) fn normalize_number_borrowed(raw: &str) -> Result<Cow<'_, str>, NumberProblem> {
    // Already digits, with or without `+` (nearly every input): one pass, nothing copied.
    let (plus, body) = match raw.strip_prefix('+') {
        Some(body) => (true, body),
        None => (false, raw),
    };
    if (MIN_DIGITS..=MAX_DIGITS).contains(&body.len())
        && body.bytes().all(|b| b.is_ascii_digit())
        && (plus || !body.starts_with("00"))
    {
        return Ok(Cow::Borrowed(body));
    }
    let trimmed = raw.trim();
    let body = trimmed.strip_prefix('+').unwrap_or(trimmed);
    let plain = body.bytes().all(|b| b.is_ascii_digit())
        && (trimmed.starts_with('+') || !body.starts_with("00"));
    if plain && (MIN_DIGITS..=MAX_DIGITS).contains(&body.len()) {
        return Ok(Cow::Borrowed(body));
    }
    normalize_number_owned(trimmed).map(Cow::Owned)
}

fn normalize_number_owned(trimmed: &str) -> Result<String, NumberProblem> {
    let body = trimmed.strip_prefix('+').unwrap_or(trimmed);
    let mut digits = String::with_capacity(body.len());
    for c in body.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' | '\u{a0}' => {}
            other => return Err(NumberProblem::InvalidCharacter(other)),
        }
    }
    if !trimmed.starts_with('+') {
        if let Some(rest) = digits.strip_prefix("00") {
            digits = rest.to_owned();
        }
    }
    match digits.len() {
        0 => Err(NumberProblem::Empty),
        n if n < MIN_DIGITS => Err(NumberProblem::TooShort { digits: n }),
        n if n > MAX_DIGITS => Err(NumberProblem::TooLong { digits: n }),
        _ => Ok(digits),
    }
}

/// How a text is encoded on the air.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// The GSM 03.38 7-bit alphabet (160 characters in one SMS, 153 per part).
    Gsm7,
    /// UCS-2 (70 UTF-16 units in one SMS, 67 per part).
    Ucs2,
}

/// How many SMS a text costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segments {
    /// Encoding the text needs.
    pub encoding: Encoding,
    /// Length in the encoding's units: septets (an extension character counts 2) or UTF-16
    /// units (a character outside the BMP, such as an emoji, counts 2).
    pub units: usize,
    /// Number of SMS parts (1 for a single SMS; 0 for an empty text).
    pub parts: usize,
}

const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM7_EXTENSION: &str = "^{}\\[~]|€\u{c}";

/// Septets of each ASCII character in GSM-7 (0: not in the alphabet), so that the common case
/// is a table look-up rather than a search of the alphabet.
const ASCII_SEPTETS: [u8; 128] = {
    let mut table = [0u8; 128];
    let basic = GSM7_BASIC.as_bytes();
    let mut i = 0;
    while i < basic.len() {
        if basic[i] < 128 {
            table[basic[i] as usize] = 1;
        }
        i += 1;
    }
    let extension = GSM7_EXTENSION.as_bytes();
    let mut i = 0;
    while i < extension.len() {
        if extension[i] < 128 {
            table[extension[i] as usize] = 2;
        }
        i += 1;
    }
    table
};

/// Counts the segments of `text` (GSM-7 when every character is in the GSM 03.38 alphabet or
/// its extension table, UCS-2 otherwise).
pub fn segments(text: &str) -> Segments {
    let mut septets = 0usize;
    let mut gsm = true;
    for c in text.chars() {
        if c.is_ascii() {
            match ASCII_SEPTETS[c as usize] {
                0 => {
                    gsm = false;
                    break;
                }
                n => septets += usize::from(n),
            }
        } else if GSM7_BASIC.contains(c) {
            septets += 1;
        } else if GSM7_EXTENSION.contains(c) {
            septets += 2;
        } else {
            gsm = false;
            break;
        }
    }
    let (encoding, units, single, part) = if gsm {
        (Encoding::Gsm7, septets, 160, 153)
    } else {
        (Encoding::Ucs2, text.encode_utf16().count(), 70, 67)
    };
    let parts = match units {
        0 => 0,
        n if n <= single => 1,
        n => n.div_ceil(part),
    };
    Segments {
        encoding,
        units,
        parts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_normalise() {
        for raw in [
            "+86 138-0013-8000",
            "+8613800138000",
            "8613800138000",
            "0086 138 0013 8000",
            " +86 (138) 0013.8000 ",
        ] {
            assert_eq!(
                normalize_number(raw),
                Ok("8613800138000".to_owned()),
                "{raw}"
            );
        }
        assert_eq!(
            normalize_number("+86 138x"),
            Err(NumberProblem::InvalidCharacter('x'))
        );
        assert_eq!(
            normalize_number("86+138"),
            Err(NumberProblem::InvalidCharacter('+'))
        );
        assert_eq!(normalize_number(" - "), Err(NumberProblem::Empty));
        assert_eq!(
            normalize_number("12345"),
            Err(NumberProblem::TooShort { digits: 5 })
        );
        assert_eq!(
            normalize_number("1234567890123456"),
            Err(NumberProblem::TooLong { digits: 16 })
        );
        assert!(
            NumberProblem::TooShort { digits: 5 }
                .to_string()
                .contains("at least 7")
        );
    }

    #[test]
    fn gsm7_and_ucs2_segments() {
        let s = |text: &str| {
            let s = segments(text);
            (s.encoding, s.units, s.parts)
        };
        assert_eq!(s(""), (Encoding::Gsm7, 0, 0));
        assert_eq!(s("hello"), (Encoding::Gsm7, 5, 1));
        assert_eq!(s(&"a".repeat(160)), (Encoding::Gsm7, 160, 1));
        assert_eq!(s(&"a".repeat(161)), (Encoding::Gsm7, 161, 2));
        assert_eq!(s(&"a".repeat(306)), (Encoding::Gsm7, 306, 2));
        assert_eq!(s(&"a".repeat(307)), (Encoding::Gsm7, 307, 3));
        // Extension characters count double: 80 euro signs fill one SMS, 81 need two.
        assert_eq!(s(&"€".repeat(80)), (Encoding::Gsm7, 160, 1));
        assert_eq!(s(&"€".repeat(81)), (Encoding::Gsm7, 162, 2));
        assert_eq!(s("a^b"), (Encoding::Gsm7, 4, 1));
        // One character outside GSM-7 makes the whole text UCS-2.
        assert_eq!(s("héllo"), (Encoding::Gsm7, 5, 1));
        assert_eq!(s("hêllo"), (Encoding::Ucs2, 5, 1));
        assert_eq!(s(&"短".repeat(70)), (Encoding::Ucs2, 70, 1));
        assert_eq!(s(&"短".repeat(71)), (Encoding::Ucs2, 71, 2));
        assert_eq!(s(&"短".repeat(134)), (Encoding::Ucs2, 134, 2));
        assert_eq!(s(&"短".repeat(135)), (Encoding::Ucs2, 135, 3));
        // Emoji are surrogate pairs: two units each.
        assert_eq!(s("😀"), (Encoding::Ucs2, 2, 1));
        assert_eq!(s(&"😀".repeat(35)), (Encoding::Ucs2, 70, 1));
        assert_eq!(s(&"😀".repeat(36)), (Encoding::Ucs2, 72, 2));
    }
}
