//! Phone numbers as the numbering plan reads them (see [`NumberPolicy`]).
//!
//! The slow path is libphonenumber's own parser (the `phonenumber` crate: 5–20 µs a number,
//! its regular expressions behind one global mutex). Digits with an optional `+` (and spaces,
//! hyphens, dots or parentheses between them) — nearly every input — take a fast path: the same metadata patterns
//! as dense DFAs compiled once per country code, one pass over the digits per pattern (about
//! 50 ns a number). It answers only for a number the parser would read unchanged and find
//! valid, and sends everything else to the parser; a test holds the two to the same answers
//! on the example numbers of every region.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::OnceLock;

use phonenumber::country::Id;
use phonenumber::metadata::{DATABASE, Descriptor, Metadata};
use regex::{Regex, RegexBuilder};
use regex_automata::Anchored;
use regex_automata::dfa::{Automaton, StartKind, dense};
use regex_automata::util::primitives::StateID;
use regex_automata::util::syntax;

use crate::outcome::PhoneNumber;

mod plan;

/// Most digits E.164 allows in a number, country code included.
const E164_MAX_DIGITS: usize = 15;

/// How the facade reads phone numbers: as libphonenumber's metadata reads them, sending a
/// number only when it is a valid number of its country, as E.164 digits without `+` (what
/// every vendor wants). Strict, with no default region, by default.
///
/// - `+` and the country code (`+86 138-0013-8000`, `(+86) 138…`, `+44 (0)7400 123456` →
///   `447400123456`, the `(0)` trunk prefix dropped): international, whatever the default
///   region.
/// - No `+`, with a [default region](Self::with_default_region): as a number dialled in that
///   region — national (`13800138000` in `CN` → `8613800138000`), after the region's
///   international prefix (`0086 138…` in `CN`, `011 86 138…` in `US`), or starting with the
///   region's own country code (`8613800138000` in `CN`).
/// - No `+`, no default region: the digits are read country code first (`8613800138000`, the
///   form vendors and CSV files use) and must then be a valid number; digits starting with 0
///   (a trunk or international prefix: `0086…`, `07400…`) are refused. A national number
///   without its country code can happen to be a valid number of another country (`150 1234
///   5678` in China reads as `+1 501 234 5678`): set a default region for national numbers.
/// - Letters (vanity numbers, extensions), other characters, too short, too long, an
///   unassigned country code, or no range of the numbering plan: refused, with a
///   [`NumberProblem`] that says which.
/// - [Lenient](Self::lenient): a number that is not valid but has a possible length for its
///   country is sent too (ranges newer than the metadata); not for the country-code-first
///   reading of digits without `+` and without a default region.
///
/// ```
/// use smsgate::NumberPolicy;
///
/// let strict = NumberPolicy::default();
/// assert_eq!(strict.normalize("+86 138-0013-8000").unwrap(), "8613800138000");
/// assert!(strict.normalize("13800138000").is_err()); // no country code, no region
///
/// let china = NumberPolicy::default().with_default_region("CN")?;
/// assert_eq!(china.normalize("13800138000").unwrap(), "8613800138000");
/// # Ok::<(), smsgate::NumberPolicyError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumberPolicy {
    region: Option<DefaultRegion>,
    lenient: bool,
}

/// The default region, resolved once.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DefaultRegion {
    id: Id,
    code: u16,
    /// The region's country code as digits.
    code_digits: Box<str>,
}

/// Why a [`NumberPolicy`] cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NumberPolicyError {
    /// The default region is not a region of the numbering-plan metadata.
    #[error(
        "unknown region {region:?}: give an ISO 3166-1 alpha-2 region code such as CN, GB or US"
    )]
    UnknownRegion {
        /// The region as given.
        region: String,
    },
}

pub use smsgate_provider::NumberProblem;

