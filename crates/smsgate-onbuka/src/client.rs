//! The platform client: one implementation for every brand, parameterised by [`Brand`] (paths,
//! environment prefix, the brand's own status-code tables).

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use crate::sign::KeySecretTimestampMd5;
use smsgate_transport::clock::{Clock, SystemClock};
use smsgate_transport::error::env_var;
use smsgate_transport::http::{HttpClient, HttpConfig, RawResponse, decode_json, undecodable};
use smsgate_transport::redact::redact_url;
use smsgate_transport::secret::Secret;
use smsgate_transport::sign::Signer;
use smsgate_transport::spec::{CodeTable, DeliveryClass, ErrorClass, Operation};
use smsgate_transport::validate::{Checker, Field, contains_separator};
use smsgate_transport::wire::{WireRequest, normalise_base_url};
use smsgate_transport::{ConfigError, Error, ValidationError, ValidationKind};

use crate::models::{
    DeliveryReportPush, GetBalanceRequest, GetBalanceResponse, GetReportRequest, GetReportResponse,
    SendSmsResponse,
};

/// What distinguishes one brand of the platform from another.
pub trait Brand: Send + Sync + 'static {
    /// Vendor name (`itniotech`).
    const VENDOR: &'static str;
    /// Prefix of the environment variables [`Client::from_env`] reads (`ITNIOTECH`).
    const ENV_PREFIX: &'static str;
    /// `sendSms` (POST).
    const SEND_SMS: Operation;
    /// `sendSms` (GET).
    const SEND_SMS_GET: Operation;
    /// `sendSms/batch`.
    const SEND_BATCH: Operation;
    /// `getBalance`.
    const GET_BALANCE: Operation;
    /// `getReport`.
    const GET_REPORT: Operation;
    /// The brand's response status table.
    type StatusCode: CodeTable<Class = ErrorClass>;
    /// The brand's per-message delivery status table (getReport).
    type ReportStatus: CodeTable<Class = DeliveryClass>;
}

/// One text to one or more numbers (`sendSms`), or one entry of a batch (`sendSms/batch`).
///
/// Owns its strings by default; `TextMessage<&str>` borrows them instead (every method takes
/// any `S: AsRef<str>`), so a caller holding the data elsewhere sends it without copying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextMessage<S = String> {
    /// Recipients: country code and number, digits only.
    pub numbers: Vec<S>,
    /// The text.
    pub content: S,
    /// Sender number or name.
    pub sender_id: Option<S>,
    /// Your own id per number (same count and order as `numbers`), echoed back per number.
    pub order_ids: Option<Vec<S>>,
}

impl TextMessage {
    /// A text to `numbers`.
    pub fn new<N: Into<String>>(
        numbers: impl IntoIterator<Item = N>,
        content: impl Into<String>,
    ) -> Self {
        Self {
            numbers: numbers.into_iter().map(Into::into).collect(),
            content: content.into(),
            sender_id: None,
            order_ids: None,
        }
    }

    /// Sets the sender id.
    pub fn sender_id(mut self, sender_id: impl Into<String>) -> Self {
        self.sender_id = Some(sender_id.into());
        self
    }

    /// Sets one order id per number.
    pub fn order_ids<I: Into<String>>(mut self, order_ids: impl IntoIterator<Item = I>) -> Self {
        self.order_ids = Some(order_ids.into_iter().map(Into::into).collect());
        self
    }
}

/// A number the platform accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedNumber {
    /// The number as the platform echoed it.
    pub number: String,
    /// Platform message id (query delivery with it).
    pub message_id: String,
    /// The order id you gave for this number, if the platform echoed it.
    pub order_id: Option<String>,
}

/// Answer to a successful send: counts as numbers, one entry per accepted number.
///
/// Numbers of the request that are not in `accepted` were not accepted (the platform lists only
/// accepted numbers).
#[derive(Debug, Clone, PartialEq)]
pub struct SendReceipt {
    /// Count of numbers accepted (the `success` field).
    pub accepted_count: u32,
    /// Count of numbers not accepted (the `fail` field).
    pub failed_count: u32,
    /// The accepted numbers.
    pub accepted: Vec<AcceptedNumber>,
    /// The response as received, but for `array`: its entries moved into `accepted`.
    pub raw: SendSmsResponse,
}

