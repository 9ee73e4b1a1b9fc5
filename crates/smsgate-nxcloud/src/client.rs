//! The nxcloud client: `v1/sms/multi/mt` (up to 200 items) and `v1/sms/mt`, signed with the
//! header+body md5 scheme over the exact body bytes.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::sign::NxcloudHeaderBodyMd5;
use smsgate_transport::clock::{Clock, SystemClock};
use smsgate_transport::error::env_var;
use smsgate_transport::http::{HttpClient, HttpConfig, RawResponse, decode_json};
use smsgate_transport::redact::redact_url;
use smsgate_transport::secret::Secret;
use smsgate_transport::sign::Signer;
use smsgate_transport::spec::{ErrorClass, Operation};
use smsgate_transport::validate::{Checker, Field};
use smsgate_transport::wire::WireRequest;
use smsgate_transport::{ConfigError, ValidationError, ValidationKind};

use crate::codes::{ItemStatus, ResponseCode};
use crate::models::{
    DeliveryReport, LinkVerbose, MtRequest, MtResponse, MultiMtResponse, ResponseCodeValue,
};
use crate::operations;

/// Error of an nxcloud call: the transport error with nxcloud's [`ResponseCode`].
pub type Error = smsgate_transport::Error<ResponseCode>;

/// Options every nxcloud message may carry (owned strings by default, `&str` to borrow).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageOptions<S = String> {
    /// Sender address: 1 to 20 letters or digits.
    pub source_address: Option<S>,
    /// Your message id, 10 to 50 of `[0-9a-zA-Z-]`; nxcloud answers with it as `messageid`.
    pub sys_message_id: Option<S>,
    /// Short link (the content must contain `#1#`).
    pub short_link: Option<S>,
    /// Whether to record clicks on the short link (nxcloud's default: yes).
    pub link_verbose: Option<bool>,
    /// Delivery-report URL for this message.
    pub dr_url: Option<S>,
    /// Pass-through value returned in the delivery report.
    pub ext: Option<S>,
}

/// One item of a batch send: one number, one text.
///
/// Owns its strings by default; `MultiItem<&str>` borrows them instead ([`Client::send_multi`]
/// takes any `S: AsRef<str>`), so a caller holding the data elsewhere sends it without copying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiItem<S = String> {
    /// Recipient: country code and number, digits only.
    pub phone: S,
    /// The text (at most 1000 characters).
    pub content: S,
    /// Optional fields.
    pub options: MessageOptions<S>,
}

impl MultiItem {
    /// An item sending `content` to `phone`.
    pub fn new(phone: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            phone: phone.into(),
            content: content.into(),
            options: MessageOptions::default(),
        }
    }

    /// Sets your message id (10 to 50 of `[0-9a-zA-Z-]`).
    pub fn sys_message_id(mut self, id: impl Into<String>) -> Self {
        self.options.sys_message_id = Some(id.into());
        self
    }

    /// Sets the sender address.
    pub fn source_address(mut self, address: impl Into<String>) -> Self {
        self.options.source_address = Some(address.into());
        self
    }
}

/// A single send: one text to one or more numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MtMessage {
    /// Recipients: country code and number, digits only.
    pub phones: Vec<String>,
    /// The text (at most 1000 characters).
    pub content: String,
    /// Optional fields (nxcloud ignores `sys_message_id`, `dr_url` and `ext` with several phones).
    pub options: MessageOptions,
}

impl MtMessage {
    /// A text to `phones`.
    pub fn new<P: Into<String>>(
        phones: impl IntoIterator<Item = P>,
        content: impl Into<String>,
    ) -> Self {
        Self {
            phones: phones.into_iter().map(Into::into).collect(),
            content: content.into(),
            options: MessageOptions::default(),
        }
    }
}

/// Result of one batch item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemResult {
    /// The number as nxcloud echoed it.
    pub phone: String,
    /// Message id (your `sysMessageId` when given).
    pub message_id: String,
    /// `Success` or `Failure` (`Unknown(raw)` otherwise).
    pub status: ItemStatus,
    /// Why the item failed.
    pub message: Option<String>,
}