/// Normalises a number the strict way with no default region ([`NumberPolicy::default`]):
/// `+86 138-0013-8000` → `8613800138000`; digits without `+` are read country code first.
pub fn normalize_number(raw: &str) -> Result<String, NumberProblem> {
    NumberPolicy::default()
        .normalize_borrowed(raw)
        .map(Cow::into_owned)
}

impl NumberPolicy {
    /// Reads numbers written without `+` as numbers dialled in `region` (an ISO 3166-1 alpha-2
    /// code, any case: `CN`, `gb`).
    pub fn with_default_region(mut self, region: &str) -> Result<Self, NumberPolicyError> {
        let unknown = || NumberPolicyError::UnknownRegion {
            region: region.to_owned(),
        };
        let id: Id = region.to_ascii_uppercase().parse().map_err(|_| unknown())?;
        let code = plan::code_of(id.as_ref()).ok_or_else(unknown)?;
        self.region = Some(DefaultRegion {
            id,
            code,
            code_digits: code.to_string().into_boxed_str(),
        });
        Ok(self)
    }

    /// Lenient mode (default off): a number that is not valid per the metadata is still sent
    /// when its length is possible for its country — for number ranges newer than the
    /// metadata. Digits without `+` and without a default region must still be valid.
    pub fn lenient(mut self, lenient: bool) -> Self {
        self.lenient = lenient;
        self
    }

    /// The default region, if one is set (`CN`).
    pub fn default_region(&self) -> Option<&str> {
        self.region.as_ref().map(|region| region.id.as_ref())
    }

    /// Whether lenient mode is on.
    pub fn is_lenient(&self) -> bool {
        self.lenient
    }

    /// Compiles the default region's patterns now rather than in the first send (other
    /// country codes are compiled on their first number; libphonenumber's own database loads
    /// only for a number the fast path leaves to its parser).
    pub(crate) fn load_metadata(&self) {
        if let Some(region) = &self.region {
            code_table(region.code);
        }
    }

    /// The number as sent: E.164 digits without `+` (`+44 (0)7400 123456` → `447400123456`),
    /// or why it cannot be sent.
    pub fn normalize(&self, raw: &str) -> Result<PhoneNumber, NumberProblem> {
        self.normalize_borrowed(raw)
            .map(|digits| PhoneNumber::from_normalized(&digits))
    }

