//! Robustness invariants of everything that reads untrusted input: the vendors' response
//! decoders, the delivery-report push parsers and number parsing.
//!
//! Each `check_*` function runs one input through the code under test and panics (with the
//! input in the message) when an invariant breaks; it never panics otherwise. The fuzz targets
//! in `fuzz/fuzz_targets/` and the bounded property tests in `tests/robustness.rs` both call
//! these functions, so the invariants are written once.

use std::sync::OnceLock;

use bytes::Bytes;
use smsgate::{DeliveryClass, NumberPolicy, NumberProblem, normalize_number};
use smsgate_transport::client::decode;
use smsgate_transport::endpoint::Endpoint;
use smsgate_transport::error::BODY_EXCERPT_LIMIT;
use smsgate_transport::http::{RawResponse, decode_json};
use smsgate_transport::spec::{CodeTable, ErrorClass, Operation};

/// HTTP statuses a fuzz input can select (see [`split_status`]): success, the other 2xx, and
/// the 1xx/3xx/4xx/5xx answers a broken or hostile server may give.
pub const STATUSES: [u16; 16] = [
    200, 201, 204, 299, 100, 199, 300, 302, 400, 401, 404, 429, 500, 502, 503, 599,
];

/// The HTTP status and body a fuzz input stands for: an input starting with `0xFF` takes the
/// status from its second byte (an index into [`STATUSES`]) and the body from the rest;
/// anything else is a 200 answer whose body is the whole input (so vendor fixtures seed the
/// corpus as they are).
pub fn split_status(data: &[u8]) -> (u16, &[u8]) {
    match data {
        [0xFF, selector, body @ ..] => (STATUSES[usize::from(*selector) % STATUSES.len()], body),
        _ => (200, data),
    }
}

/// What a check saw, so that property tests can tell accepted from refused inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The input was read (a receipt, a push, a number).
    Accepted,
    /// The input was refused with an error.
    Refused,
}

impl Verdict {
    fn of<T, E>(result: &Result<T, E>) -> Self {
        if result.is_ok() {
            Self::Accepted
        } else {
            Self::Refused
        }
    }
}

/// Most bytes a decoder error's `Display` may take: its fixed words plus an excerpt of the body
/// ([`BODY_EXCERPT_LIMIT`] bytes, `Debug`-escaped: a control byte takes six) or a decoder
/// message cut to the same size.
pub const ERROR_DISPLAY_LIMIT: usize = 8 * BODY_EXCERPT_LIMIT;

/// The invariants every decoder error holds for an answer with `status` and `body`: a non-2xx
/// status is `UnexpectedStatus` (that status, an excerpt of at most [`BODY_EXCERPT_LIMIT`]
/// bytes, invalid UTF-8 included); a 2xx answer fails only as `Undecodable` (keeping the exact
/// body) or as a `Vendor` error whose code is not a success. Its `Display` never panics and stays within
/// [`ERROR_DISPLAY_LIMIT`] (an `Undecodable` message once quoted hostile body strings whole).
fn check_decoder_error<C: CodeTable<Class = ErrorClass>>(
    status: u16,
    body: &[u8],
    err: &smsgate_transport::Error<C>,
) {
    use smsgate_transport::Error;
    let context = || format!("status {status}, body {:?}", String::from_utf8_lossy(body));
    let display = err.to_string();
    assert!(
        display.len() <= ERROR_DISPLAY_LIMIT,
        "error of {} bytes: {}",
        display.len(),
        context()
    );
    let success = (200..300).contains(&status);
    match err {
        Error::UnexpectedStatus {
            status: seen,
            body_excerpt,
            ..
        } => {
            assert!(!success, "2xx answer reported as unexpected: {}", context());
            assert_eq!(*seen, status, "status changed: {}", context());
            assert!(
                body_excerpt.len() <= BODY_EXCERPT_LIMIT,
                "excerpt of {} bytes: {}",
                body_excerpt.len(),
                context()
            );
        }
        Error::Undecodable {
            status: seen, raw, ..
        } => {
            assert!(success, "non-2xx answer decoded: {}", context());
            assert_eq!(*seen, status, "status changed: {}", context());
            assert_eq!(&raw[..], body, "raw body not kept: {}", context());
        }
        Error::Vendor { code, .. } => {
            assert!(success, "non-2xx answer decoded: {}", context());
            assert_ne!(
                code.class(),
                ErrorClass::Success,
                "success code reported as an error: {}",
                context()
            );
        }
        other => panic!("decoder returned {other:?}: {}", context()),
    }
}

