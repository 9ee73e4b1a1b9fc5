//! The one client core every vendor client is: HTTP options, clock, base URL, the account's
//! settings and its signer, and one way to send any [`Endpoint`].
//!
//! A vendor's generated `Credentials` type implements [`Credentials`] (its settings, its
//! signer, the environment prefix); its generated `Client` wraps a [`ClientCore`] and adds one
//! typed method per operation. [`ClientBuilder`] is the single builder they all share.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::endpoint::Endpoint;
use crate::error::{ConfigError, Error, ValidationKind, env_var};
use crate::http::{HttpClient, HttpConfig, RawResponse, decode_json};
use crate::redact::redact_url;
use crate::sign::Signer;
use crate::spec::{CodeTable, ConfigKey, ErrorClass, Operation};
use crate::validate::Checker;
use crate::wire::{WireRequest, normalise_base_url};

/// The settings of an account at one vendor (generated from `operations.json`).
pub trait Credentials: Clone + fmt::Debug + Send + Sync + Sized + 'static {
    /// The signer of the vendor's auth scheme.
    type Signer: Signer;
    /// The vendor's client type, which wraps a [`ClientCore`].
    type Client: From<ClientCore<Self>>;

    /// Vendor name (`itniotech`).
    const VENDOR: &'static str;
    /// Prefix of the vendor's environment variables (`ITNIOTECH`).
    const ENV_PREFIX: &'static str;
    /// Every setting, in the order documentation lists them, `base_url` last.
    const SETTINGS: &'static [ConfigKey];

    /// The settings read through `value` (a config section, the environment); a missing
    /// required one is [`ConfigError::Missing`] naming the vendor and key.
    fn from_settings(value: &mut dyn FnMut(&str) -> Option<String>) -> Result<Self, ConfigError>;

    /// Fails naming the first required setting that is empty, or an invalid value.
    fn check(&self) -> Result<(), ConfigError>;

    /// The signer for these settings.
    fn signer(&self) -> Self::Signer;

    /// A path these settings put in place of an operation's documented path.
    fn path_override(&self, operation: &Operation) -> Option<&str> {
        let _ = operation;
        None
    }

    /// The value of a `{name}` placeholder of operation paths (`AccountSid`), from these
    /// settings.
    fn path_param(&self, name: &str) -> Option<&str> {
        let _ = name;
        None
    }
}

/// The environment variable of a setting: `ITNIOTECH` + `api_key` → `ITNIOTECH_API_KEY`.
pub fn env_name(prefix: &str, key: &str) -> String {
    format!("{prefix}_{}", key.to_ascii_uppercase())
}

/// Builds any vendor's client: settings, base URL, HTTP options and clock.
pub struct ClientBuilder<C: Credentials> {
    credentials: Option<C>,
    settings: Vec<(String, String)>,
    base_url: Option<String>,
    http: HttpConfig,
    clock: Arc<dyn Clock>,
}

impl<C: Credentials> fmt::Debug for ClientBuilder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&str> = self.settings.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ClientBuilder")
            .field("vendor", &C::VENDOR)
            .field("credentials", &self.credentials)
            .field("settings", &keys)
            .field("base_url", &self.base_url.as_deref().map(redact_url))
            .field("http", &self.http)
            .finish_non_exhaustive()
    }
}

impl<C: Credentials> Default for ClientBuilder<C> {
    fn default() -> Self {
        Self {
            credentials: None,
            settings: Vec::new(),
            base_url: None,
            http: HttpConfig::default(),
            clock: Arc::new(SystemClock),
        }
    }
}

impl<C: Credentials> ClientBuilder<C> {
    /// The account's settings, typed.
    pub fn credentials(mut self, credentials: C) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// One setting by its key (`api_key`), as a config file names it; read at
    /// [`ClientBuilder::build`] unless [`ClientBuilder::credentials`] was given (`base_url`
    /// is [`ClientBuilder::base_url`]). A key the vendor does not take fails the build.
    pub fn setting(mut self, key: &str, value: impl Into<String>) -> Self {
        if key == "base_url" {
            return self.base_url(value);
        }
        self.settings.push((key.to_owned(), value.into()));
        self
    }

