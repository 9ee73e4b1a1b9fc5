//! Messages, control characters and segment counting (phone numbers: `crate::number`).

use std::fmt;
use std::sync::Arc;

/// One SMS to one recipient.
///
/// The strings are shared (`Arc<str>`): cloning a message copies no text, many messages can
/// share one text (`Message::new(number, Arc::clone(&text))`), and its outcome hands `to` and
/// `client_ref` back without copying them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Recipient: `+` and the country code (`+86 138-0013-8000`), digits with the country code
    /// (`8613800138000`), or a national number when a default region is set (see
    /// [`NumberPolicy`](crate::NumberPolicy)).
    pub to: Arc<str>,
    /// The text.
    pub content: Arc<str>,
    /// Sender id or number, if the provider supports one.
    pub sender_id: Option<Arc<str>>,
    /// Your own reference, returned with the outcome.
    pub client_ref: Option<Arc<str>>,
    /// The key that names this message for good in a gate's ledger
    /// (`SmsGate::send_once`, feature `ledger`): the same key is never sent twice,
    /// across restarts and replicas (an order number and what the text is for, say).
    pub idempotency_key: Option<Arc<str>>,
}

impl Message {
    /// A message of `content` to `to` (each a `&str`, a `String` or an `Arc<str>`).
    pub fn new(to: impl Into<Arc<str>>, content: impl Into<Arc<str>>) -> Self {
        Self {
            to: to.into(),
            content: content.into(),
            sender_id: None,
            client_ref: None,
            idempotency_key: None,
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

    /// Sets the idempotency key (`SmsGate::send_once`, feature `ledger`).
    pub fn idempotency_key(mut self, key: impl Into<Arc<str>>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }
}

pub use crate::number::{NumberProblem, normalize_number};

/// A control character that is not sent — a C0 control other than tab, CR and LF, or DEL — and
/// where it is; displays as the rejection reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ControlCharacter {
    /// Position in characters, 1 for the first.
    pub(crate) position: usize,
    /// The character.
    pub(crate) character: char,
}

impl fmt::Display for ControlCharacter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the text contains U+{:04X} at character {}; control characters other than tab, CR and LF are not sent",
            u32::from(self.character),
            self.position
        )
    }
}

/// The first control character of `text` that is not sent.
pub(crate) fn control_character(text: &str) -> Option<ControlCharacter> {
    // The same rule as the vendor clients' validation.
    let (position, character) = smsgate_transport::validate::refused_control_character(text)?;
    Some(ControlCharacter {
        position,
        character,
    })
}

pub use smsgate_provider::segments::{Encoding, Segments, segments};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_normalise() {
        for raw in [
            "+86 138-0013-8000",
            "+8613800138000",
            "8613800138000",
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
            Err(NumberProblem::Letter {
                letter: 'x',
                position: 8
            })
        );
        assert_eq!(
            normalize_number("86+138"),
            Err(NumberProblem::InvalidCharacter {
                character: '+',
                position: 3
            })
        );
        assert_eq!(normalize_number(" - "), Err(NumberProblem::Empty));
        // Without a default region, a leading 00 is not read as an international prefix.
        assert!(matches!(
            normalize_number("0086 138 0013 8000"),
            Err(NumberProblem::NoCountryCode {
                read_as_international: None
            })
        ));
    }

    #[test]
    fn control_characters_are_found_with_their_position() {
        let found = |text: &str| control_character(text).map(|c| (c.position, c.character));
        assert_eq!(found("hello"), None);
        assert_eq!(found("tab\there\r\nnew line"), None);
        assert_eq!(found("code\0"), Some((5, '\0')));
        assert_eq!(found("短信\u{1b}[0m"), Some((3, '\u{1b}')));
        assert_eq!(found("del\u{7f}"), Some((4, '\u{7f}')));
        assert_eq!(
            control_character("abcd\0")
                .map(|c| c.to_string())
                .as_deref(),
            Some(
                "the text contains U+0000 at character 5; control characters other than tab, CR and LF are not sent"
            )
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