/// Account balance. Amounts are decimal strings, as the platform sends them.
#[derive(Debug, Clone, PartialEq)]
pub struct Balance {
    /// Balance.
    pub balance: String,
    /// Gift balance, if reported.
    pub gift: Option<String>,
    /// Credit line, if reported.
    pub credit: Option<String>,
    /// The response as received.
    pub raw: GetBalanceResponse,
}

/// Delivery status of one message.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageStatus<S> {
    /// Platform message id.
    pub message_id: String,
    /// Recipient.
    pub number: String,
    /// When the status was received (ISO 8601), if reported.
    pub receive_time: Option<String>,
    /// The status, typed (`Unknown(raw)` when undocumented).
    pub status: S,
}

/// Answer to a delivery-status query.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryReport<S> {
    /// Count delivered.
    pub delivered: u32,
    /// Count failed.
    pub failed: u32,
    /// Count still sending.
    pub sending: u32,
    /// Count of ids the platform does not know.
    pub not_found: u32,
    /// One entry per message found.
    pub messages: Vec<MessageStatus<S>>,
    /// The response as received.
    pub raw: GetReportResponse,
}

/// A delivery-report push could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid delivery-report push: {0}")]
pub struct PushError(pub String);

/// Parses a delivery-report push body (JSON) into its generated type. Pure: no I/O.
pub fn parse_delivery_report(body: &[u8]) -> Result<DeliveryReportPush, PushError> {
    serde_json::from_slice(body).map_err(|err| PushError(err.to_string()))
}

/// Client of one brand of the platform. Cheap to clone; clones share the connection pool.
pub struct Client<B: Brand> {
    inner: Arc<Inner>,
    brand: PhantomData<fn() -> B>,
}

struct Inner {
    http: HttpClient,
    signer: KeySecretTimestampMd5,
    app_id: String,
    base_url: Option<String>,
    clock: Arc<dyn Clock>,
}

impl<B: Brand> Clone for Client<B> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            brand: PhantomData,
        }
    }
}

impl<B: Brand> fmt::Debug for Client<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("vendor", &B::VENDOR)
            .field("app_id", &self.inner.app_id)
            .field("base_url", &self.inner.base_url.as_deref().map(redact_url))
            .field("signer", &self.inner.signer)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`].
pub struct ClientBuilder<B: Brand> {
    api_key: Option<String>,
    api_secret: Option<Secret>,
    app_id: Option<String>,
    base_url: Option<String>,
    http: HttpConfig,
    clock: Arc<dyn Clock>,
    brand: PhantomData<fn() -> B>,
}

impl<B: Brand> fmt::Debug for ClientBuilder<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("vendor", &B::VENDOR)
            .field("api_key", &self.api_key)
            .field("api_secret", &self.api_secret)
            .field("app_id", &self.app_id)
            .field("base_url", &self.base_url.as_deref().map(redact_url))
            .field("http", &self.http)
            .finish_non_exhaustive()
    }
}

impl<B: Brand> Default for ClientBuilder<B> {
    fn default() -> Self {
        Self {
            api_key: None,
            api_secret: None,
            app_id: None,
            base_url: None,
            http: HttpConfig::default(),
            clock: Arc::new(SystemClock),
            brand: PhantomData,
        }
    }
}

impl<B: Brand> ClientBuilder<B> {
    /// The `Api-Key` (required).
    pub fn api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// The api secret (required). Never printed.
    pub fn api_secret(mut self, api_secret: impl Into<Secret>) -> Self {
        self.api_secret = Some(api_secret.into());
        self
    }

    /// The application id sent as `appId` (required).
    pub fn app_id(mut self, app_id: impl Into<String>) -> Self {
        self.app_id = Some(app_id.into());
        self
    }

    /// Replaces scheme and host of every operation (a proxy, a regional host, the simulator):
    /// `http://127.0.0.1:8080` makes `sendSms` go to `http://127.0.0.1:8080<path>`.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
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
    pub fn build(self) -> Result<Client<B>, ConfigError> {
        let required = |value: Option<String>, name: &str| {
            value
                .filter(|v| !v.is_empty())
                .ok_or_else(|| ConfigError::Missing(format!("{} {name}", B::VENDOR)))
        };
        let api_key = required(self.api_key, "api_key")?;
        let api_secret = self
            .api_secret
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ConfigError::Missing(format!("{} api_secret", B::VENDOR)))?;
        let app_id = required(self.app_id, "app_id")?;
        let base_url = self
            .base_url
            .map(|url| normalise_base_url(&url))
            .transpose()?;
        Ok(Client {
            inner: Arc::new(Inner {
                http: HttpClient::new(&self.http)?,
                signer: KeySecretTimestampMd5::new(api_key, api_secret),
                app_id,
                base_url,
                clock: self.clock,
            }),
            brand: PhantomData,
        })
    }
}