    /// Every setting from the environment (`<PREFIX>_<KEY>`) and `<PREFIX>_BASE_URL` if set;
    /// a required variable that is unset or empty is [`ConfigError::Missing`] naming it.
    pub fn from_env(mut self) -> Result<Self, ConfigError> {
        for setting in C::SETTINGS {
            let name = env_name(C::ENV_PREFIX, setting.name);
            match env_var(&name) {
                Ok(value) => self = self.setting(setting.name, value),
                Err(err) if setting.required => return Err(err),
                Err(_) => {}
            }
        }
        Ok(self)
    }

    /// Replaces scheme and host of every operation (a proxy, a regional host, the simulator):
    /// `http://127.0.0.1:8080` sends each operation to `http://127.0.0.1:8080<path>`.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into()).filter(|url| !url.is_empty());
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
    /// [`crate::http::DEFAULT_MAX_BODY_BYTES`]). A longer answer is an [`Error::Transport`]
    /// with [`TransportFailure::BodyTooLarge`](crate::error::TransportFailure::BodyTooLarge):
    /// reading stops at the limit, and the request may have reached the vendor.
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

    /// Builds the client; fails naming the first missing setting or the invalid URL.
    pub fn build(self) -> Result<C::Client, ConfigError> {
        if let Some((key, _)) = self
            .settings
            .iter()
            .find(|(key, _)| !C::SETTINGS.iter().any(|s| s.name == key))
        {
            return Err(ConfigError::UnknownSetting {
                vendor: C::VENDOR,
                key: key.clone(),
            });
        }
        let credentials = match self.credentials {
            Some(_) if !self.settings.is_empty() => {
                return Err(ConfigError::Conflict {
                    vendor: C::VENDOR,
                    reason: "settings given both typed (credentials) and by key (setting)",
                });
            }
            Some(credentials) => {
                credentials.check()?;
                credentials
            }
            None => {
                let settings = self.settings;
                C::from_settings(&mut |key| {
                    // The last value given for a key wins (an empty one too: it means unset).
                    settings
                        .iter()
                        .rev()
                        .find(|(k, _)| k == key)
                        .map(|(_, v)| v.clone())
                })?
            }
        };
        let base_url = self
            .base_url
            .map(|url| normalise_base_url(&url))
            .transpose()?;
        Ok(C::Client::from(ClientCore {
            inner: Arc::new(Core {
                http: HttpClient::new(&self.http)?,
                signer: credentials.signer(),
                credentials,
                base_url,
                clock: self.clock,
            }),
        }))
    }
}

/// What every vendor client is: cheap to clone (clones share the connection pool).
pub struct ClientCore<C: Credentials> {
    inner: Arc<Core<C>>,
}

struct Core<C: Credentials> {
    http: HttpClient,
    signer: C::Signer,
    credentials: C,
    base_url: Option<String>,
    clock: Arc<dyn Clock>,
}

impl<C: Credentials> Clone for ClientCore<C> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<C: Credentials> fmt::Debug for ClientCore<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("vendor", &C::VENDOR)
            .field("credentials", &self.inner.credentials)
            .field("base_url", &self.inner.base_url.as_deref().map(redact_url))
            .finish_non_exhaustive()
    }
}

impl<C: Credentials> ClientCore<C> {
    /// The account's settings.
    pub fn credentials(&self) -> &C {
        &self.inner.credentials
    }

    /// The signer.
    pub fn signer(&self) -> &C::Signer {
        &self.inner.signer
    }

    /// The base URL given to the builder, if any (else each operation's documented one).
    pub fn base_url(&self) -> Option<&str> {
        self.inner.base_url.as_deref()
    }

    /// The URL `operation` is sent to: base URL and path, either overridden, its `{name}`
    /// placeholders filled from the settings (percent-encoded).
    pub fn url(&self, operation: &Operation) -> String {
        self.url_with(operation, |_| None)
    }

