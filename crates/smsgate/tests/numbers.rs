//! Numbers as the numbering plan reads them (libphonenumber metadata): valid numbers only,
//! E.164 digits without `+`, a default region for national numbers, lenient mode, a reason for
//! every refusal — and the facade refusing control characters in a text before any traffic.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic by design

use std::sync::{Arc, Mutex};

use smsgate::provider::{BoxFuture, Capacity, Entry, EntryVerdict, Submission};
use smsgate::{
    Message, NumberPolicy, NumberPolicyError, NumberProblem, Outcome, Provider, RejectKind,
    SmsGate, normalize_number,
};

fn strict(raw: &str) -> Result<String, NumberProblem> {
    NumberPolicy::default()
        .normalize(raw)
        .map(|number| number.to_string())
}

fn in_region(region: &str, raw: &str) -> Result<String, NumberProblem> {
    NumberPolicy::default()
        .with_default_region(region)
        .unwrap()
        .normalize(raw)
        .map(|number| number.to_string())
}

fn lenient(raw: &str) -> Result<String, NumberProblem> {
    NumberPolicy::default()
        .lenient(true)
        .normalize(raw)
        .map(|number| number.to_string())
}

fn ok(digits: &str) -> Result<String, NumberProblem> {
    Ok(digits.to_owned())
}

#[test]
fn the_examples_of_the_issue() {
    // A leading 00 is not taken as `+` without a region: no country code starts with 0.
    assert_eq!(
        strict("0009876543210"),
        Err(NumberProblem::NoCountryCode {
            read_as_international: None
        })
    );
    // With a region whose international prefix is 00, 000… is not an international number
    // either, and as a national number it is not valid.
    assert!(in_region("DE", "0009876543210").is_err());
    assert_eq!(strict("+0000000"), Err(NumberProblem::InvalidCountryCode));
    assert_eq!(
        strict("00000000000000000"),
        Err(NumberProblem::NoCountryCode {
            read_as_international: None
        })
    );
    // The (0) trunk prefix is dropped as the numbering plan does.
    assert_eq!(strict("+44 (0)7400 123456"), ok("447400123456"));
    // 07700 900xxx is Ofcom's range for drama: no number of the metadata, so only lenient
    // mode sends it — without the (0).
    assert_eq!(
        strict("+44 (0)7700 900123"),
        Err(NumberProblem::NotValid {
            country_code: 44,
            region: Some("GB".to_owned())
        })
    );
    assert_eq!(lenient("+44 (0)7700 900123"), ok("447700900123"));
    // No country code, no region: refused, with what to do.
    let refused = strict("13800138000").unwrap_err();
    assert!(
        matches!(
            &refused,
            NumberProblem::NoCountryCode {
                read_as_international: Some(_)
            }
        ),
        "{refused:?}"
    );
    assert!(
        refused
            .to_string()
            .contains("write + and the country code, or set a default region"),
        "{refused}"
    );
    assert_eq!(in_region("CN", "13800138000"), ok("8613800138000"));
}

#[test]
fn valid_and_invalid_numbers_of_several_regions() {
    let table: &[(&str, Option<&str>)] = &[
        // China, mobile.
        ("+86 138 0013 8000", Some("8613800138000")),
        ("+86 (138) 0013.8000", Some("8613800138000")),
        ("(+86) 138 0013 8000", Some("8613800138000")),
        ("+86\u{a0}138-0013-8000", Some("8613800138000")),
        ("+86 138 0013 800", None),
        ("+86 138 0013 80000", None),
        // United Kingdom, mobile, with and without the trunk prefix.
        ("+44 7400 123456", Some("447400123456")),
        ("+44 (0)7400 123456", Some("447400123456")),
        ("+44 07400 123456", Some("447400123456")),
        ("+44 7400 12345", None),
        // United States.
        ("+1 (201) 555-0123", Some("12015550123")),
        ("+1 650 253 0000", Some("16502530000")),
        ("+1 101 555 0123", None),
        ("+1 201 555 012", None),
        // Germany, mobile.
        ("+49 151 23456789", Some("4915123456789")),
        ("+49 (0)151 23456789", Some("4915123456789")),
        ("+49 151 234", None),
        // India, mobile (and the vendor documents' nine-digit example).
        ("+91 98765 43210", Some("919876543210")),
        ("+91 856321412", None),
        // France, mobile.
        ("+33 6 12 34 56 78", Some("33612345678")),
        ("+33 (0)6 12 34 56 78", Some("33612345678")),
        ("+33 6 12 34 56", None),
        // Brazil, mobile.
        ("+55 11 91234-5678", Some("5511912345678")),
        ("+55 11 1234", None),
        // Italy keeps its leading zero.
        ("+39 02 3661 8300", Some("390236618300")),
        // Japan, Russia, Argentina (mobile, with its 9).
        ("+81 90 1234 5678", Some("819012345678")),
        ("+7 912 345 67 89", Some("79123456789")),
        ("+54 9 11 2345 6789", Some("5491123456789")),
        // Country codes: unassigned, or starting with 0.
        ("+999 1234 5678", None),
        ("+0 1234 5678", None),
    ];
    for (raw, expected) in table {
        let got = strict(raw);
        match expected {
            Some(digits) => assert_eq!(got, ok(digits), "{raw}"),
            None => assert!(got.is_err(), "{raw} → {got:?}"),
        }
    }
}