fn raw_response(status: u16, body: &[u8]) -> RawResponse {
    RawResponse {
        status,
        body: Bytes::copy_from_slice(body),
    }
}

/// The `sendSms` / `sendSms/batch` decoder of one onbuka brand (itniotech, laaffic: the
/// generated endpoint `E` and its status table), against a model of what it must do: `Ok`
/// exactly when the status is 2xx, the body is a `SendSmsResponse` and its status code is a
/// success; then the answer is the plain serde reading of the body, every listed number kept
/// in order (the verdicts, counts included, are the platform's: `smsgate_onbuka`).
fn check_onbuka_send<E>(status: u16, body: &[u8]) -> Verdict
where
    E: Endpoint<Response = smsgate_onbuka::models::SendSmsResponse>,
{
    let raw = raw_response(status, body);
    let result = decode::<E>(&raw);
    let model = serde_json::from_slice::<smsgate_onbuka::models::SendSmsResponse>(body).ok();
    let context = || format!("status {status}, body {:?}", String::from_utf8_lossy(body));
    match &result {
        Ok(answer) => {
            let model = model.unwrap_or_else(|| panic!("accepted a non-body: {}", context()));
            assert!((200..300).contains(&status), "accepted {}", context());
            assert_eq!(
                E::Code::from_code(&model.status).class(),
                ErrorClass::Success,
                "accepted a failure status: {}",
                context()
            );
            assert_eq!(answer, &model, "{}", context());
            assert_eq!(answer.array.len(), model.array.len(), "{}", context());
            for (entry, listed) in answer.array.iter().zip(&model.array) {
                assert_eq!(entry.msg_id, listed.msg_id, "{}", context());
                assert_eq!(entry.number, listed.number, "{}", context());
            }
        }
        Err(err) => {
            check_decoder_error(status, body, err);
            if let (Some(model), true) = (&model, (200..300).contains(&status)) {
                assert!(
                    matches!(err, smsgate_transport::Error::Vendor { .. }),
                    "a SendSmsResponse body refused other than as a vendor error: {err:?}, {}",
                    context()
                );
                assert_ne!(
                    E::Code::from_code(&model.status).class(),
                    ErrorClass::Success,
                    "success status refused: {err:?}, {}",
                    context()
                );
            }
        }
    }
    Verdict::of(&result)
}

/// Response decoders of every vendor on one answer (`status`, `body`): the generated
/// endpoints itniotech `sendSms`, laaffic `sendSms/batch` and nxcloud `sendMulti`, each through
/// `smsgate_transport::client::decode`, and the transport's `decode_json` into
/// every other response model (balance, report, nxcloud `mt`). Never panics; every error
/// holds the decoder-error invariants; every success agrees with a plain serde reading of the
/// body, and models of strings survive a serialise/deserialise round trip. `Accepted` when at
/// least one decoder read the answer.
pub fn check_response_decoders(status: u16, body: &[u8]) -> Verdict {
    let verdicts = [
        check_onbuka_send::<smsgate_itniotech::generated::client::SendSms<'_, '_>>(status, body),
        check_onbuka_send::<smsgate_laaffic::generated::client::SendBatch<'_, '_>>(status, body),
        check_nxcloud_multi(status, body),
        check_model::<smsgate_onbuka::models::GetBalanceResponse>(
            &smsgate_itniotech::operations::GET_BALANCE,
            status,
            body,
            true,
        ),
        check_model::<smsgate_onbuka::models::GetReportResponse>(
            &smsgate_laaffic::operations::GET_REPORT,
            status,
            body,
            true,
        ),
        // `data` is any JSON value: floats need not round-trip exactly through serde_json.
        check_model::<smsgate_nxcloud::models::MtResponse>(
            &smsgate_nxcloud::operations::SEND,
            status,
            body,
            false,
        ),
    ];
    if verdicts.contains(&Verdict::Accepted) {
        Verdict::Accepted
    } else {
        Verdict::Refused
    }
}