    /// [`normalize`](Self::normalize), borrowing from `raw` when it already is the digits
    /// (with or without `+`): the common case copies nothing.
    pub(crate) fn normalize_borrowed<'a>(
        &self,
        raw: &'a str,
    ) -> Result<Cow<'a, str>, NumberProblem> {
        let trimmed = raw.trim();
        if let Some(digits) = self.fast(trimmed) {
            return Ok(digits);
        }
        self.slow(raw).map(Cow::Owned)
    }

    /// The fast path: `Some` only for a number libphonenumber's parser would read to the same
    /// valid digits; `None` sends it to [`slow`](Self::slow).
    fn fast<'a>(&self, trimmed: &'a str) -> Option<Cow<'a, str>> {
        let (plus, body) = match trimmed.strip_prefix('+') {
            Some(body) => (true, body),
            None => (false, trimmed),
        };
        let bytes = body.as_bytes();
        let digits: Cow<'a, str> = if bytes.iter().all(u8::is_ascii_digit) {
            Cow::Borrowed(body)
        } else if bytes
            .first()
            .is_some_and(|b| b.is_ascii_digit() || *b == b'(')
            && bytes.last().is_some_and(u8::is_ascii_digit)
            && bytes
                .iter()
                .all(|b| b.is_ascii_digit() || matches!(b, b' ' | b'-' | b'.' | b'(' | b')'))
        {
            Cow::Owned(body.chars().filter(char::is_ascii_digit).collect())
        } else {
            return None;
        };
        if !(3..=E164_MAX_DIGITS).contains(&digits.len()) || digits.starts_with('0') {
            return None;
        }
        match &self.region {
            Some(region) if !plus => {
                // A number dialled in the default region: national, or (as the parser reads
                // digits that start with the region's country code) that code and a national
                // number.
                let table = code_table(region.code)?;
                let own = table.region(region.id)?;
                let after_prefix = own
                    .starts_with_international_prefix
                    .as_ref()
                    .is_some_and(|prefix| prefix.is_match(&digits));
                if after_prefix {
                    return None;
                }
                let national = digits.strip_prefix(&*region.code_digits).unwrap_or(&digits);
                if national.is_empty()
                    || national.starts_with('0')
                    || table.may_strip_prefix(national)
                    || !table.source_for(national)?.is_valid(national)
                {
                    return None;
                }
                if national.len() < digits.len() {
                    return Some(digits);
                }
                let sent = format!("{}{digits}", region.code);
                (sent.len() <= E164_MAX_DIGITS).then_some(Cow::Owned(sent))
            }
            // International: after `+`, or digits without a region (read country code first).
            _ => {
                let (table, national) = (1..=3).find_map(|len| {
                    let code: u16 = digits.get(..len)?.parse().ok()?;
                    match CODES
                        .get(usize::from(code))?
                        .get_or_init(|| CodeEntry::build(code))
                    {
                        CodeEntry::Unassigned => None,
                        entry => Some((entry, &digits[len..])),
                    }
                })?;
                let CodeEntry::Fast(table) = table else {
                    return None;
                };
                if national.is_empty() || national.starts_with('0') {
                    return None;
                }
                if table.may_strip_prefix(national) {
                    return None;
                }
                table
                    .source_for(national)?
                    .is_valid(national)
                    .then_some(digits)
            }
        }
    }

    /// The slow path: the character check, then libphonenumber's parser and validity check,
    /// and a reason for every refusal.
    fn slow(&self, raw: &str) -> Result<String, NumberProblem> {
        let mut plus = false;
        let mut first_digit = None;
        // Whether anything but blanks and opening parentheses came before: a `+` is only
        // allowed first (`+86 …`, `(+86) …`).
        let mut started = false;
        for (index, c) in raw.chars().enumerate() {
            let position = index + 1;
            match c {
                ' ' | '\u{a0}' | '\t' => continue,
                '(' if !started => continue,
                '0'..='9' => {
                    first_digit.get_or_insert(c);
                }
                '+' if !started => plus = true,
                '-' | '.' | '(' | ')' | '/' => {}
                c if c.is_alphabetic() => {
                    return Err(NumberProblem::Letter {
                        letter: c,
                        position,
                    });
                }
                c => {
                    return Err(NumberProblem::InvalidCharacter {
                        character: c,
                        position,
                    });
                }
            }
            started = true;
        }
        let Some(first_digit) = first_digit else {
            return Err(NumberProblem::Empty);
        };
        // Blanks as plain spaces (the parser does not take every blank as a separator).
        let spaced = if raw.contains(['\u{a0}', '\t']) {
            Cow::Owned(raw.replace(['\u{a0}', '\t'], " "))
        } else {
            Cow::Borrowed(raw)
        };
        let trimmed = spaced.trim();
        match (&self.region, plus) {
            (_, true) => read(trimmed, None, self.lenient),
            (Some(region), false) => match after_international_prefix(region, raw) {
                // The parser would read the rest with the default region's metadata, not its
                // own country's: read it as what it is, `+` and the country code.
                Some(rest) => read(&format!("+{rest}"), None, self.lenient),
                None => read(trimmed, Some(region.id), self.lenient),
            },
            (None, false) if first_digit == '0' => Err(NumberProblem::NoCountryCode {
                read_as_international: None,
            }),
            (None, false) => read(&format!("+{trimmed}"), None, false).map_err(|problem| {
                NumberProblem::NoCountryCode {
                    read_as_international: Some(Box::new(problem)),
                }
            }),
        }
    }
}

/// Whether `+`, `code` and `national` read (with libphonenumber's parser) as that number again.
fn reads_back(code: u16, national: &str) -> bool {
    phonenumber::parse(None, format!("+{code}{national}")).is_ok_and(|number| {
        number.code().value() == code && number.national().to_string() == national
    })
}