#[test]
fn digits_without_plus_and_without_region_are_read_country_code_first() {
    // The form vendors use and CSV files carry: accepted because it is a valid international
    // number so read, not because it is digits.
    assert_eq!(strict("8613800138000"), ok("8613800138000"));
    assert_eq!(strict("86 138 0013 8000"), ok("8613800138000"));
    assert_eq!(strict("447400123456"), ok("447400123456"));
    assert_eq!(normalize_number("8613800138000"), ok("8613800138000"));
    // The documented limit of that reading: a Chinese national number that happens to be a
    // valid +1 number goes to +1. A default region reads it as meant.
    assert_eq!(strict("15012345678"), ok("15012345678"));
    assert_eq!(in_region("CN", "15012345678"), ok("8615012345678"));
    // Not valid so read: refused, saying so.
    for raw in ["13800138000", "91856321412", "8613800", "07400 123456"] {
        let problem = strict(raw).unwrap_err();
        assert!(
            matches!(problem, NumberProblem::NoCountryCode { .. }),
            "{raw}: {problem:?}"
        );
    }
}

#[test]
fn a_default_region_reads_national_and_international_prefix_forms() {
    assert_eq!(in_region("CN", "138 0013 8000"), ok("8613800138000"));
    assert_eq!(in_region("CN", "0086 138 0013 8000"), ok("8613800138000"));
    assert_eq!(in_region("CN", "8613800138000"), ok("8613800138000"));
    // `+` is international whatever the region.
    assert_eq!(in_region("CN", "+44 7400 123456"), ok("447400123456"));
    assert_eq!(in_region("US", "(201) 555-0123"), ok("12015550123"));
    assert_eq!(in_region("US", "011 86 138 0013 8000"), ok("8613800138000"));
    assert_eq!(in_region("GB", "07400 123456"), ok("447400123456"));
    assert_eq!(in_region("gb", "07400 123456"), ok("447400123456"));
    assert_eq!(in_region("DE", "0151 23456789"), ok("4915123456789"));
    assert_eq!(in_region("IN", "098765 43210"), ok("919876543210"));
    assert_eq!(in_region("FR", "06 12 34 56 78"), ok("33612345678"));
    assert_eq!(in_region("BR", "(11) 91234-5678"), ok("5511912345678"));
    // A national number of another country is not one of the region.
    assert_eq!(
        in_region("GB", "13800138000"),
        Err(NumberProblem::TooLong {
            digits: 11,
            country_code: Some(44),
            region: Some("GB".to_owned())
        })
    );
    let policy = NumberPolicy::default().with_default_region("cn").unwrap();
    assert_eq!(policy.default_region(), Some("CN"));
    assert_eq!(NumberPolicy::default().default_region(), None);
    assert_eq!(
        NumberPolicy::default().with_default_region("XX"),
        Err(NumberPolicyError::UnknownRegion {
            region: "XX".to_owned()
        })
    );
    assert!(NumberPolicy::default().with_default_region("").is_err());
    assert!(NumberPolicy::default().with_default_region("001").is_err());
    assert!(
        NumberPolicyError::UnknownRegion {
            region: "XX".to_owned()
        }
        .to_string()
        .contains("ISO 3166-1 alpha-2")
    );
}