/// nxcloud's `multi/mt` decoder (the generated `sendMulti` endpoint) against its model: `Ok`
/// exactly when the status is 2xx, the body is a `MultiMtResponse` and its code is a success;
/// then the answer is the plain serde reading, one result per `data` item, in order, each item
/// status read trimmed.
fn check_nxcloud_multi(status: u16, body: &[u8]) -> Verdict {
    use smsgate_nxcloud::codes::{ItemStatus, ResponseCode};
    use smsgate_nxcloud::models::{MultiMtResponse, ResponseCodeValue};
    let raw = raw_response(status, body);
    let result = decode::<smsgate_nxcloud::generated::client::SendMulti<'_, '_>>(&raw);
    let model = serde_json::from_slice::<MultiMtResponse>(body).ok();
    let context = || format!("status {status}, body {:?}", String::from_utf8_lossy(body));
    let class = |model: &MultiMtResponse| match &model.code {
        ResponseCodeValue::Integer(n) => ResponseCode::from(*n).class(),
        ResponseCodeValue::String(text) => ResponseCode::from_code(text).class(),
    };
    match &result {
        Ok(answer) => {
            let model = model.unwrap_or_else(|| panic!("accepted a non-body: {}", context()));
            assert!((200..300).contains(&status), "accepted {}", context());
            assert_eq!(class(&model), ErrorClass::Success, "{}", context());
            assert_eq!(answer, &model, "{}", context());
            let results = answer.data.as_deref().unwrap_or_default();
            let items = model.data.unwrap_or_default();
            assert_eq!(results.len(), items.len(), "{}", context());
            for (result, item) in results.iter().zip(&items) {
                assert_eq!(result.messageid, item.messageid, "{}", context());
                assert_eq!(result.phone, item.phone, "{}", context());
                // Codes are read trimmed (`ItemStatus::from_code`).
                assert_eq!(
                    ItemStatus::from_code(&result.status).code(),
                    item.status.trim(),
                    "{}",
                    context()
                );
            }
        }
        Err(err) => {
            check_decoder_error(status, body, err);
            if let (Some(model), true) = (&model, (200..300).contains(&status)) {
                assert_ne!(class(model), ErrorClass::Success, "{err:?}: {}", context());
            }
        }
    }
    Verdict::of(&result)
}

/// `decode_json` into the model `T`: the decoder-error invariants, and (`round_trip`) a
/// decoded value serialises to JSON that decodes to the same value.
fn check_model<T>(operation: &Operation, status: u16, body: &[u8], round_trip: bool) -> Verdict
where
    T: serde::de::DeserializeOwned + serde::Serialize + PartialEq + std::fmt::Debug,
{
    let raw = raw_response(status, body);
    let result = decode_json::<T, smsgate_itniotech::codes::StatusCode>(operation, &raw);
    match &result {
        Ok(value) => {
            assert!((200..300).contains(&status), "decoded a {status} answer");
            if round_trip {
                let json = serde_json::to_vec(value).unwrap_or_else(|err| {
                    panic!("{value:?} does not serialise: {err}");
                });
                let again: T = serde_json::from_slice(&json).unwrap_or_else(|err| {
                    panic!(
                        "{} (from {:?}) does not decode again: {err}",
                        String::from_utf8_lossy(&json),
                        String::from_utf8_lossy(body)
                    )
                });
                assert_eq!(&again, value, "round trip of {}", operation.name);
            }
        }
        Err(err) => check_decoder_error(status, body, err),
    }
    Verdict::of(&result)
}

