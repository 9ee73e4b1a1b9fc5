//! Conformance of the vendor documents' samples (`specs/<vendor>/examples/`).
//!
//! Every fixture must (1) validate against its definition in the vendor's bundled JSON Schema,
//! using a real JSON Schema validator, and (2) round-trip through the generated Rust type with no
//! field lost; the re-serialised JSON is snapshotted. Fixture names are `<Type>.<label>.<format>`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic on broken fixtures by design

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// A fixture read from disk.
struct Fixture {
    path: PathBuf,
    type_name: String,
    stem: String,
    value: Value,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Reads a query string or form body as a JSON object of strings (what the vendor's fields are).
fn form_to_json(text: &str) -> Value {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(text.trim()).unwrap();
    let mut object = Map::new();
    for (key, value) in pairs {
        assert!(
            object.insert(key.clone(), Value::String(value)).is_none(),
            "field {key} repeated"
        );
    }
    Value::Object(object)
}

fn fixtures(vendor: &str) -> Vec<Fixture> {
    let dir = workspace().join("specs").join(vendor).join("examples");
    let mut out = Vec::new();
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let file_name = path.file_name().unwrap().to_string_lossy().into_owned();
        if file_name == "README.md" {
            continue;
        }
        let parts: Vec<&str> = file_name.split('.').collect();
        assert_eq!(
            parts.len(),
            3,
            "{file_name}: fixtures are named <Type>.<label>.<json|query|form>"
        );
        let text = fs::read_to_string(&path).unwrap();
        let value = match parts[2] {
            "json" => serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file_name}: {e}")),
            "query" | "form" => form_to_json(&text),
            other => panic!("{file_name}: unknown fixture format {other}"),
        };
        out.push(Fixture {
            path,
            type_name: parts[0].to_owned(),
            stem: format!("{}.{}", parts[0], parts[1]),
            value,
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    assert!(!out.is_empty(), "no fixtures in {}", dir.display());
    out
}

/// Failures of `value` against one definition of a bundled schema, as the simulator checks
/// requests ([`smsgate_sandbox::Schemas`]), as `pointer: keyword`.
fn schema_errors(bundled_schema: &str, type_name: &str, value: &Value) -> Vec<String> {
    let bundled: Value = serde_json::from_str(bundled_schema).unwrap();
    assert!(
        bundled["definitions"].get(type_name).is_some(),
        "no definition {type_name}"
    );
    smsgate_sandbox::Schemas::new(bundled_schema)
        .violations(type_name, value)
        .into_iter()
        .map(|v| format!("{}: {}", v.pointer, v.keyword))
        .collect()
}

/// `value` with every null object member removed.
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// `fn $name(type_name, value)`: the vendor crate's generated round-trip table
/// (`generated/conformance.rs`, one arm per request, response and push type of its spec).
macro_rules! generated_round_trip {
    ($name:ident, $krate:ident) => {
        fn $name(type_name: &str, value: &Value) -> Result<Value, String> {
            $krate::generated::conformance::round_trip(type_name, value)
                .unwrap_or_else(|| panic!("no generated type {type_name} is used by the spec"))
                .map_err(|e| e.to_string())
        }
    };
}

generated_round_trip!(itniotech_roundtrip, smsgate_itniotech);
generated_round_trip!(laaffic_roundtrip, smsgate_laaffic);
generated_round_trip!(nxcloud_roundtrip, smsgate_nxcloud);
generated_round_trip!(twilio_roundtrip, smsgate_twilio);
generated_round_trip!(vonage_roundtrip, smsgate_vonage);

fn check_vendor(
    vendor: &str,
    bundled_schema: &str,
    roundtrip: fn(&str, &Value) -> Result<Value, String>,
) {
    let bundled: Value = serde_json::from_str(bundled_schema).unwrap();
    for mut fixture in fixtures(vendor) {
        let name = fixture.path.display();
        let form = fixture
            .path
            .extension()
            .is_some_and(|ext| ext == "form" || ext == "query");
        if form {
            // Form fields are text: typed as the schema declares them, as a vendor reads them.
            let pairs = fixture.value.as_object().unwrap().iter();
            let pairs = pairs.map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()));
            fixture.value =
                smsgate_sandbox::typed_fields(&bundled, &fixture.type_name, pairs.collect());
        }
        let errors = schema_errors(bundled_schema, &fixture.type_name, &fixture.value);
        assert!(errors.is_empty(), "{name} breaks its schema: {errors:#?}");
        let back = roundtrip(&fixture.type_name, &fixture.value)
            .unwrap_or_else(|e| panic!("{name} does not decode into {}: {e}", fixture.type_name));
        // An optional member that is null carries nothing an absent one does not: the generated
        // types read both as `None` and write neither.
        assert_eq!(
            back,
            without_nulls(&fixture.value),
            "{name}: a field was lost or changed in the round trip"
        );
        insta::assert_json_snapshot!(format!("{vendor}__{}", fixture.stem), back);
    }
}

#[test]
fn itniotech_samples_validate_and_round_trip() {
    check_vendor(
        "itniotech",
        smsgate_itniotech::generated::MODELS_SCHEMA_JSON,
        itniotech_roundtrip,
    );
}

#[test]
fn laaffic_samples_validate_and_round_trip() {
    check_vendor(
        "laaffic",
        smsgate_laaffic::generated::MODELS_SCHEMA_JSON,
        laaffic_roundtrip,
    );
}

#[test]
fn nxcloud_samples_validate_and_round_trip() {
    check_vendor(
        "nxcloud",
        smsgate_nxcloud::generated::MODELS_SCHEMA_JSON,
        nxcloud_roundtrip,
    );
}

#[test]
fn twilio_samples_validate_and_round_trip() {
    check_vendor(
        "twilio",
        smsgate_twilio::generated::MODELS_SCHEMA_JSON,
        twilio_roundtrip,
    );
}

#[test]
fn vonage_samples_validate_and_round_trip() {
    check_vendor(
        "vonage",
        smsgate_vonage::generated::MODELS_SCHEMA_JSON,
        vonage_roundtrip,
    );
}

/// The errata the fixtures fix are real: the documents' original values are refused by both the
/// schema validator and the generated types.
#[test]
fn documented_errata_are_refused_as_written() {
    let nx = smsgate_nxcloud::generated::MODELS_SCHEMA_JSON;
    let as_documented = serde_json::json!({"appKey":"appKey","items":[
        {"phone":"18651883168","content":"content1","sysMessageId":"msg001"}]});
    let errors = schema_errors(nx, "MultiMtRequest", &as_documented);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].starts_with("/items/0/sysMessageId"),
        "{errors:#?}"
    );
    assert!(nxcloud_roundtrip("MultiMtRequest", &as_documented).is_err());

    let it = smsgate_itniotech::generated::MODELS_SCHEMA_JSON;
    let laaffic_table_name =
        serde_json::json!({"appId":"a","array":[{"number":"91856321412","content":"x"}]});
    assert!(!schema_errors(it, "SendBatchRequest", &laaffic_table_name).is_empty());
    assert!(itniotech_roundtrip("SendBatchRequest", &laaffic_table_name).is_err());

    let single_quotes = "{\"status\": \"0\", \"array\": [{\"orderId\":'21412'}]}";
    assert!(serde_json::from_str::<Value>(single_quotes).is_err());
}