/// The digits of `raw` after `region`'s international prefix (`0086…` in `CN`, `011 86…` in
/// `US`), if it starts with one that is not followed by 0.
fn after_international_prefix(region: &DefaultRegion, raw: &str) -> Option<String> {
    let prefix = code_table(region.code)?
        .region(region.id)?
        .international_prefix
        .as_ref()?;
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    let end = prefix.find(&digits)?.end();
    let rest = &digits[end..];
    (!rest.is_empty() && !rest.starts_with('0')).then(|| rest.to_owned())
}

/// The lengths of the national numbers of `meta`'s number types, shortest first.
fn possible_lengths(meta: &Metadata) -> Vec<u16> {
    let mut lengths: Vec<u16> = number_types(meta)
        .into_iter()
        .flatten()
        .flat_map(|d| d.possible_length().iter().copied())
        .collect();
    lengths.sort_unstable();
    lengths.dedup();
    lengths
}

/// The number types libphonenumber knows a valid number by (mobile and fixed line first).
fn number_types(meta: &Metadata) -> [Option<&Descriptor>; 10] {
    let d = meta.descriptors();
    [
        d.mobile(),
        d.fixed_line(),
        d.premium_rate(),
        d.toll_free(),
        d.shared_cost(),
        d.voip(),
        d.personal_number(),
        d.pager(),
        d.uan(),
        d.voicemail(),
    ]
}

/// libphonenumber's reading of `text` (for `region`, if given), the E.164 digits if valid (or,
/// `lenient`, of a possible length), else why not.
fn read(text: &str, region: Option<Id>, lenient: bool) -> Result<String, NumberProblem> {
    let number = phonenumber::parse(region, text).map_err(|error| unparsed(text, error))?;
    let code = number.code().value();
    let national = number.national().to_string();
    // The region of the number, else the main region of its country code.
    let meta = number
        .metadata(&DATABASE)
        .or_else(|| DATABASE.by_code(&code)?.into_iter().next());
    let region_name = || {
        meta.map(Metadata::id)
            .filter(|id| *id != "001")
            .map(str::to_owned)
    };
    let too_long = |digits: usize| NumberProblem::TooLong {
        digits,
        country_code: Some(code),
        region: region_name(),
    };
    let sent = |national: &str| {
        let sent = format!("{code}{national}");
        if sent.len() > E164_MAX_DIGITS {
            Err(too_long(national.len()))
        } else {
            Ok(sent)
        }
    };
    // Valid, and what is sent reads back as the same number: the parser may drop a leading
    // digit as a trunk prefix (`LT`: `+370 0080162008` reads as `+370 80162008`, which reads
    // back as something else again), and digits that do not read as themselves are not sent.
    if phonenumber::is_valid(&number) && reads_back(code, &national) {
        return sent(&national);
    }
    let lengths = meta.map(possible_lengths).unwrap_or_default();
    let possible = |digits: &str| lengths.contains(&u16::try_from(digits.len()).unwrap_or(0));
    // The parser keeps a trunk prefix (`+44 (0)7700 900123`) when it finds no range of the
    // number: drop it as the numbering plan does, when the rest has a possible length.
    let national = match meta
        .and_then(Metadata::national_prefix)
        .and_then(|prefix| national.strip_prefix(prefix))
    {
        Some(rest) if !possible(&national) && possible(rest) => rest,
        _ => &national,
    };
    // Lenient: a possible length is enough, provided the parser reads the digits sent back to
    // the same number — it may take a carrier code off a number that is not valid (`CN`:
    // `+86 11202 5550123`), and what is sent must not read as another number.
    if lenient && possible(national) && reads_back(code, national) {
        return sent(national);
    }
    let digits = national.len();
    let too_short = lengths
        .first()
        .is_some_and(|&shortest| digits < usize::from(shortest));
    let longer = lengths
        .last()
        .is_some_and(|&longest| digits > usize::from(longest));
    Err(if too_short {
        NumberProblem::TooShort {
            digits,
            country_code: Some(code),
            region: region_name(),
        }
    } else if longer {
        too_long(digits)
    } else {
        NumberProblem::NotValid {
            country_code: code,
            region: region_name(),
        }
    })
}

