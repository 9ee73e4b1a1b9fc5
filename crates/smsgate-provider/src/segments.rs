//! Segment counting: how many SMS parts a text costs, and in which encoding (GSM 03.38 or
//! UCS-2). Shared by the facade (chunking, previews) and the vendors that must name the
//! encoding on the wire (Vonage's `type`).

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
