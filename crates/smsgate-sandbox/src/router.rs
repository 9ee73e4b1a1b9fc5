//! One router for every simulated vendor: a route per generated operation (and per alias the
//! vendor declares), and the steps every request goes through before the vendor's behaviour
//! answers it (see [`crate::simulate`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State as AxumState};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::Value;
use smsgate_transport::spec::{HttpMethod, Operation, RequestEncoding};

use crate::inbox::Capture;
use crate::signature::Verifier;
use crate::simulate::{AuthFailure, Call, Received, Refusal, Registered};
use crate::state::{State, answer, answer_bytes, now_millis};

/// One operation served at a path.
struct Endpoint {
    vendor: Registered,
    operation: &'static Operation,
    /// `None` when the vendor has no account (or an incomplete one): every request is refused.
    verifier: Option<Verifier>,
}

/// Every operation served at one path, told apart by method.
type PathRoutes = Vec<Endpoint>;

/// The router of every vendor in `vendors`.
pub fn router(state: Arc<State>, vendors: &[Registered]) -> Router {
    let mut paths: BTreeMap<&'static str, PathRoutes> = BTreeMap::new();
    for vendor in vendors.iter().copied() {
        let spec = vendor.spec();
        let sign = state
            .config
            .account(spec.name)
            .and_then(|account| (spec.signer)(account));
        let aliases = vendor.aliases().iter().filter_map(|(path, name)| {
            let operation = spec.operations.iter().find(|op| op.name == *name)?;
            Some((*path, operation))
        });
        let documented = spec.operations.iter().map(|op| (op.path, op));
        for (path, operation) in documented.chain(aliases) {
            let routes = paths.entry(path).or_default();
            if routes
                .iter()
                .any(|e| e.operation.method == operation.method)
            {
                tracing::warn!(
                    path,
                    method = %operation.method,
                    vendor = spec.name,
                    "two operations at one path and method; the first is served"
                );
                continue;
            }
            routes.push(Endpoint {
                vendor,
                operation,
                verifier: sign.clone().map(|sign| Verifier::new(sign, operation)),
            });
        }
    }
    let mut router = Router::new();
    // Paths with placeholders inside a segment (`/Messages/{Sid}.json`) are beyond the
    // router's syntax: they are matched here, in order, after every fixed path.
    let mut templated: Vec<(&'static str, Arc<PathRoutes>)> = Vec::new();
    for (path, routes) in paths {
        let routes = Arc::new(routes);
        if path.contains('{') {
            templated.push((path, routes));
            continue;
        }
        router = router.route(
            path,
            any(move |state, method, uri, headers, query, body| {
                serve(
                    state,
                    Arc::clone(&routes),
                    method,
                    uri,
                    headers,
                    query,
                    body,
                )
            }),
        );
    }
    // The inbox's page and API (`/`, `/_sandbox/...`): no vendor path is among them.
    router = router.merge(crate::web::routes(Arc::clone(&state)));
    let templated = Arc::new(templated);
    router = router.fallback(
        move |state, uri: axum::http::Uri, method, headers, query, body| {
            let routes = templated
                .iter()
                .find(|(template, _)| path_matches(template, uri.path()))
                .map(|(_, routes)| Arc::clone(routes));
            async move {
                match routes {
                    Some(routes) => serve(state, routes, method, uri, headers, query, body).await,
                    None => StatusCode::NOT_FOUND.into_response(),
                }
            }
        },
    );
    router.with_state(state)
}

/// Whether `path` matches `template`, segment by segment, a `{name}` standing for one
/// non-empty run of characters other than `/` (with literal text around it in the segment).
pub(crate) fn path_matches(template: &str, path: &str) -> bool {
    let (mut template, mut path) = (template.split('/'), path.split('/'));
    loop {
        match (template.next(), path.next()) {
            (None, None) => return true,
            (Some(pattern), Some(segment)) if segment_matches(pattern, segment) => {}
            _ => return false,
        }
    }
}

fn segment_matches(pattern: &str, segment: &str) -> bool {
    let Some((before, rest)) = pattern.split_once('{') else {
        return pattern == segment;
    };
    let Some((_, after)) = rest.split_once('}') else {
        return pattern == segment;
    };
    segment.len() > before.len() + after.len()
        && segment.starts_with(before)
        && segment.ends_with(after)
}

/// Form or query fields as a JSON object, each value typed as definition `type_name` of the
/// bundled `schema` declares its property (`true` for a boolean, `20000` for an integer), a
/// string otherwise or when it does not parse: what a vendor reads from its form fields.
pub fn typed_fields(schema: &Value, type_name: &str, pairs: Vec<(String, String)>) -> Value {
    let definitions = &schema["definitions"];
    let properties = &definitions[type_name]["properties"];
    let declared = |name: &str| -> Option<&str> {
        let mut property = &properties[name];
        // Follow local references (`#/definitions/X`) to the declared type.
        for _ in 0..8 {
            match property["$ref"].as_str() {
                Some(reference) => {
                    let target = reference.rsplit('/').next().unwrap_or_default();
                    property = &definitions[target];
                }
                None => break,
            }
        }
        match &property["type"] {
            Value::String(ty) => Some(ty.as_str()),
            Value::Array(types) => types
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null"),
            _ => None,
        }
    };
    let typed = |name: &str, text: String| -> Value {
        let parsed = match declared(name) {
            Some("boolean") => text.parse::<bool>().ok().map(Value::Bool),
            Some("integer") => text.parse::<i64>().ok().map(Value::from),
            Some("number") => text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number),
            _ => None,
        };
        parsed.unwrap_or(Value::String(text))
    };
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| {
                let value = typed(&k, v);
                (k, value)
            })
            .collect(),
    )
}

