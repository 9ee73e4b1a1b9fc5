//! Secrets that never show: `Debug` and `Display` print `[redacted]`.

use std::fmt;

/// A credential secret (api secret, access secret). Only [`Secret::expose`] reveals it, and only
/// signing code calls that.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for signing.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is empty (a configuration error).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

/// Masks a phone number for logs: country code and a few digits stay, the middle is starred
/// (`8613800138000` → `8613*****8000`). Short values are starred whole.
pub fn mask_number(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    if chars.len() < 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 8))
}

/// `text` (a vendor's reason, an error) with every run of 6 or more digits masked as
/// [`mask_number`] masks a number, for logs: vendors write the recipient into some of their
/// reasons (Twilio: "The 'To' number 5551234567 is not a valid phone number."). Borrowed when
/// there is none.
///
/// ```
/// use smsgate_transport::secret::mask_numbers_in;
/// assert_eq!(mask_numbers_in("The 'To' number 5551234567 is invalid (21211)"), "The 'To' number 5551**4567 is invalid (21211)");
/// assert_eq!(mask_numbers_in("code 21211"), "code 21211");
/// ```
pub fn mask_numbers_in(text: &str) -> std::borrow::Cow<'_, str> {
    const SHORTEST: usize = 6;
    let mut masked = String::new();
    let mut copied = 0;
    let mut run_start = None;
    for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
        match (c.is_ascii_digit(), run_start) {
            (true, None) => run_start = Some(i),
            (false, Some(start)) => {
                if i - start >= SHORTEST {
                    masked.push_str(&text[copied..start]);
                    masked.push_str(&mask_number(&text[start..i]));
                    copied = i;
                }
                run_start = None;
            }
            _ => {}
        }
    }
    if copied == 0 {
        return std::borrow::Cow::Borrowed(text);
    }
    masked.push_str(&text[copied..]);
    std::borrow::Cow::Owned(masked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let secret = Secret::new("7bz1lzh9");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(format!("{secret}"), "[redacted]");
        assert_eq!(
            format!("{:#?}", Some(secret.clone())),
            "Some(\n    [redacted],\n)"
        );
        assert_eq!(secret.expose(), "7bz1lzh9");
    }

    #[test]
    fn numbers_are_masked() {
        assert_eq!(mask_number("8613800138000"), "8613*****8000");
        assert_eq!(mask_number("123456789"), "1234*6789");
        assert_eq!(mask_number("1234567"), "*******");
    }
}