/// Why libphonenumber could not parse `text` at all (no country code is known yet).
fn unparsed(text: &str, error: phonenumber::ParseError) -> NumberProblem {
    let digits = text.chars().filter(char::is_ascii_digit).count();
    match error {
        phonenumber::ParseError::InvalidCountryCode => NumberProblem::InvalidCountryCode,
        phonenumber::ParseError::TooLong => NumberProblem::TooLong {
            digits,
            country_code: None,
            region: None,
        },
        _ => NumberProblem::TooShort {
            digits,
            country_code: None,
            region: None,
        },
    }
}

/// What the fast path knows of one country code.
enum CodeEntry {
    /// No region has this code.
    Unassigned,
    /// The code's regions, their patterns compiled.
    Fast(CodeTable),
    /// A pattern did not compile here: numbers with this code take the slow path.
    SlowOnly,
}

/// One entry per possible country code (1 to 3 digits), filled on first use.
static CODES: [OnceLock<CodeEntry>; 1000] = [const { OnceLock::new() }; 1000];

/// The compiled table of `code`, if it has one.
fn code_table(code: u16) -> Option<&'static CodeTable> {
    match CODES
        .get(usize::from(code))?
        .get_or_init(|| CodeEntry::build(code))
    {
        CodeEntry::Fast(table) => Some(table),
        _ => None,
    }
}

impl CodeEntry {
    fn build(code: u16) -> Self {
        let Some(regions) = plan::regions(code) else {
            return Self::SlowOnly;
        };
        if regions.is_empty() {
            return Self::Unassigned;
        }
        // Every national prefix and carrier-code pattern of the code's regions, in one.
        let strip: Vec<String> = regions
            .iter()
            .flat_map(|region| {
                let parsing = region.national_prefix_for_parsing.map(str::to_owned);
                let prefix = region.national_prefix.map(regex::escape);
                parsing.into_iter().chain(prefix)
            })
            .map(|pattern| format!("(?:{pattern}\n)"))
            .collect();
        let may_strip = if strip.is_empty() {
            None
        } else {
            match Matcher::build(&strip.join("|"), false) {
                Some(matcher) => Some(matcher),
                None => return Self::SlowOnly,
            }
        };
        match regions.iter().map(RegionTable::build).collect() {
            Some(regions) => Self::Fast(CodeTable { regions, may_strip }),
            None => Self::SlowOnly,
        }
    }
}

/// The regions of one country code, in the metadata's order (the main region first).
struct CodeTable {
    regions: Vec<RegionTable>,
    /// Any region's national prefix or carrier-code pattern, at the start.
    may_strip: Option<Matcher>,
}

impl CodeTable {
    /// The region `id`, if it has this code.
    fn region(&self, id: Id) -> Option<&RegionTable> {
        self.regions.iter().find(|r| &*r.id == id.as_ref())
    }

    /// Whether the parser could take a national prefix (or carrier code) off `national`, with
    /// the metadata of any region of the code: then only the parser says what the number is.
    fn may_strip_prefix(&self, national: &str) -> bool {
        self.may_strip
            .as_ref()
            .is_some_and(|strip| strip.is_match(national))
    }

    /// The region `national` belongs to, as libphonenumber finds it (`validator::source_for`;
    /// a region without leading digits is taken when the number is valid there, checked
    /// whole — stricter than the parser's prefix match, so a number taken here is valid
    /// there too).
    fn source_for(&self, national: &str) -> Option<&RegionTable> {
        if let [only] = self.regions.as_slice() {
            return Some(only);
        }
        self.regions
            .iter()
            .find(|region| match &region.leading_digits {
                Some(leading) => leading.is_match(national),
                None => region.is_valid(national),
            })
    }
}