    /// [`ClientCore::url`], a placeholder filled from `param` first (an endpoint's own path
    /// parameters, such as a message id), then from the settings.
    pub fn url_with<'p>(
        &'p self,
        operation: &Operation,
        param: impl Fn(&str) -> Option<&'p str>,
    ) -> String {
        let base = self.inner.base_url.as_deref().unwrap_or(operation.base_url);
        let credentials = &self.inner.credentials;
        let path = credentials
            .path_override(operation)
            .unwrap_or(operation.path);
        if !path.contains('{') {
            return format!("{base}{path}");
        }
        let mut url = String::from(base);
        let mut rest = path;
        while let Some((before, after)) = rest.split_once('{') {
            url.push_str(before);
            let Some((name, after)) = after.split_once('}') else {
                url.push('{');
                rest = after;
                continue;
            };
            // The generator refuses a placeholder that neither a setting nor the request
            // fills; settings are checked at build and a request's path fields by `validate`:
            // an empty value only comes from an optional setting.
            let value = param(name)
                .or_else(|| credentials.path_param(name))
                .unwrap_or("");
            url.extend(percent_encoding::utf8_percent_encode(
                value,
                percent_encoding::NON_ALPHANUMERIC,
            ));
            rest = after;
        }
        url.push_str(rest);
        url
    }

    /// The exact signed request for `endpoint`, after every check, without sending it.
    pub fn prepare<E: Endpoint>(&self, endpoint: &E) -> Result<WireRequest, Error<E::Code>> {
        let operation = &E::OPERATION;
        debug_assert!(<C::Signer as Signer>::serves(operation.auth));
        endpoint.validate()?;
        let mut request = WireRequest::for_operation(
            operation,
            self.url_with(operation, |name| endpoint.path_param(name)),
            endpoint.body(),
        )
        .map_err(|err| {
            Checker::new(operation).error(
                "body",
                ValidationKind::Malformed {
                    rule: leak_rule(&err.to_string()),
                },
            )
        })?;
        self.inner
            .signer
            .sign_operation(&mut request, operation, self.inner.clock.now_millis());
        Ok(request)
    }

    /// Sends `endpoint` and returns the answer as received (status and bytes), for callers
    /// that decode it themselves.
    pub async fn send_raw<E: Endpoint>(&self, endpoint: &E) -> Result<RawResponse, Error<E::Code>> {
        let request = self.prepare(endpoint)?;
        self.inner
            .http
            .execute(&E::OPERATION, request, endpoint.recipients())
            .await
    }

    /// Sends `endpoint` and decodes the answer; a code of a class other than success is
    /// [`Error::Vendor`].
    pub async fn send<E: Endpoint>(&self, endpoint: &E) -> Result<E::Response, Error<E::Code>> {
        let raw = self.send_raw(endpoint).await?;
        decode::<E>(&raw)
    }
}

/// Decodes an answer to `E` (status, JSON, vendor code) without I/O: what
/// [`ClientCore::send`] does with the bytes it receives.
pub fn decode<E: Endpoint>(raw: &RawResponse) -> Result<E::Response, Error<E::Code>> {
    // A vendor that answers refusals with a 4xx and a typed error body: its code, not a bare
    // status. A 5xx stays an unexpected status (the request may have been acted on).
    if (400..500).contains(&raw.status) {
        if let Some((code, reason)) = E::refusal(&raw.body) {
            return Err(Error::vendor(&E::OPERATION, code, &reason));
        }
    }
    let response: E::Response = decode_json(&E::OPERATION, raw)?;
    match E::status(&response) {
        Some((code, reason)) if code.class() != ErrorClass::Success => {
            Err(Error::vendor(&E::OPERATION, code, reason))
        }
        _ => Ok(response),
    }
}

/// A serialisation error's text is the serialiser's; the checks run first, so this only names
/// a rule they missed.
fn leak_rule(text: &str) -> &'static str {
    if text.contains("scalar") {
        "cannot be sent in a query string"
    } else {
        "cannot be serialised"
    }
}