/// Limits from the documents hold in both the schema and the generated types.
#[test]
fn documented_limits_are_enforced() {
    let it = smsgate_itniotech::generated::MODELS_SCHEMA_JSON;
    let body = |content: &str, numbers: &str, sender: &str| serde_json::json!({"appId":"a","numbers":numbers,"content":content,"senderId":sender});
    // 1024 characters of a 3-byte character: characters are counted, not bytes.
    let longest = "短".repeat(1024);
    assert!(schema_errors(it, "SendSmsRequest", &body(&longest, "91856321412", "")).is_empty());
    assert!(itniotech_roundtrip("SendSmsRequest", &body(&longest, "91856321412", "")).is_ok());
    let too_long = "短".repeat(1025);
    for bad in [
        body(&too_long, "91856321412", ""),
        body("", "91856321412", ""),
        body("hi", "+91856321412", ""),
        body("hi", "91856321412,", ""),
        body("hi", "", ""),
        body("hi", "91856321412", &"s".repeat(33)),
    ] {
        assert!(
            !schema_errors(it, "SendSmsRequest", &bad).is_empty(),
            "{bad}"
        );
        assert!(
            itniotech_roundtrip("SendSmsRequest", &bad).is_err(),
            "{bad}"
        );
    }

    let nx = smsgate_nxcloud::generated::MODELS_SCHEMA_JSON;
    let item = serde_json::json!({"phone":"8615088888888","content":"x"});
    let items = |n: usize| serde_json::json!({"appKey":"k","items": vec![item.clone(); n]});
    assert!(schema_errors(nx, "MultiMtRequest", &items(200)).is_empty());
    assert!(!schema_errors(nx, "MultiMtRequest", &items(201)).is_empty());
    assert!(!schema_errors(nx, "MultiMtRequest", &items(0)).is_empty());
    for (field, bad) in [
        ("sourceAddress", "has space"),
        ("sourceAddress", "abcdefghijklmnopqrstu"),
        ("sysMessageId", "short"),
        ("sysMessageId", "has_underscore_0123"),
        ("content", ""),
    ] {
        let mut one = item.clone();
        one[field] = Value::String(bad.to_owned());
        let request = serde_json::json!({"appKey":"k","items":[one]});
        assert!(
            !schema_errors(nx, "MultiMtRequest", &request).is_empty(),
            "{field}={bad}"
        );
        assert!(
            nxcloud_roundtrip("MultiMtRequest", &request).is_err(),
            "{field}={bad}"
        );
    }
    let mut longest = item.clone();
    longest["content"] = Value::String("€".repeat(1000));
    assert!(
        nxcloud_roundtrip(
            "MultiMtRequest",
            &serde_json::json!({"appKey":"k","items":[longest.clone()]})
        )
        .is_ok()
    );
    longest["content"] = Value::String("€".repeat(1001));
    assert!(
        nxcloud_roundtrip(
            "MultiMtRequest",
            &serde_json::json!({"appKey":"k","items":[longest]})
        )
        .is_err()
    );
}