/// One region's patterns.
struct RegionTable {
    id: Box<str>,
    /// At the start, as libphonenumber matches it.
    leading_digits: Option<Matcher>,
    general: Pattern,
    /// The number types libphonenumber knows a valid number by (mobile and fixed line first),
    /// each with whether the general pattern must be checked too (`false`: every number of
    /// the type matches it, as the metadata means it to).
    types: Vec<(Pattern, bool)>,
    /// At the start, as libphonenumber matches it (where it ends: the slow path).
    international_prefix: Option<Regex>,
    /// The same, whether it matches (the fast path).
    starts_with_international_prefix: Option<Matcher>,
}

impl RegionTable {
    fn build(region: &plan::Region<'_>) -> Option<Self> {
        let general = Pattern::build(&region.general)?;
        let types = region
            .types
            .iter()
            .flatten()
            .map(|descriptor| {
                let pattern = Pattern::build(descriptor)?;
                let needs_general = !general.pattern.contains(&pattern.pattern);
                Some((pattern, needs_general))
            })
            .collect::<Option<_>>()?;
        Some(Self {
            id: region.id.into(),
            leading_digits: match region.leading_digits {
                Some(leading) => Some(Matcher::build(leading, false)?),
                None => None,
            },
            general,
            types,
            international_prefix: match region.international_prefix {
                Some(prefix) => Some(anchored(prefix)?),
                None => None,
            },
            starts_with_international_prefix: match region.international_prefix {
                Some(prefix) => Some(Matcher::build(prefix, false)?),
                None => None,
            },
        })
    }

    /// Whether a number of this region has a type (libphonenumber's `number_type` is not
    /// `Unknown`): valid. The patterns are matched whole (libphonenumber's own definition;
    /// the parser accepts a match of a prefix of the right length): never valid here and not
    /// there.
    fn is_valid(&self, national: &str) -> bool {
        self.types.iter().any(|(pattern, needs_general)| {
            pattern.is_match(national) && (!needs_general || self.general.is_match(national))
        })
    }
}

/// A number-type pattern with its possible lengths (`Descriptor::is_match`).
struct Pattern {
    pattern: Matcher,
    lengths: Box<[u16]>,
}

impl Pattern {
    fn build(descriptor: &plan::Descriptor<'_>) -> Option<Self> {
        Some(Self {
            pattern: Matcher::build(descriptor.pattern, true)?,
            lengths: descriptor.lengths.clone().into_boxed_slice(),
        })
    }

    fn is_match(&self, national: &str) -> bool {
        (self.lengths.is_empty()
            || u16::try_from(national.len()).is_ok_and(|len| self.lengths.contains(&len)))
            && self.pattern.is_match(national)
    }
}

/// `source` matching at the start of the text only, with the metadata's syntax (whitespace
/// ignored): the same answer as libphonenumber's "a match that starts at 0" (leftmost search).
fn anchored(source: &str) -> Option<Regex> {
    RegexBuilder::new(&format!("^(?:{source}\n)"))
        .ignore_whitespace(true)
        .build()
        .ok()
}

/// Most bytes one fast-path automaton may take (beyond it, a regular expression does the job).
const DFA_SIZE_LIMIT: usize = 1 << 20;

/// A metadata pattern compiled for the fast path: a dense DFA run from the start of the text
/// (a few nanoseconds a digit, no per-call set-up), or a regular expression when the DFA would
/// be too big.
enum Matcher {
    Dfa {
        dfa: Box<dense::DFA<Vec<u32>>>,
        /// The anchored start state (the patterns look at nothing before the text).
        start: StateID,
    },
    Regex(Regex),
}