impl<B: Brand> Client<B> {
    /// A builder.
    pub fn builder() -> ClientBuilder<B> {
        ClientBuilder::default()
    }

    /// A client from `<PREFIX>_API_KEY`, `<PREFIX>_API_SECRET`, `<PREFIX>_APP_ID` and, if set,
    /// `<PREFIX>_BASE_URL` (prefix [`Brand::ENV_PREFIX`], e.g. `ITNIOTECH`).
    pub fn from_env() -> Result<Self, ConfigError> {
        let prefix = B::ENV_PREFIX;
        let mut builder = Self::builder()
            .api_key(env_var(&format!("{prefix}_API_KEY"))?)
            .api_secret(env_var(&format!("{prefix}_API_SECRET"))?)
            .app_id(env_var(&format!("{prefix}_APP_ID"))?);
        if let Ok(base_url) = env_var(&format!("{prefix}_BASE_URL")) {
            builder = builder.base_url(base_url);
        }
        builder.build()
    }

    fn url(&self, operation: &Operation) -> String {
        let base = self.inner.base_url.as_deref().unwrap_or(operation.base_url);
        format!("{base}{}", operation.path)
    }

    /// `body` encoded as `operation` says (JSON or query), signed.
    fn signed<T: serde::Serialize>(
        &self,
        operation: &Operation,
        body: &T,
    ) -> Result<WireRequest, Error<B::StatusCode>> {
        let mut request = WireRequest::for_operation(operation, self.url(operation), body)
            .map_err(|e| Self::invalid(operation, "body", e))?;
        self.inner.signer.sign(
            &mut request,
            operation.fixed_headers,
            self.inner.clock.now_millis(),
        );
        Ok(request)
    }

    fn invalid(operation: &Operation, field: &str, err: impl fmt::Display) -> ValidationError {
        Checker::new(operation).error(
            field,
            ValidationKind::Malformed {
                rule: leak_rule(err),
            },
        )
    }

    /// Validates one message against `operation`'s limits; `item` is its index in a batch.
    fn check_message(
        operation: &Operation,
        item: Option<usize>,
        message: &TextMessage<impl AsRef<str> + Sync>,
        max_numbers: Option<usize>,
    ) -> Result<(), ValidationError> {
        let check = Checker::new(operation);
        let field = |name| match item {
            Some(index) => Field::item("array", index, name),
            None => Field::new(name),
        };
        check.numbers(field("numbers"), &message.numbers, max_numbers)?;
        check.content(field("content"), message.content.as_ref())?;
        if let Some(sender_id) = &message.sender_id {
            check.sender_id(field("senderId"), sender_id.as_ref())?;
        }
        if let Some(order_ids) = &message.order_ids {
            check.same_count(
                field("orderId"),
                order_ids.len(),
                "numbers",
                message.numbers.len(),
            )?;
            for (i, id) in order_ids.iter().enumerate() {
                let id = id.as_ref();
                if id.is_empty() || contains_separator(id) {
                    return Err(check.error(
                        format_args!("{}[{i}]", field("orderId")),
                        ValidationKind::Malformed {
                            rule: "non-empty, without commas (ids are joined with commas)",
                        },
                    ));
                }
            }
        }
        Ok(())
    }

    /// The application id, which the schema wants non-empty.
    fn app_id(&self, operation: &Operation) -> Result<&str, ValidationError> {
        let app_id = self.inner.app_id.as_str();
        if app_id.is_empty() {
            return Err(Checker::new(operation).error("appId", ValidationKind::Empty));
        }
        Ok(app_id)
    }