/// itniotech and laaffic are one platform: their bodies and code semantics must not drift apart
/// silently (their own wording may differ).
#[test]
fn itniotech_and_laaffic_share_the_platform() {
    let it: Value = serde_json::from_str(smsgate_itniotech::generated::MODELS_SCHEMA_JSON).unwrap();
    let la: Value = serde_json::from_str(smsgate_laaffic::generated::MODELS_SCHEMA_JSON).unwrap();
    assert_eq!(it["definitions"], la["definitions"]);

    use smsgate_itniotech::codes::StatusCode as It;
    use smsgate_laaffic::codes::StatusCode as La;
    let it_codes: Vec<_> = It::DOCUMENTED
        .iter()
        .map(|c| (c.code(), c.name(), c.class()))
        .collect();
    let la_codes: Vec<_> = La::DOCUMENTED
        .iter()
        .map(|c| (c.code(), c.name(), c.class()))
        .collect();
    assert_eq!(it_codes, la_codes);
    assert_eq!(It::from_code("-1").original(), Some("Authentication error"));
    assert_eq!(La::from_code("-1").original(), Some("認證錯誤"));

    use smsgate_itniotech::operations as ito;
    use smsgate_laaffic::operations as lao;
    assert_eq!(ito::OPERATIONS.len(), lao::OPERATIONS.len());
    for (a, b) in ito::OPERATIONS.iter().zip(lao::OPERATIONS) {
        assert_eq!(
            (a.name, a.method, a.encoding, a.limits),
            (b.name, b.method, b.encoding, b.limits)
        );
        assert_eq!(
            a.path.trim_start_matches("/sms"),
            b.path.trim_start_matches("/v3")
        );
    }
}