#[test]
fn lenient_mode_checks_the_length_only() {
    // Possible length for the United Kingdom, but no range of the metadata.
    assert!(strict("+44 7700 900123").is_err());
    assert_eq!(lenient("+44 7700 900123"), ok("447700900123"));
    let policy = NumberPolicy::default().lenient(true);
    assert!(policy.is_lenient() && !NumberPolicy::default().is_lenient());
    // Still refused: impossible lengths, bad country codes, letters.
    assert!(lenient("+44 7700 9001").is_err());
    assert!(lenient("+44 7700 900123 4").is_err());
    assert_eq!(lenient("+0000000"), Err(NumberProblem::InvalidCountryCode));
    assert!(lenient("+999 1234 5678").is_err());
    assert!(matches!(
        lenient("+1 800 FLOWERS"),
        Err(NumberProblem::Letter { .. })
    ));
    // Digits without `+` and without a region must be valid read country code first: lenient
    // mode does not make a national number (here Chinese) a possible +1 number.
    assert!(lenient("13800138000").is_err());
    let lenient_cn = NumberPolicy::default()
        .with_default_region("CN")
        .unwrap()
        .lenient(true);
    assert_eq!(
        lenient_cn.normalize("13800138000").unwrap(),
        "8613800138000"
    );
}

#[test]
fn lenient_mode_sends_only_digits_that_read_back_the_same() {
    // In `CN`, libphonenumber's parser takes a carrier code (`1[12]xxx`, `179xx`) off a number
    // that is not valid: what lenient mode sends must read as itself again.
    let china = NumberPolicy::default()
        .with_default_region("CN")
        .unwrap()
        .lenient(true);
    for policy in [china, NumberPolicy::default().lenient(true)] {
        for raw in [
            "0112025550123",
            "+86 11202 5550123",
            "+86125931234567",
            "+44 (0)7700 900123",
        ] {
            if let Ok(number) = policy.normalize(raw) {
                assert_eq!(
                    policy.normalize(&format!("+{number}")),
                    Ok(number),
                    "{raw} with {policy:?}"
                );
            }
        }
    }
}

#[test]
fn every_refusal_says_what_is_wrong() {
    let reason = |raw: &str| strict(raw).unwrap_err().to_string();
    assert_eq!(
        strict("+1 800 FLOWERS"),
        Err(NumberProblem::Letter {
            letter: 'F',
            position: 8
        })
    );
    assert!(reason("+86 138 0013 8000 x12").contains("the letter 'x' at character 19"));
    assert!(reason("tel:+8613800138000").contains("letter 't'"));
    assert_eq!(
        strict("+8613800138000;ext=1"),
        Err(NumberProblem::InvalidCharacter {
            character: ';',
            position: 15
        })
    );
    assert_eq!(
        strict("86+13800138000"),
        Err(NumberProblem::InvalidCharacter {
            character: '+',
            position: 3
        })
    );
    assert_eq!(strict(""), Err(NumberProblem::Empty));
    assert_eq!(reason("+1 ("), "the number is too short: 1 digit");
    // Digits other than ASCII ones are not read.
    assert!(matches!(
        strict("８６１３８００１３８０００"),
        Err(NumberProblem::InvalidCharacter {
            character: '８',
            position: 1
        })
    ));
    assert_eq!(strict(" ( ) - "), Err(NumberProblem::Empty));
    assert!(reason("+999 1234 5678").contains("country code"));
    assert!(reason("+86 138 00").contains("too short"));
    assert!(reason("+86 138 00").contains("5 digits after the country code, for region CN (+86)"));
    assert!(reason("+49 151 2345 6789 0123 45").contains("too long"));
    assert_eq!(
        reason("+44 7700 900123"),
        "the number is not a valid number for region GB (+44)"
    );
    assert_eq!(
        reason("+1 101 555 0123"),
        "the number is not a valid number for region US (+1)"
    );
    assert!(reason("0044 7400 123456").contains("starts with 0"));
    assert!(reason("0044 7400 123456").contains("set a default region"));
}

/// A provider that accepts everything and records the numbers and texts it was given.
#[derive(Default)]
struct Recorder {
    sent: Arc<Mutex<Vec<(String, String)>>>,
}

impl Provider for Recorder {
    fn name(&self) -> &str {
        "recorder"
    }

    fn capacity(&self) -> Capacity {
        Capacity {
            uniform_recipients: 100,
            mixed_recipients: 100,
            max_content_chars: 1000,
            max_sender_id_chars: None,
        }
    }

    fn submit<'a>(&'a self, entries: &'a [Entry<'a>], _uniform: bool) -> BoxFuture<'a, Submission> {
        self.sent.lock().unwrap().extend(
            entries
                .iter()
                .map(|e| (e.number.to_owned(), e.content.to_owned())),
        );
        let verdicts = (0..entries.len())
            .map(|i| (i, EntryVerdict::Accepted(format!("id-{i}"))))
            .collect();
        Box::pin(async move {
            Submission::Answered {
                verdicts,
                unlisted: EntryVerdict::Unknown("not listed".to_owned()),
            }
        })
    }
}