    /// The checked body of a `sendSms` call, borrowed from `message`.
    ///
    /// [`Self::check_message`] covers every constraint the schema puts on these fields
    /// (digits-only numbers, content and sender id lengths, order ids), so the body is
    /// serialised from the caller's data with no second check.
    fn send_sms_body<'m>(
        &'m self,
        operation: &Operation,
        message: &'m TextMessage<impl AsRef<str> + Sync>,
    ) -> Result<SendSmsRequestView<'m>, ValidationError> {
        Self::check_message(operation, None, message, operation.limits.max_numbers)?;
        Ok(SendSmsRequestView {
            app_id: self.app_id(operation)?,
            content: message.content.as_ref(),
            numbers: join_commas(&message.numbers),
            order_id: message.order_ids.as_deref().map(join_commas),
            sender_id: message.sender_id.as_ref().map(AsRef::as_ref),
        })
    }

    /// The signed `sendSms` POST request for `message`, without sending it.
    pub fn prepare_send_sms<S: AsRef<str> + Sync>(
        &self,
        message: &TextMessage<S>,
    ) -> Result<WireRequest, Error<B::StatusCode>> {
        let operation = &B::SEND_SMS;
        let body = self.send_sms_body(operation, message)?;
        self.signed(operation, &body)
    }

    /// The signed `sendSms` GET request for `message` (content URL-encoded), without sending it.
    pub fn prepare_send_sms_get<S: AsRef<str> + Sync>(
        &self,
        message: &TextMessage<S>,
    ) -> Result<WireRequest, Error<B::StatusCode>> {
        let operation = &B::SEND_SMS_GET;
        let body = self.send_sms_body(operation, message)?;
        self.signed(operation, &body)
    }

    /// The signed `sendSms/batch` request for `messages`, without sending it.
    pub fn prepare_send_batch<S: AsRef<str> + Sync>(
        &self,
        messages: &[TextMessage<S>],
    ) -> Result<WireRequest, Error<B::StatusCode>> {
        let operation = &B::SEND_BATCH;
        let check = Checker::new(operation);
        if messages.is_empty() {
            return Err(check.error("array", ValidationKind::Empty).into());
        }
        let mut array = Vec::with_capacity(messages.len());
        for (i, message) in messages.iter().enumerate() {
            // As for `sendSms`: these checks cover the schema, the body borrows the data.
            Self::check_message(operation, Some(i), message, None)?;
            array.push(BatchMessageView {
                content: message.content.as_ref(),
                numbers: join_commas(&message.numbers),
                order_id: message.order_ids.as_deref().map(join_commas),
                sender_id: message.sender_id.as_ref().map(AsRef::as_ref),
            });
        }
        let total: usize = messages.iter().map(|m| m.numbers.len()).sum();
        check.count("array[].numbers", total, operation.limits.max_numbers)?;
        let body = SendBatchRequestView {
            app_id: self.app_id(operation)?,
            array,
        };
        self.signed(operation, &body)
    }

    /// The signed `getBalance` request, without sending it.
    pub fn prepare_balance(&self) -> Result<WireRequest, Error<B::StatusCode>> {
        let operation = &B::GET_BALANCE;
        let body = GetBalanceRequest {
            app_id: self
                .inner
                .app_id
                .as_str()
                .try_into()
                .map_err(|e| Self::invalid(operation, "appId", e))?,
        };
        self.signed(operation, &body)
    }

    /// The signed `getReport` request for `message_ids`, without sending it.
    pub fn prepare_report<S: AsRef<str> + Sync>(
        &self,
        message_ids: &[S],
    ) -> Result<WireRequest, Error<B::StatusCode>> {
        let operation = &B::GET_REPORT;
        let check = Checker::new(operation);
        if message_ids.is_empty() {
            return Err(check.error("msgIds", ValidationKind::Empty).into());
        }
        check.count("msgIds", message_ids.len(), operation.limits.max_ids)?;
        for (i, id) in message_ids.iter().enumerate() {
            let id = id.as_ref();
            check.format(
                &format!("msgIds[{i}]"),
                !id.is_empty() && !contains_separator(id),
                "non-empty, without commas",
            )?;
        }
        let ids: Vec<&str> = message_ids.iter().map(AsRef::as_ref).collect();
        let body = GetReportRequest {
            app_id: self
                .inner
                .app_id
                .as_str()
                .try_into()
                .map_err(|e| Self::invalid(operation, "appId", e))?,
            msg_ids: ids
                .join(",")
                .try_into()
                .map_err(|e| Self::invalid(operation, "msgIds", e))?,
        };
        self.signed(operation, &body)
    }

    async fn call(
        &self,
        operation: &Operation,
        request: WireRequest,
        recipients: usize,
    ) -> Result<RawResponse, Error<B::StatusCode>> {
        self.inner
            .http
            .execute(operation, request, recipients)
            .await
    }

    /// Sends one text to up to 1000 numbers (POST).
    pub async fn send_sms<S: AsRef<str> + Sync>(
        &self,
        message: &TextMessage<S>,
    ) -> Result<SendReceipt, Error<B::StatusCode>> {
        let request = self.prepare_send_sms(message)?;
        let raw = self
            .call(&B::SEND_SMS, request, message.numbers.len())
            .await?;
        decode_send::<B>(&B::SEND_SMS, &raw)
    }

    /// Sends one text to up to 100 numbers (GET, content URL-encoded).
    pub async fn send_sms_get<S: AsRef<str> + Sync>(
        &self,
        message: &TextMessage<S>,
    ) -> Result<SendReceipt, Error<B::StatusCode>> {
        let request = self.prepare_send_sms_get(message)?;
        let raw = self
            .call(&B::SEND_SMS_GET, request, message.numbers.len())
            .await?;
        decode_send::<B>(&B::SEND_SMS_GET, &raw)
    }

    /// Sends different texts in one call (up to 1000 numbers in all).
    pub async fn send_batch<S: AsRef<str> + Sync>(
        &self,
        messages: &[TextMessage<S>],
    ) -> Result<SendReceipt, Error<B::StatusCode>> {
        let request = self.prepare_send_batch(messages)?;
        let recipients = messages.iter().map(|m| m.numbers.len()).sum();
        let raw = self.call(&B::SEND_BATCH, request, recipients).await?;
        decode_send::<B>(&B::SEND_BATCH, &raw)
    }

    /// Decodes a `sendSms` / `sendSms/batch` answer (status check, counts, accepted numbers)
    /// without I/O: what the send methods do with the bytes they receive.
    pub fn decode_send(raw: &RawResponse) -> Result<SendReceipt, Error<B::StatusCode>> {
        decode_send::<B>(&B::SEND_SMS, raw)
    }

    /// The account balance.
    pub async fn balance(&self) -> Result<Balance, Error<B::StatusCode>> {
        let request = self.prepare_balance()?;
        let raw = self.call(&B::GET_BALANCE, request, 0).await?;
        let operation = &B::GET_BALANCE;
        let response: GetBalanceResponse = decode_json(operation, &raw)?;
        check_status::<B>(operation, &response.status, &response.reason)?;
        let balance = response
            .balance
            .clone()
            .ok_or_else(|| undecodable(operation, &raw, "success without a balance".to_owned()))?;
        Ok(Balance {
            balance,
            gift: response.gift.clone(),
            credit: response.credit.clone(),
            raw: response,
        })
    }

    /// Delivery status of up to 200 platform message ids.
    pub async fn report<S: AsRef<str> + Sync>(
        &self,
        message_ids: &[S],
    ) -> Result<DeliveryReport<B::ReportStatus>, Error<B::StatusCode>> {
        let request = self.prepare_report(message_ids)?;
        let raw = self
            .call(&B::GET_REPORT, request, message_ids.len())
            .await?;
        let operation = &B::GET_REPORT;
        let response: GetReportResponse = decode_json(operation, &raw)?;
        check_status::<B>(operation, &response.status, &response.reason)?;
        let count = |value: &Option<String>, field: &str| {
            parse_count(operation, &raw, value.as_deref(), field)
        };
        Ok(DeliveryReport {
            delivered: count(&response.success, "success")?,
            failed: count(&response.fail, "fail")?,
            sending: count(&response.sending, "sending")?,
            not_found: count(&response.nofound, "nofound")?,
            messages: response
                .array
                .iter()
                .map(|entry| MessageStatus {
                    message_id: entry.msg_id.clone(),
                    number: entry.number.clone(),
                    receive_time: entry.receive_time.clone(),
                    status: B::ReportStatus::from_code(&entry.status),
                })
                .collect(),
            raw: response,
        })
    }
}