impl Matcher {
    /// `source` matching at the start of the text (`whole`: the whole text).
    fn build(source: &str, whole: bool) -> Option<Self> {
        let end = if whole { "$" } else { "" };
        let dfa = dense::Builder::new()
            .syntax(
                syntax::Config::new()
                    .ignore_whitespace(true)
                    .unicode(false)
                    .utf8(false),
            )
            .configure(
                dense::Config::new()
                    .start_kind(StartKind::Anchored)
                    .dfa_size_limit(Some(DFA_SIZE_LIMIT))
                    .determinize_size_limit(Some(2 * DFA_SIZE_LIMIT)),
            )
            .build(&format!("(?:{source}\n){end}"));
        let dfa = dfa.ok().and_then(|dfa| {
            let start = dfa.universal_start_state(Anchored::Yes)?;
            Some(Self::Dfa {
                dfa: Box::new(dfa),
                start,
            })
        });
        match dfa {
            Some(dfa) => Some(dfa),
            None => RegexBuilder::new(&format!("^(?:{source}\n){end}"))
                .ignore_whitespace(true)
                .build()
                .ok()
                .map(Self::Regex),
        }
    }

    fn is_match(&self, text: &str) -> bool {
        match self {
            Self::Dfa { dfa, start } => {
                // A match is seen one byte after it ends, or at the end of the text.
                let mut state = *start;
                for &byte in text.as_bytes() {
                    state = dfa.next_state(state, byte);
                    if dfa.is_special_state(state) {
                        if dfa.is_match_state(state) {
                            return true;
                        }
                        if dfa.is_dead_state(state) {
                            return false;
                        }
                    }
                }
                dfa.is_match_state(dfa.next_eoi_state(state))
            }
            Self::Regex(regex) => regex.is_match(text),
        }
    }