/// Answer to a successful batch send: one result per item nxcloud reported.
#[derive(Debug, Clone, PartialEq)]
pub struct MultiReceipt {
    /// Per-item results, as nxcloud listed them.
    pub results: Vec<ItemResult>,
    /// The response as received, but for `data`: its items moved into `results`.
    pub raw: MultiMtResponse,
}

/// Answer to a successful single send.
#[derive(Debug, Clone, PartialEq)]
pub struct MtReceipt {
    /// Message ids found in `data` (an object's or array items' `messageid`/`messageId`, or a string).
    pub message_ids: Vec<String>,
    /// The response as received.
    pub raw: MtResponse,
}

/// A delivery-report push could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid delivery-report push: {0}")]
pub struct PushError(pub String);

/// Parses a delivery-report push (`application/x-www-form-urlencoded` body, or the query string
/// older accounts receive) into its generated type. Pure: no I/O.
pub fn parse_delivery_report(body: &[u8]) -> Result<DeliveryReport, PushError> {
    let text = std::str::from_utf8(body).map_err(|err| PushError(err.to_string()))?;
    serde_urlencoded::from_str(text.trim().trim_start_matches('?'))
        .map_err(|err| PushError(err.to_string()))
}

/// The nxcloud client. Cheap to clone; clones share the connection pool.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: HttpClient,
    signer: NxcloudHeaderBodyMd5,
    app_key: String,
    base_url: Option<String>,
    multi_path: String,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("vendor", &operations::VENDOR)
            .field("app_key", &self.inner.app_key)
            .field("base_url", &self.inner.base_url.as_deref().map(redact_url))
            .field("multi_path", &self.inner.multi_path)
            .field("signer", &self.inner.signer)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`].
pub struct ClientBuilder {
    access_key: Option<String>,
    access_secret: Option<Secret>,
    app_key: Option<String>,
    base_url: Option<String>,
    multi_path: String,
    http: HttpConfig,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("access_key", &self.access_key)
            .field("access_secret", &self.access_secret)
            .field("app_key", &self.app_key)
            .field("base_url", &self.base_url.as_deref().map(redact_url))
            .field("multi_path", &self.multi_path)
            .field("http", &self.http)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            access_key: None,
            access_secret: None,
            app_key: None,
            base_url: None,
            multi_path: operations::SEND_MULTI.path.to_owned(),
            http: HttpConfig::default(),
            clock: Arc::new(SystemClock),
        }
    }
}

impl ClientBuilder {
    /// The `accessKey` (required).
    pub fn access_key(mut self, access_key: impl Into<String>) -> Self {
        self.access_key = Some(access_key.into());
        self
    }

    /// The access secret (required). Never printed.
    pub fn access_secret(mut self, access_secret: impl Into<Secret>) -> Self {
        self.access_secret = Some(access_secret.into());
        self
    }

    /// The SMS application's `appKey` (required).
    pub fn app_key(mut self, app_key: impl Into<String>) -> Self {
        self.app_key = Some(app_key.into());
        self
    }

    /// Replaces scheme and host of both operations (a proxy, a regional host, the simulator).
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// Path of the batch send, default `/v1/sms/multi/mt` (the page header); the page's curl
    /// sample uses `/api/sms/multi/mt`.
    pub fn multi_mt_path(mut self, path: impl Into<String>) -> Self {
        self.multi_path = path.into();
        self
    }

    /// Time allowed to connect (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.http.connect_timeout = timeout;
        self
    }

    /// Time allowed for a whole request (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.http.timeout = timeout;
        self
    }

    /// Sends every request through this proxy.
    pub fn proxy(mut self, proxy: impl Into<String>) -> Self {
        self.http.proxy = Some(proxy.into());
        self
    }

    /// Most bytes of a response body read (default 1 MiB,
    /// [`smsgate_transport::http::DEFAULT_MAX_BODY_BYTES`]). A longer answer is an
    /// [`Error::Transport`] with [`TransportFailure::BodyTooLarge`]: reading stops at the limit
    /// (or before, when `Content-Length` announces more), and the request may have reached the
    /// vendor.
    ///
    /// [`TransportFailure::BodyTooLarge`]: smsgate_transport::error::TransportFailure::BodyTooLarge
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.http.max_body_bytes = limit;
        self
    }

    /// All HTTP settings at once.
    pub fn http_config(mut self, config: HttpConfig) -> Self {
        self.http = config;
        self
    }

    /// The clock signing reads (tests pin it).
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Builds the client; fails naming the first missing setting.
    pub fn build(self) -> Result<Client, ConfigError> {
        let missing = |name: &str| ConfigError::Missing(format!("nxcloud {name}"));
        let access_key = self
            .access_key
            .filter(|v| !v.is_empty())
            .ok_or_else(|| missing("access_key"))?;
        let access_secret = self
            .access_secret
            .filter(|v| !v.is_empty())
            .ok_or_else(|| missing("access_secret"))?;
        let app_key = self
            .app_key
            .filter(|v| !v.is_empty())
            .ok_or_else(|| missing("app_key"))?;
        let base_url = self
            .base_url
            .map(|url| smsgate_transport::wire::normalise_base_url(&url))
            .transpose()?;
        if !self.multi_path.starts_with('/') {
            return Err(ConfigError::BaseUrl {
                url: redact_url(&self.multi_path).into_owned(),
                reason: "the multi/mt path must start with /".to_owned(),
            });
        }
        Ok(Client {
            inner: Arc::new(Inner {
                http: HttpClient::new(&self.http)?,
                signer: NxcloudHeaderBodyMd5::new(access_key, access_secret),
                app_key,
                base_url,
                multi_path: self.multi_path,
                clock: self.clock,
            }),
        })
    }
}

const SOURCE_ADDRESS_RULE: &str = "1 to 20 letters or digits";
const SYS_MESSAGE_ID_RULE: &str = "10 to 50 characters of [0-9a-zA-Z-]";

fn valid_source_address(value: &str) -> bool {
    (1..=20).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn valid_sys_message_id(value: &str) -> bool {
    (10..=50).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl Client {
    /// A builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client from `NXCLOUD_ACCESS_KEY`, `NXCLOUD_ACCESS_SECRET`, `NXCLOUD_APP_KEY` and, if
    /// set, `NXCLOUD_BASE_URL` and `NXCLOUD_MULTI_MT_PATH`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut builder = Self::builder()
            .access_key(env_var("NXCLOUD_ACCESS_KEY")?)
            .access_secret(env_var("NXCLOUD_ACCESS_SECRET")?)
            .app_key(env_var("NXCLOUD_APP_KEY")?);
        if let Ok(base_url) = env_var("NXCLOUD_BASE_URL") {
            builder = builder.base_url(base_url);
        }
        if let Ok(path) = env_var("NXCLOUD_MULTI_MT_PATH") {
            builder = builder.multi_mt_path(path);
        }
        builder.build()
    }

    fn url(&self, operation: &Operation, path: &str) -> String {
        let base = self.inner.base_url.as_deref().unwrap_or(operation.base_url);
        format!("{base}{path}")
    }

    fn signed_json<T: serde::Serialize>(
        &self,
        operation: &Operation,
        path: &str,
        body: &T,
    ) -> Result<WireRequest, Error> {
        let mut request = WireRequest::json(self.url(operation, path), body)
            .map_err(|err| invalid(operation, "body", &err.to_string()))?;
        self.inner.signer.sign(
            &mut request,
            operation.fixed_headers,
            self.inner.clock.now_millis(),
        );
        Ok(request)
    }

    /// The signed `multi/mt` request for `items`, without sending it.
    pub fn prepare_send_multi<S: AsRef<str> + Sync>(
        &self,
        items: &[MultiItem<S>],
    ) -> Result<WireRequest, Error> {
        let operation = &operations::SEND_MULTI;
        let check = Checker::new(operation);
        if items.is_empty() {
            return Err(check.error("items", ValidationKind::Empty).into());
        }
        check.count("items", items.len(), operation.limits.max_items)?;
        let mut wire_items = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let field = |name| Field::item("items", i, name);
            // These checks cover every constraint the schema puts on an item (`phone` digits,
            // `content` 1–1000 characters, `sourceAddress` and `sysMessageId` patterns), so the
            // item is serialised from the caller's data as it is: no copies, no second check.
            check.number(field("phone"), item.phone.as_ref())?;
            check.content(field("content"), item.content.as_ref())?;
            check_options_format(&check, field("options"), &item.options)?;
            wire_items.push(MultiMtItemView::new(item));
        }
        let app_key = self.inner.app_key.as_str();
        if app_key.is_empty() {
            return Err(check.error("appKey", ValidationKind::Empty).into());
        }
        let body = MultiMtRequestView {
            app_key,
            items: wire_items,
        };
        self.signed_json(operation, &self.inner.multi_path, &body)
    }

    /// The signed `mt` request for `message`, without sending it.
    pub fn prepare_send(&self, message: &MtMessage) -> Result<WireRequest, Error> {
        let operation = &operations::SEND;
        let check = Checker::new(operation);
        check.numbers("phone", &message.phones, operation.limits.max_numbers)?;
        check.content("content", &message.content)?;
        let options = check_options(&check, Field::new("options"), &message.options)?;
        let body = MtRequest {
            app_key: self
                .inner
                .app_key
                .as_str()
                .try_into()
                .map_err(|e| invalid_err(operation, "appKey", e))?,
            phone: message
                .phones
                .join(",")
                .try_into()
                .map_err(|e| invalid_err(operation, "phone", e))?,
            content: message
                .content
                .as_str()
                .try_into()
                .map_err(|e| invalid_err(operation, "content", e))?,
            source_address: options.source_address,
            sys_message_id: options.sys_message_id,
            short_link: message.options.short_link.clone(),
            link_verbose: options.link_verbose,
            dr_url: message.options.dr_url.clone(),
            ext: message.options.ext.clone(),
        };
        self.signed_json(operation, operation.path, &body)
    }

    /// Sends up to 200 items (each its own number and text) in one call.
    pub async fn send_multi<S: AsRef<str> + Sync>(
        &self,
        items: &[MultiItem<S>],
    ) -> Result<MultiReceipt, Error> {
        let operation = &operations::SEND_MULTI;
        let request = self.prepare_send_multi(items)?;
        let raw = self
            .inner
            .http
            .execute(operation, request, items.len())
            .await?;
        Self::decode_multi(&raw)
    }

    /// Decodes a `multi/mt` answer (status check, code, per-item results) without I/O: what
    /// [`Client::send_multi`] does with the bytes it receives.
    pub fn decode_multi(raw: &RawResponse) -> Result<MultiReceipt, Error> {
        let operation = &operations::SEND_MULTI;
        let mut response: MultiMtResponse = decode_json(operation, raw)?;
        check_code(operation, &response.code, &response.message)?;
        // The results move out of `data` (no copies); `raw` keeps the rest.
        let results = response
            .data
            .take()
            .into_iter()
            .flatten()
            .map(|result| ItemResult {
                status: ItemStatus::from_code(&result.status),
                phone: result.phone,
                message_id: result.messageid,
                message: result.message,
            })
            .collect();
        Ok(MultiReceipt {
            results,
            raw: response,
        })
    }

    /// Sends one text to one or more numbers.
    pub async fn send(&self, message: &MtMessage) -> Result<MtReceipt, Error> {
        let operation = &operations::SEND;
        let request = self.prepare_send(message)?;
        let raw = self
            .inner
            .http
            .execute(operation, request, message.phones.len())
            .await?;
        let response: MtResponse = decode_json(operation, &raw)?;
        check_code(operation, &response.code, &response.message)?;
        Ok(MtReceipt {
            message_ids: message_ids(response.data.as_ref()),
            raw: response,
        })
    }
}

/// Typed optional fields after validation.
struct CheckedOptions {
    source_address: Option<crate::models::SourceAddress>,
    sys_message_id: Option<crate::models::SysMessageId>,
    link_verbose: Option<LinkVerbose>,
}

/// The wire value of the `link_verbose` option.
fn link_verbose(on: bool) -> LinkVerbose {
    if on { LinkVerbose::X1 } else { LinkVerbose::X0 }
}

/// Checks the formats of `options` (sender address, message id) without building anything.
fn check_options_format(
    check: &Checker<'_>,
    at: Field<'_>,
    options: &MessageOptions<impl AsRef<str> + Sync>,
) -> Result<(), ValidationError> {
    if let Some(address) = &options.source_address {
        check.format(
            at.sibling("sourceAddress"),
            valid_source_address(address.as_ref()),
            SOURCE_ADDRESS_RULE,
        )?;
    }
    if let Some(id) = &options.sys_message_id {
        check.format(
            at.sibling("sysMessageId"),
            valid_sys_message_id(id.as_ref()),
            SYS_MESSAGE_ID_RULE,
        )?;
    }
    Ok(())
}

/// [`crate::models::MultiMtRequest`] borrowed from already checked data: the same field names in the same
/// (generated, alphabetical) order, so the bytes are those the generated type would produce —
/// `tests::multi_view_serialises_as_the_generated_model` holds them to that.
#[derive(serde::Serialize)]
struct MultiMtRequestView<'a> {
    #[serde(rename = "appKey")]
    app_key: &'a str,
    items: Vec<MultiMtItemView<'a>>,
}

/// [`crate::models::MultiMtItem`] borrowed from a checked [`MultiItem`].
#[derive(serde::Serialize)]
struct MultiMtItemView<'a> {
    content: &'a str,
    #[serde(rename = "drUrl", skip_serializing_if = "Option::is_none")]
    dr_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ext: Option<&'a str>,
    #[serde(rename = "linkVerbose", skip_serializing_if = "Option::is_none")]
    link_verbose: Option<LinkVerbose>,
    phone: &'a str,
    #[serde(rename = "shortLink", skip_serializing_if = "Option::is_none")]
    short_link: Option<&'a str>,
    #[serde(rename = "sourceAddress", skip_serializing_if = "Option::is_none")]
    source_address: Option<&'a str>,
    #[serde(rename = "sysMessageId", skip_serializing_if = "Option::is_none")]
    sys_message_id: Option<&'a str>,
}

impl<'a> MultiMtItemView<'a> {
    fn new<S: AsRef<str> + Sync>(item: &'a MultiItem<S>) -> Self {
        let options = &item.options;
        let text = |value: &'a Option<S>| value.as_ref().map(AsRef::as_ref);
        Self {
            content: item.content.as_ref(),
            dr_url: text(&options.dr_url),
            ext: text(&options.ext),
            link_verbose: options.link_verbose.map(link_verbose),
            phone: item.phone.as_ref(),
            short_link: text(&options.short_link),
            source_address: text(&options.source_address),
            sys_message_id: text(&options.sys_message_id),
        }
    }
}

fn check_options(
    check: &Checker<'_>,
    at: Field<'_>,
    options: &MessageOptions,
) -> Result<CheckedOptions, ValidationError> {
    check_options_format(check, at, options)?;
    let mut checked = CheckedOptions {
        source_address: None,
        sys_message_id: None,
        link_verbose: options.link_verbose.map(link_verbose),
    };
    if let Some(address) = &options.source_address {
        let field = at.sibling("sourceAddress");
        let typed = address.as_str().try_into();
        checked.source_address = Some(typed.map_err(|_| {
            check.error(
                field,
                ValidationKind::Malformed {
                    rule: SOURCE_ADDRESS_RULE,
                },
            )
        })?);
    }
    if let Some(id) = &options.sys_message_id {
        let field = at.sibling("sysMessageId");
        let typed = id.as_str().try_into();
        checked.sys_message_id = Some(typed.map_err(|_| {
            check.error(
                field,
                ValidationKind::Malformed {
                    rule: SYS_MESSAGE_ID_RULE,
                },
            )
        })?);
    }
    Ok(checked)
}

fn invalid(operation: &Operation, field: &str, _why: &str) -> ValidationError {
    Checker::new(operation).error(
        field,
        ValidationKind::Malformed {
            rule: "rejected by the schema",
        },
    )
}

fn invalid_err(operation: &Operation, field: &str, err: impl fmt::Display) -> ValidationError {
    invalid(operation, field, &err.to_string())
}

/// A vendor error unless `code` is 0 (integer or string).
fn check_code(operation: &Operation, code: &ResponseCodeValue, message: &str) -> Result<(), Error> {
    let code = match code {
        ResponseCodeValue::Integer(n) => ResponseCode::from(*n),
        ResponseCodeValue::String(text) => ResponseCode::from_code(text),
    };
    if code.class() == ErrorClass::Success {
        return Ok(());
    }
    Err(Error::vendor(operation, code, message))
}

fn message_ids(data: Option<&serde_json::Value>) -> Vec<String> {
    use serde_json::Value;
    fn id_of(value: &Value) -> Option<String> {
        match value {
            Value::String(id) => Some(id.clone()),
            Value::Object(fields) => ["messageid", "messageId", "msgId"]
                .iter()
                .find_map(|key| fields.get(*key).and_then(Value::as_str).map(str::to_owned)),
            _ => None,
        }
    }
    match data {
        Some(Value::Array(items)) => items.iter().filter_map(id_of).collect(),
        Some(other) => id_of(other).into_iter().collect(),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::models::{MultiMtItem, MultiMtRequest};

    /// The body the generated model makes of `items` (the reference the borrowed view must match).
    fn generated_body(app_key: &str, items: &[MultiItem]) -> Vec<u8> {
        let items = items
            .iter()
            .map(|item| MultiMtItem {
                phone: item.phone.as_str().try_into().unwrap(),
                content: item.content.as_str().try_into().unwrap(),
                source_address: item
                    .options
                    .source_address
                    .as_deref()
                    .map(|s| s.try_into().unwrap()),
                sys_message_id: item
                    .options
                    .sys_message_id
                    .as_deref()
                    .map(|s| s.try_into().unwrap()),
                short_link: item.options.short_link.clone(),
                link_verbose: item
                    .options
                    .link_verbose
                    .map(|on| if on { LinkVerbose::X1 } else { LinkVerbose::X0 }),
                dr_url: item.options.dr_url.clone(),
                ext: item.options.ext.clone(),
            })
            .collect();
        let request = MultiMtRequest {
            app_key: app_key.try_into().unwrap(),
            items,
        };
        serde_json::to_vec(&request).unwrap()
    }

    #[test]
    fn multi_view_serialises_as_the_generated_model() {
        let client = Client::builder()
            .access_key("key")
            .access_secret("secret")
            .app_key("app-key")
            .build()
            .unwrap();
        // Every combination of present/absent options, with content that needs escaping.
        let contents = [
            "plain",
            "quote \" backslash \\ newline \n tab \t",
            "ünïcödé 你好 🎉",
            // Control characters are refused before serialising; CR still needs escaping.
            "carriage \r return",
        ];
        let items: Vec<MultiItem> = (0..128u32)
            .map(|mask| {
                let on = |bit: u32| mask & (1 << bit) != 0;
                let mut item = MultiItem::new(
                    format!("86150{mask:08}"),
                    contents[mask as usize % contents.len()],
                );
                let options = &mut item.options;
                options.source_address = on(0).then(|| "Sender1".to_owned());
                options.sys_message_id = on(1).then(|| format!("ref-{mask:010}"));
                options.short_link = on(2).then(|| "https://s.example/#1#".to_owned());
                options.link_verbose = on(3).then_some(on(4));
                options.dr_url = on(5).then(|| "https://dr.example/\"x\"".to_owned());
                options.ext = on(6).then(|| "pass-through é".to_owned());
                item
            })
            .collect();
        for chunk in items.chunks(operations::SEND_MULTI.limits.max_items.unwrap_or(200)) {
            let request = client.prepare_send_multi(chunk).unwrap();
            assert_eq!(
                request.body.as_deref().unwrap(),
                generated_body("app-key", chunk).as_slice()
            );
        }
        // One item at a time too (each option set alone, and none).
        for item in items.iter().take(8) {
            let request = client
                .prepare_send_multi(std::slice::from_ref(item))
                .unwrap();
            assert_eq!(
                request.body.as_deref().unwrap(),
                generated_body("app-key", std::slice::from_ref(item)).as_slice()
            );
        }
    }
}