/// Generated status enums: every documented code parses to itself, anything else is kept raw.
#[test]
fn status_codes_parse_and_keep_unknown_values() {
    use smsgate_itniotech::codes::{ReportStatus, StatusCode};
    use smsgate_nxcloud::codes::{DeliveryStatus, ItemStatus, ResponseCode};
    use smsgate_transport::spec::{DeliveryClass, ErrorClass};

    for code in StatusCode::DOCUMENTED {
        assert_eq!(&StatusCode::from_code(code.code()), code);
        assert!(code.is_documented());
    }
    assert_eq!(StatusCode::DOCUMENTED.len(), 30);
    assert_eq!(StatusCode::from_code(" -16 "), StatusCode::TimestampExpired);
    assert_eq!(StatusCode::from_code("-16").class(), ErrorClass::Auth);
    assert_eq!(StatusCode::from_code("-19").class(), ErrorClass::Account);
    let unknown = StatusCode::from_code("-42");
    assert_eq!(unknown, StatusCode::Unknown("-42".into()));
    assert_eq!(
        (unknown.code(), unknown.class(), unknown.original()),
        ("-42", ErrorClass::Unspecified, None)
    );
    assert_eq!(
        StatusCode::InsufficientBalance.to_string(),
        "The balance does not cover this send. (-10)"
    );
    assert_eq!(
        ReportStatus::from_code("-1").class(),
        DeliveryClass::Pending
    );

    assert_eq!(ResponseCode::from(13007), ResponseCode::RateLimitExceeded);
    assert_eq!(ResponseCode::from("13007"), ResponseCode::RateLimitExceeded);
    assert_eq!(
        ResponseCode::from(13004),
        ResponseCode::Unknown("13004".into())
    );
    assert_eq!(ResponseCode::from(1003).class(), ErrorClass::Auth);
    assert_eq!(ItemStatus::from_code("Failure"), ItemStatus::Failure);
    assert_eq!(
        DeliveryStatus::from_code("7").class(),
        DeliveryClass::Expired
    );
    assert_eq!(
        DeliveryStatus::from_code("12"),
        DeliveryStatus::StateUnknown
    );
}

#[test]
fn operations_carry_the_documented_endpoints() {
    use smsgate_nxcloud::operations as nx;
    use smsgate_transport::spec::{HttpMethod, RequestEncoding};
    assert_eq!(
        nx::SEND_MULTI.default_url(),
        "https://api2.nxcloud.com/v1/sms/multi/mt"
    );
    assert_eq!(nx::SEND.default_url(), "https://api.nxcloud.com/v1/sms/mt");
    assert_eq!(nx::SEND_MULTI.auth, "nxcloud-header-body-md5");
    let headers: Vec<_> = nx::SEND_MULTI
        .fixed_headers
        .iter()
        .map(|h| (h.name, h.value))
        .collect();
    assert_eq!(headers, [("action", "mtsend"), ("bizType", "3")]);

    use smsgate_itniotech::operations as it;
    assert_eq!(it::SEND_SMS_GET.method, HttpMethod::Get);
    assert_eq!(it::SEND_SMS_GET.encoding, RequestEncoding::Query);
    assert_eq!(it::SEND_SMS_GET.limits.max_numbers, Some(100));
    assert_eq!(it::SEND_SMS.limits.max_numbers, Some(1000));
    assert_eq!(it::GET_REPORT.limits.max_ids, Some(200));
    assert_eq!(it::DELIVERY_REPORT_PUSH.body_type, "DeliveryReportPush");
    for op in it::OPERATIONS {
        let schema: Value =
            serde_json::from_str(smsgate_itniotech::generated::MODELS_SCHEMA_JSON).unwrap();
        assert!(schema["definitions"].get(op.request_type).is_some());
        assert!(schema["definitions"].get(op.response_type).is_some());
    }
}