#[tokio::test]
async fn the_gate_sends_numbers_as_its_policy_reads_them() {
    let recorder = Recorder::default();
    let sent = Arc::clone(&recorder.sent);
    let gate = SmsGate::builder()
        .provider(recorder)
        .number_policy(NumberPolicy::default().with_default_region("CN").unwrap())
        .build();
    let input = [
        Message::new("138 0013 8000", "a"),
        Message::new("+44 (0)7400 123456", "b"),
        Message::new("0009876543210", "c"),
    ];
    let report = gate.send(&input).await;
    assert!(report.deliveries[0].outcome.is_accepted());
    assert_eq!(
        report.deliveries[0].number.as_deref(),
        Some("8613800138000")
    );
    assert!(report.deliveries[1].outcome.is_accepted());
    let Outcome::Rejected {
        provider: None,
        reason,
        retry_safe: false,
    } = &report.deliveries[2].outcome
    else {
        panic!("{:?}", report.deliveries[2].outcome);
    };
    assert!(
        matches!(reason.kind, RejectKind::InvalidNumber(_)),
        "{:?}",
        reason.kind
    );
    assert!(reason.text.contains("region CN"), "{}", reason.text);
    assert_eq!(
        *sent.lock().unwrap(),
        [
            ("8613800138000".to_owned(), "a".to_owned()),
            ("447400123456".to_owned(), "b".to_owned())
        ]
    );

    // The default policy: strict, no region.
    let report = SmsGate::builder()
        .provider(Recorder::default())
        .build()
        .send(&input)
        .await;
    assert!(report.deliveries[0].outcome.is_rejected());
    assert!(report.deliveries[1].outcome.is_accepted());
}

#[test]
fn preview_and_dry_run_read_numbers_with_the_same_policy() {
    let client = smsgate::itniotech::Client::builder()
        .api_key("k")
        .api_secret("s")
        .app_id("a")
        .base_url("http://127.0.0.1:9")
        .build()
        .unwrap();
    let gate = SmsGate::builder()
        .provider(client)
        .number_policy(NumberPolicy::default().with_default_region("GB").unwrap())
        .build();
    let input = [
        Message::new("07400 123456", "hi"),
        Message::new("07700 900123", "hi"),
    ];
    let preview = gate.preview(&input);
    assert_eq!(preview.messages[0].number.as_deref(), Some("447400123456"));
    assert!(preview.messages[0].rejected.is_none());
    let rejected = preview.messages[1].rejected.as_ref().unwrap();
    assert!(
        matches!(rejected.kind, RejectKind::InvalidNumber(_)),
        "{:?}",
        rejected.kind
    );
    assert_eq!(
        rejected.text,
        "the number is not a valid number for region GB (+44)"
    );
    let dry_run = gate.dry_run(&input);
    assert_eq!(dry_run.len(), 1);
    assert_eq!(dry_run[0].messages, [0]);
    let request = dry_run[0].request.as_ref().unwrap();
    let body = String::from_utf8_lossy(request.body.as_deref().unwrap_or_default());
    assert!(body.contains("447400123456"), "{body}");
    assert!(!body.contains("07400"), "{body}");
}

#[tokio::test]
async fn control_characters_in_the_text_are_refused_before_any_traffic() {
    let recorder = Recorder::default();
    let sent = Arc::clone(&recorder.sent);
    let gate = SmsGate::builder().provider(recorder).build();
    let input = [
        Message::new("+8613800138000", "code\0"),
        Message::new("+8613800138001", "\u{1b}[31mred"),
        Message::new("+8613800138002", "del\u{7f}"),
        Message::new("+8613800138003", "tab\there\r\nnext line\n"),
    ];
    let report = gate.send(&input).await;
    let reasons: Vec<String> = report.deliveries[..3]
        .iter()
        .map(|d| match &d.outcome {
            Outcome::Rejected {
                provider: None,
                reason,
                retry_safe: false,
            } if reason.kind == RejectKind::InvalidContent => reason.text.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(reasons[0].starts_with("the text contains U+0000 at character 5"));
    assert!(reasons[1].starts_with("the text contains U+001B at character 1"));
    assert!(reasons[2].starts_with("the text contains U+007F at character 4"));
    assert!(report.deliveries[3].outcome.is_accepted());
    assert_eq!(
        *sent.lock().unwrap(),
        [(
            "8613800138003".to_owned(),
            "tab\there\r\nnext line\n".to_owned()
        )]
    );
    // Preview says the same.
    let preview = gate.preview(&input);
    assert!(
        preview.messages[0]
            .rejected
            .as_ref()
            .unwrap()
            .text
            .contains("U+0000")
    );
    assert!(preview.messages[3].rejected.is_none());
}