fn http_method(method: &Method) -> Option<HttpMethod> {
    match *method {
        Method::GET => Some(HttpMethod::Get),
        Method::POST => Some(HttpMethod::Post),
        _ => None,
    }
}

/// The request as the operation's encoding puts it: the JSON body, or the query string's (or
/// form body's) fields as an object ([`typed_fields`]).
fn decode(schema: &Value, operation: &Operation, query: &str, body: &[u8]) -> Option<Value> {
    let fields = |text: &str| -> Option<Value> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(text).ok()?;
        Some(typed_fields(schema, operation.request_type, pairs))
    };
    match operation.encoding {
        RequestEncoding::Json => serde_json::from_slice(body).ok(),
        RequestEncoding::Query => fields(query),
        RequestEncoding::Form => fields(std::str::from_utf8(body).ok()?),
    }
}

async fn serve(
    AxumState(state): AxumState<Arc<State>>,
    routes: Arc<PathRoutes>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let wanted = http_method(&method);
    let Some(endpoint) = routes.iter().find(|e| Some(e.operation.method) == wanted) else {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    };
    let (vendor, operation) = (endpoint.vendor, endpoint.operation);
    let spec = vendor.spec();
    let query = query.unwrap_or_default();
    let fault = state
        .fault(
            &format!("{}/{}", spec.name, operation.name),
            query.as_bytes(),
            &body,
        )
        .await;
    let refuse = |refusal: Refusal| vendor.refusal(operation, refusal);
    let answer = |fault, value: &Value| {
        let status = vendor.http_status(operation, value);
        answer(fault, status, value)
    };
    let (Some(account), Some(verifier)) =
        (state.config.account(spec.name), endpoint.verifier.as_ref())
    else {
        return answer(fault, &refuse(Refusal::Auth(AuthFailure::UnknownKey)));
    };
    let received = Received {
        operation,
        headers: &headers,
        query: &query,
        body: &body,
    };
    let checked = vendor
        .authenticate(&received, account, now_millis())
        .unwrap_or_else(|| {
            verifier.check(&headers, &body, now_millis(), vendor.signature_window())
        });
    if let Err(failure) = checked {
        return answer(fault, &refuse(Refusal::Auth(failure)));
    }
    if vendor.throttles(operation) && state.throttled(spec.name) {
        return answer(fault, &refuse(Refusal::Throttled));
    }
    let Some(mut request) = decode(state.schema(spec.name), operation, &query, &body) else {
        return answer(fault, &refuse(Refusal::Malformed));
    };
    if let Some(fields) = request.as_object_mut() {
        for name in vendor.auth_params() {
            fields.remove(*name);
        }
    }
    let violations = state.violations(spec.name, operation.request_type, &request);
    let capture = Capture::new(
        &state.inbox,
        spec.name,
        operation.name,
        &method,
        uri.path(),
        &query,
        &headers,
        &body,
    );
    let call = Call {
        state: &state,
        capture: &capture,
        vendor: spec.name,
        operation,
        account,
        violations: &violations,
        path: uri.path(),
    };
    let value = vendor.handle(&call, &request);
    let status = vendor.http_status(operation, &value);
    let bytes = serde_json::to_vec(&value).unwrap_or_default();
    capture.finish(status, &bytes, fault);
    answer_bytes(fault, status, bytes)
}