    /// Whether every string of digits `inner` matches whole, `self` matches whole too (both
    /// automata, explored together over the digits; `false` when unsure).
    fn contains(&self, inner: &Matcher) -> bool {
        const MOST_STATES: usize = 1 << 16;
        let (
            Self::Dfa {
                dfa: outer,
                start: outer_start,
            },
            Self::Dfa {
                dfa: inner,
                start: inner_start,
            },
        ) = (self, inner)
        else {
            return false;
        };
        let mut seen = HashSet::from([(*inner_start, *outer_start)]);
        let mut queue = vec![(*inner_start, *outer_start)];
        while let Some((i, o)) = queue.pop() {
            if inner.is_match_state(inner.next_eoi_state(i))
                && !outer.is_match_state(outer.next_eoi_state(o))
            {
                return false;
            }
            for digit in b'0'..=b'9' {
                let next_inner = inner.next_state(i, digit);
                if inner.is_dead_state(next_inner) {
                    continue;
                }
                let pair = (next_inner, outer.next_state(o, digit));
                if seen.insert(pair) {
                    if seen.len() > MOST_STATES {
                        return false;
                    }
                    queue.push(pair);
                }
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slow path alone (libphonenumber's parser), for comparison with the fast path.
    fn slow(policy: &NumberPolicy, raw: &str) -> Result<String, NumberProblem> {
        policy.slow(raw)
    }

    /// The example mobile and fixed-line numbers of every region, with and without `+` (read
    /// without a default region) into `inputs`, and national in the default regions into
    /// `national`.
    fn region_examples(inputs: &mut Vec<String>, national: &mut Vec<String>) {
        for meta in DATABASE.iter() {
            let d = meta.descriptors();
            for example in [d.mobile(), d.fixed_line()]
                .into_iter()
                .flatten()
                .filter_map(Descriptor::example)
            {
                let code = meta.country_code();
                inputs.push(format!("+{code}{example}"));
                inputs.push(format!("{code}{example}"));
                // Formatted: parentheses, dots, hyphens and spaces between the digits.
                if example.len() > 5 {
                    let (head, tail) = example.split_at(3);
                    let (middle, last) = tail.split_at(tail.len() / 2);
                    inputs.push(format!("+{code} ({head}) {middle}-{last}"));
                    inputs.push(format!("+{code}.{head}.{middle}.{last}"));
                    inputs.push(format!("({code}) {head} {middle} {last}"));
                    if ["CN", "US", "GB", "CA", "JM"].contains(&meta.id()) {
                        national.push(format!("({head}) {middle}-{last}"));
                        national.push(format!("{head}.{middle}.{last}"));
                    }
                }
                if ["CN", "US", "GB", "CA", "JM"].contains(&meta.id()) {
                    national.push(example.to_owned());
                    national.push(format!("{}{example}", meta.country_code()));
                }
            }
        }
    }

    #[test]
    fn fast_and_slow_paths_agree() {
        let none = NumberPolicy::default();
        let cn = NumberPolicy::default().with_default_region("CN").unwrap();
        let us = NumberPolicy::default().with_default_region("US").unwrap();
        let gb = NumberPolicy::default().with_default_region("GB").unwrap();
        let mut inputs: Vec<String> = [
            "+8613800138000",
            "8613800138000",
            "+86 138-0013-8000",
            "13800138000",
            "15012345678",
            "+12015550123",
            "12015550123",
            "2015550123",
            "+18765550123",
            "+447400123456",
            "7400123456",
            "+4915123456789",
            "+33612345678",
            "+5511912345678",
            "+919876543210",
            "+390236618300",
            "+79123456789",
            "+5491123456789",
            "+8617951138001",
            "+861795113800",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let mut national: Vec<String> = Vec::new();
        region_examples(&mut inputs, &mut national);
        let mut fast_hits = 0;
        let mut check = |policy: &NumberPolicy, raw: &str| {
            if let Some(fast) = policy.fast(raw.trim()) {
                fast_hits += 1;
                assert_eq!(
                    Ok(fast.to_string()),
                    slow(policy, raw),
                    "{raw} with {policy:?}"
                );
            }
        };
        for raw in &inputs {
            check(&none, raw);
        }
        for policy in [&cn, &us, &gb] {
            for raw in inputs.iter().take(20).chain(&national) {
                check(policy, raw);
            }
        }
        assert!(fast_hits > 400, "the fast path took only {fast_hits}");
    }

    #[test]
    fn every_country_code_has_a_fast_path_table() {
        let mut codes: Vec<u16> = DATABASE.iter().map(Metadata::country_code).collect();
        codes.sort_unstable();
        codes.dedup();
        let (mut dfas, mut regexes) = (0, 0);
        for code in codes {
            let table = code_table(code).unwrap_or_else(|| panic!("+{code} has no table"));
            for region in &table.regions {
                for pattern in
                    std::iter::once(&region.general).chain(region.types.iter().map(|(t, _)| t))
                {
                    match pattern.pattern {
                        Matcher::Dfa { .. } => dfas += 1,
                        Matcher::Regex(_) => regexes += 1,
                    }
                }
            }
        }
        // Nearly every pattern is an automaton.
        assert!(
            regexes * 100 <= dfas,
            "{dfas} automata, {regexes} regular expressions"
        );
        // Nearly every number type lies within its region's general pattern, so that the fast
        // path checks one pattern a number.
        let types: Vec<bool> = (1..1000)
            .filter_map(code_table)
            .flat_map(|table| &table.regions)
            .flat_map(|region| region.types.iter().map(|(_, needs_general)| *needs_general))
            .collect();
        let needing = types.iter().filter(|needs| **needs).count();
        assert!(
            needing * 10 <= types.len(),
            "{needing} of {} types",
            types.len()
        );
        let cn = code_table(86).unwrap();
        assert!(
            cn.regions[0]
                .types
                .iter()
                .all(|(_, needs_general)| !needs_general)
        );
    }

    #[test]
    fn the_fast_path_borrows_plain_digits() {
        let policy = NumberPolicy::default();
        assert!(matches!(
            policy.normalize_borrowed("+8613800138000"),
            Ok(Cow::Borrowed("8613800138000"))
        ));
        assert!(matches!(
            policy.normalize_borrowed("8613800138000"),
            Ok(Cow::Borrowed("8613800138000"))
        ));
    }
}