/// The onbuka platform's delivery-report push parser (itniotech, laaffic; JSON body) and the
/// platform's `smsgate_onbuka::push_status`: never panics; a parsed push re-serialises to
/// JSON that parses to the same push (prices aside: floats need not round-trip exactly), and
/// normalises to `Delivered` exactly when its status is 0, keeping id, number and status.
pub fn check_onbuka_push(body: &[u8]) -> Verdict {
    let result = smsgate_itniotech::parse_delivery_report(body);
    let context = || format!("body {:?}", String::from_utf8_lossy(body));
    assert_eq!(
        result.as_ref().ok(),
        smsgate_laaffic::parse_delivery_report(body).as_ref().ok(),
        "brands disagree: {}",
        context()
    );
    match &result {
        Ok(push) => {
            let json = serde_json::to_vec(push)
                .unwrap_or_else(|err| panic!("{push:?} does not serialise: {err}"));
            let mut again = smsgate_itniotech::parse_delivery_report(&json)
                .unwrap_or_else(|err| panic!("re-serialised push refused: {err}, {}", context()));
            assert_eq!(
                again.pricedetail.is_some(),
                push.pricedetail.is_some(),
                "{}",
                context()
            );
            again.pricedetail.clone_from(&push.pricedetail);
            assert_eq!(&again, push, "push round trip: {}", context());
            for provider in ["itniotech", "laaffic"] {
                let status = smsgate_onbuka::push_status(provider, push);
                assert_eq!(status.provider, provider);
                assert_eq!(status.message_id, push.msgid, "{}", context());
                assert_eq!(status.number.as_deref(), Some(push.mobile.as_str()));
                assert_eq!(status.vendor_status, push.status.to_string());
                assert_eq!(
                    status.state == DeliveryClass::Delivered,
                    push.status == 0,
                    "{}",
                    context()
                );
            }
        }
        Err(err) => {
            let _ = err.to_string();
        }
    }
    Verdict::of(&result)
}

/// nxcloud's delivery-report push parser (form body or query string) and
/// `smsgate_nxcloud::push_status`: never panics; a parsed push re-encodes as a form that
/// parses to the same push; the normalised message id is the push's id, less a `-` and ten
/// digits batch suffix, and the status is kept as received.
pub fn check_nxcloud_push(body: &[u8]) -> Verdict {
    let result = smsgate_nxcloud::parse_delivery_report(body);
    let context = || format!("body {:?}", String::from_utf8_lossy(body));
    match &result {
        Ok(push) => {
            let form = serde_urlencoded::to_string(push)
                .unwrap_or_else(|err| panic!("{push:?} does not encode: {err}"));
            let again = smsgate_nxcloud::parse_delivery_report(form.as_bytes())
                .unwrap_or_else(|err| panic!("re-encoded push {form:?} refused: {err}"));
            assert_eq!(&again, push, "form round trip via {form:?}: {}", context());
            let status = smsgate_nxcloud::push_status(push);
            assert_eq!(status.provider, smsgate_nxcloud::operations::VENDOR);
            assert_eq!(status.vendor_status, push.status, "{}", context());
            assert_eq!(status.number.as_deref(), Some(push.phone.as_str()));
            let suffix = &push.messageid[status.message_id.len().min(push.messageid.len())..];
            assert!(
                push.messageid.starts_with(&status.message_id)
                    && (suffix.is_empty()
                        || (suffix.len() == 11
                            && suffix.starts_with('-')
                            && suffix[1..].bytes().all(|b| b.is_ascii_digit()))),
                "message id {:?} from {:?}: {}",
                status.message_id,
                push.messageid,
                context()
            );
        }
        Err(err) => {
            let _ = err.to_string();
        }
    }
    Verdict::of(&result)
}