/// [`crate::models::SendSmsRequest`] borrowed from checked data: the same field names in the
/// same (generated, alphabetical) order, so the bytes are those the generated type would make
/// — the workspace's `tests/views.rs` holds them to that, POST and GET.
#[derive(serde::Serialize)]
struct SendSmsRequestView<'a> {
    #[serde(rename = "appId")]
    app_id: &'a str,
    content: &'a str,
    numbers: String,
    #[serde(rename = "orderId", skip_serializing_if = "Option::is_none")]
    order_id: Option<String>,
    #[serde(rename = "senderId", skip_serializing_if = "Option::is_none")]
    sender_id: Option<&'a str>,
}

/// [`crate::models::SendBatchRequest`] borrowed from checked data.
#[derive(serde::Serialize)]
struct SendBatchRequestView<'a> {
    #[serde(rename = "appId")]
    app_id: &'a str,
    array: Vec<BatchMessageView<'a>>,
}

/// [`crate::models::BatchMessage`] borrowed from checked data.
#[derive(serde::Serialize)]
struct BatchMessageView<'a> {
    content: &'a str,
    numbers: String,
    #[serde(rename = "orderId", skip_serializing_if = "Option::is_none")]
    order_id: Option<String>,
    #[serde(rename = "senderId", skip_serializing_if = "Option::is_none")]
    sender_id: Option<&'a str>,
}

