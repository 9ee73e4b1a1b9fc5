//! [`NumberProblem`]: why a phone number cannot be used.

/// Why a phone number cannot be used. Every one is a local rejection: the number is never sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NumberProblem {
    /// Nothing but separators.
    #[error("the number is empty")]
    Empty,
    /// A letter (a vanity number such as `1-800-FLOWERS`, an extension such as `x12`): not sent.
    #[error(
        "the number contains the letter {letter:?} at character {position}; letters (vanity numbers, extensions) are not sent"
    )]
    Letter {
        /// The letter.
        letter: char,
        /// Its position in characters, 1 for the first.
        position: usize,
    },
    /// A character that is neither a digit, a leading `+`, nor a separator (space, `-`, `.`,
    /// `(`, `)`, `/`); a `+` anywhere but at the start (after blanks or `(`) is one too.
    #[error(
        "the number contains {character:?} at character {position}; a number is digits, a leading +, and spaces or - . ( ) /"
    )]
    InvalidCharacter {
        /// The character.
        character: char,
        /// Its position in characters, 1 for the first.
        position: usize,
    },
    /// No `+`, no default region, and the digits are not a valid number read country code
    /// first (`read_as_international` says why), or they start with 0 (`None`): a national
    /// number needs its country code or a default region.
    #[error("{}", no_country_code(.read_as_international.as_deref()))]
    NoCountryCode {
        /// What is wrong with the digits read country code first (`None`: they start with 0,
        /// a trunk or international prefix, so they were not read so).
        read_as_international: Option<Box<NumberProblem>>,
    },
    /// The digits after `+` (or the international prefix) do not start with an assigned
    /// country code (`+0…`, `+999…`).
    #[error("the number does not start with an assigned country code")]
    InvalidCountryCode,
    /// Fewer digits than any number of its country has.
    #[error("the number is too short: {}", digits_in(*.digits, *.country_code, .region.as_deref()))]
    TooShort {
        /// Digits after the country code (all digits when `country_code` is `None`).
        digits: usize,
        /// The country code, when one was read.
        country_code: Option<u16>,
        /// The region the number belongs to, when one is known.
        region: Option<String>,
    },
    /// More digits than any number of its country has, or more than E.164's 15.
    #[error("the number is too long: {}", digits_in(*.digits, *.country_code, .region.as_deref()))]
    TooLong {
        /// Digits after the country code (all digits when `country_code` is `None`).
        digits: usize,
        /// The country code, when one was read.
        country_code: Option<u16>,
        /// The region the number belongs to, when one is known.
        region: Option<String>,
    },
    /// Not a number of any range of its country's numbering plan (a length between the
    /// shortest and longest, or an unassigned range). The region is the number's, else the
    /// main region of its country code (`US` for +1, `GB` for +44).
    #[error("the number is not a valid number for {}", region_of(*.country_code, .region.as_deref()))]
    NotValid {
        /// The country code.
        country_code: u16,
        /// The region (`None`: a non-geographic country code such as +800).
        region: Option<String>,
    },
}

fn no_country_code(read_as_international: Option<&NumberProblem>) -> String {
    match read_as_international {
        None => "the number starts with 0 (a trunk or international prefix) and has no country code, and no default region is set: write + and the country code, or set a default region".to_owned(),
        Some(problem) => format!(
            "the number has no + and no default region is set, so its digits were read country code first, and so read {problem}; for a national number write + and the country code, or set a default region"
        ),
    }
}

fn digits_in(digits: usize, country_code: Option<u16>, region: Option<&str>) -> String {
    match country_code {
        Some(code) => format!(
            "{digits} digit{} after the country code, for {}",
            if digits == 1 { "" } else { "s" },
            region_of(code, region)
        ),
        None if digits == 1 => "1 digit".to_owned(),
        None => format!("{digits} digits"),
    }
}

fn region_of(country_code: u16, region: Option<&str>) -> String {
    match region {
        Some(region) => format!("region {region} (+{country_code})"),
        None => format!("country code +{country_code}"),
    }
}