/// Delivery-report parsers of every vendor on one body; `Accepted` when any read it.
pub fn check_delivery_reports(body: &[u8]) -> Verdict {
    let onbuka = check_onbuka_push(body);
    let nxcloud = check_nxcloud_push(body);
    if onbuka == Verdict::Accepted || nxcloud == Verdict::Accepted {
        Verdict::Accepted
    } else {
        Verdict::Refused
    }
}

/// The number policies every number is checked with: strict and lenient, with no default
/// region and with `CN`, `GB` and `US`.
pub fn number_policies() -> &'static [NumberPolicy] {
    static POLICIES: OnceLock<Vec<NumberPolicy>> = OnceLock::new();
    POLICIES.get_or_init(|| {
        let mut policies = vec![
            NumberPolicy::default(),
            NumberPolicy::default().lenient(true),
        ];
        for region in ["CN", "GB", "US"] {
            let Ok(policy) = NumberPolicy::default().with_default_region(region) else {
                panic!("{region} is a region of the metadata");
            };
            policies.push(policy.clone().lenient(true));
            policies.push(policy);
        }
        policies
    })
}

/// The invariants of a number's refusal: a letter or invalid character is the character of
/// `raw` at the (1-based, in characters) position it names.
fn check_problem(raw: &str, problem: &NumberProblem) {
    let _ = problem.to_string();
    let (found, position) = match problem {
        NumberProblem::Letter { letter, position } => (*letter, *position),
        NumberProblem::InvalidCharacter {
            character,
            position,
        } => (*character, *position),
        _ => return,
    };
    assert_eq!(
        position
            .checked_sub(1)
            .and_then(|index| raw.chars().nth(index)),
        Some(found),
        "{problem:?} for {raw:?}"
    );
}

/// Number parsing: `normalize_number` and every policy of [`number_policies`] on `raw` (and
/// `with_default_region(raw)`). Never panics; `normalize_number` is the default policy; a
/// number read is 1 to 15 ASCII digits, and reading it again with a `+` gives the same digits
/// (idempotence); a strict policy's number is also the lenient policy's; a letter or invalid
/// character refused is where the error says. `Accepted` when the strict policy without
/// region read it.
pub fn check_number(raw: &str) -> Verdict {
    let strict = normalize_number(raw);
    let policies = number_policies();
    let default = policies[0].normalize(raw);
    assert_eq!(
        strict.as_deref().ok(),
        default.as_ref().ok().map(|number| number.as_str()),
        "normalize_number and NumberPolicy::default() disagree on {raw:?}"
    );
    if let (Err(a), Err(b)) = (&strict, &default) {
        assert_eq!(a, b, "different reasons for {raw:?}");
    }
    let mut results = Vec::with_capacity(policies.len());
    for policy in policies {
        let result = policy.normalize(raw);
        results.push(result.clone());
        match &result {
            Ok(number) => {
                let digits = number.as_str();
                assert!(
                    (1..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()),
                    "{policy:?} read {raw:?} as {digits:?}"
                );
                let again = policy.normalize(&format!("+{digits}"));
                assert_eq!(
                    again.as_ref().map(|number| number.as_str()),
                    Ok(digits),
                    "{policy:?}: {raw:?} → {digits:?}, but +{digits} reads differently"
                );
            }
            Err(problem) => check_problem(raw, problem),
        }
    }
    // Policies come in pairs (lenient, strict) per region after the first two.
    let pairs = [(0, 1), (3, 2), (5, 4), (7, 6)];
    for (strict_index, lenient_index) in pairs {
        if let Ok(number) = &results[strict_index] {
            assert_eq!(
                results[lenient_index].as_ref().ok(),
                Some(number),
                "{:?} read {raw:?} as {number:?}, {:?} did not",
                policies[strict_index],
                policies[lenient_index]
            );
        }
    }
    if let Ok(policy) = NumberPolicy::default().with_default_region(raw) {
        let region = policy.default_region().unwrap_or_default();
        assert!(
            region.eq_ignore_ascii_case(raw.trim()),
            "region {raw:?} became {region:?}"
        );
    }
    Verdict::of(&strict)
}