/// `items` joined with commas, in one allocation.
fn join_commas(items: &[impl AsRef<str>]) -> String {
    let len = items.iter().map(|s| s.as_ref().len() + 1).sum::<usize>();
    let mut joined = String::with_capacity(len);
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            joined.push(',');
        }
        joined.push_str(item.as_ref());
    }
    joined
}

/// A vendor error unless `status` is `"0"`.
fn check_status<B: Brand>(
    operation: &Operation,
    status: &str,
    reason: &str,
) -> Result<(), Error<B::StatusCode>> {
    let code = B::StatusCode::from_code(status);
    if code.class() == ErrorClass::Success {
        return Ok(());
    }
    Err(Error::vendor(operation, code, reason))
}

/// A count the platform sends as a decimal string; absent counts are 0.
fn parse_count<C>(
    operation: &Operation,
    raw: &RawResponse,
    value: Option<&str>,
    field: &str,
) -> Result<u32, Error<C>> {
    match value.map(str::trim) {
        None | Some("") => Ok(0),
        Some(text) => text
            .parse()
            .map_err(|_| undecodable(operation, raw, format!("{field} is not a count: {text:?}"))),
    }
}

fn decode_send<B: Brand>(
    operation: &Operation,
    raw: &RawResponse,
) -> Result<SendReceipt, Error<B::StatusCode>> {
    let mut response: SendSmsResponse = decode_json(operation, raw)?;
    check_status::<B>(operation, &response.status, &response.reason)?;
    // The entries move into `accepted` (no copy of a thousand strings); `raw` keeps the rest.
    let accepted: Vec<AcceptedNumber> = std::mem::take(&mut response.array)
        .into_iter()
        .map(|entry| AcceptedNumber {
            number: entry.number,
            message_id: entry.msg_id,
            order_id: entry.order_id,
        })
        .collect();
    let listed = u32::try_from(accepted.len()).unwrap_or(u32::MAX);
    let accepted_count = match response.success.as_deref() {
        Some(_) => parse_count(operation, raw, response.success.as_deref(), "success")?,
        None => listed,
    };
    Ok(SendReceipt {
        accepted_count,
        failed_count: parse_count(operation, raw, response.fail.as_deref(), "fail")?,
        accepted,
        raw: response,
    })
}

/// typify's conversion errors are strings; our validation runs first, so this only names a
/// schema rule our checks missed.
fn leak_rule(err: impl fmt::Display) -> &'static str {
    match err.to_string() {
        text if text.contains("pattern") => "does not match the schema pattern",
        text if text.contains("longer") => "longer than the schema allows",
        text if text.contains("shorter") => "shorter than the schema allows",
        _ => "rejected by the schema",
    }
}
