//! The registry descriptor: what one vendor crate tells the facade, the CLI and the simulator
//! about itself ([`Vendor`]), and the settings a provider is built from ([`Settings`]).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use smsgate_transport::ConfigError;
use smsgate_transport::http::HttpConfig;
use smsgate_transport::redact::{REDACTED, redact_url};

use crate::provider::Provider;
use crate::status::DeliveryStatus;

/// The key of the base-URL setting every vendor takes (a proxy, a regional host, the simulator).
pub const BASE_URL: &str = "base_url";

pub use smsgate_transport::spec::{ConfigKey, Push, PushAck, PushSignature};

/// One vendor, as its crate registers it: `pub static VENDOR: Vendor` in every vendor crate.
///
/// Everything a caller needs to configure, build and query the vendor without naming it:
/// the CLI's config loading, `balance` and `report`, and the facade's list of known vendors
/// read these fields.
pub struct Vendor {
    /// The vendor's name (`itniotech`): the config-file section, the provider name in outcomes.
    pub name: &'static str,
    /// Prefix of its environment variables (`ITNIOTECH`: `ITNIOTECH_API_KEY`, ...).
    pub env_prefix: &'static str,
    /// Its settings, in the order a missing one is reported.
    pub keys: &'static [ConfigKey],
    /// Builds its provider from settings (required keys checked first, in order).
    pub build: fn(&Settings) -> Result<Arc<dyn Provider>, SettingsError>,
    /// Reads one delivery-report push body into delivery statuses. Pure: no I/O.
    pub parse_report: fn(&[u8]) -> Result<Vec<DeliveryStatus>, ReportError>,
    /// Which queries its API offers besides sending.
    pub queries: Queries,
    /// The pushes (delivery reports) it sends: how a receiver acknowledges them and whether
    /// the vendor signs them (its generated `operations::PUSHES`).
    pub pushes: &'static [Push],
    /// How a receiver checks a signed push, for a vendor that signs them.
    pub push_check: Option<PushCheck>,
}

/// One push as a receiver got it: what a vendor's signature check reads.
#[derive(Debug, Clone, Copy)]
pub struct PushRequest<'a> {
    /// `GET` or `POST`.
    pub method: &'a str,
    /// The URL the vendor called, as the vendor wrote it (scheme, host, path, query): what
    /// signatures over the URL cover.
    pub url: &'a str,
    /// Headers, names in lower case.
    pub headers: &'a [(String, String)],
    /// The parameters: the body, or the query string of a `GET` (a JSON object or form fields).
    pub body: &'a [u8],
    /// Now, in UNIX seconds (signatures with a timestamp must be fresh).
    pub now_secs: u64,
}

impl PushRequest<'_> {
    /// The value of header `name` (any case), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How a vendor signs its pushes: the setting that holds the key, and the check.
#[derive(Clone, Copy)]
pub struct PushCheck {
    /// The setting whose value signs pushes (`auth_token`, `signature_secret`): without it a
    /// receiver cannot check them.
    pub secret_key: &'static str,
    /// Checks one push with the account's settings (the secret is set): why it is refused.
    pub check: fn(&PushRequest<'_>, &Settings) -> Result<(), String>,
}

impl fmt::Debug for PushCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PushCheck")
            .field("secret_key", &self.secret_key)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vendor")
            .field("name", &self.name)
            .field("env_prefix", &self.env_prefix)
            .field("keys", &self.keys)
            .field("queries", &self.queries)
            .field("pushes", &self.pushes)
            .field("push_check", &self.push_check)
            .finish_non_exhaustive()
    }
}

impl Vendor {
    /// The descriptor of the vendor whose generated settings type is `C` (name, environment
    /// prefix and keys from `C`, its provider built by [`build`]), with its push parser and
    /// queries: what a vendor crate's `pub static VENDOR` is.
    pub const fn of<C>(
        parse_report: fn(&[u8]) -> Result<Vec<DeliveryStatus>, ReportError>,
        queries: Queries,
    ) -> Self
    where
        C: smsgate_transport::client::Credentials,
        C::Client: Provider + 'static,
    {
        Self {
            name: C::VENDOR,
            env_prefix: C::ENV_PREFIX,
            keys: C::SETTINGS,
            build: build::<C>,
            parse_report,
            queries,
            pushes: &[],
            push_check: None,
        }
    }

    /// This descriptor with the pushes the vendor sends (its generated `operations::PUSHES`)
    /// and, if it signs them, how to check them.
    pub const fn with_pushes(mut self, pushes: &'static [Push], check: Option<PushCheck>) -> Self {
        self.pushes = pushes;
        self.push_check = check;
        self
    }

    /// The environment variable of `key` (`ITNIOTECH_API_KEY` for `api_key`).
    pub fn env_name(&self, key: &str) -> String {
        smsgate_transport::client::env_name(self.env_prefix, key)
    }

    /// The setting named `key`, if the vendor has one.
    pub fn key(&self, key: &str) -> Option<&'static ConfigKey> {
        self.keys.iter().find(|k| k.name == key)
    }

    /// Builds the provider from `settings` ([`Vendor::build`]).
    pub fn provider(&self, settings: &Settings) -> Result<Arc<dyn Provider>, SettingsError> {
        (self.build)(settings)
    }

    /// Builds the provider from its environment variables ([`Settings::from_env`]).
    ///
    /// (Kept next to [`Vendor::provider`]; a vendor's `build` usually calls [`client`].)
    pub fn from_env(&'static self) -> Result<Arc<dyn Provider>, SettingsError> {
        self.provider(&Settings::from_env(self))
    }
}

/// The queries a vendor's API offers besides sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Queries {
    /// An account-balance query ([`Provider::balance`]).
    pub balance: bool,
    /// Delivery status by message id ([`Provider::poll_status`]); without it, delivery reports
    /// only come as pushes ([`Vendor::parse_report`]).
    pub delivery_status: bool,
}

/// The settings one provider is built from: values by key (from a config section or the
/// environment) and HTTP options. `Debug` hides secrets and URL userinfo.
#[derive(Clone)]
pub struct Settings {
    vendor: &'static Vendor,
    values: BTreeMap<&'static str, String>,
    http: HttpConfig,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: BTreeMap<&str, String> = self
            .values
            .iter()
            .map(|(key, value)| {
                let secret = self.vendor.key(key).is_some_and(|k| k.secret);
                let value = if secret {
                    REDACTED.to_owned()
                } else {
                    redact_url(value).into_owned()
                };
                (*key, value)
            })
            .collect();
        f.debug_struct("Settings")
            .field("vendor", &self.vendor.name)
            .field("values", &shown)
            .field("http", &self.http)
            .finish()
    }
}

impl Settings {
    /// No setting yet, default HTTP options.
    pub fn new(vendor: &'static Vendor) -> Self {
        Self {
            vendor,
            values: BTreeMap::new(),
            http: HttpConfig::default(),
        }
    }

    /// Every setting of `vendor` whose environment variable is set and not empty.
    pub fn from_env(vendor: &'static Vendor) -> Self {
        let mut settings = Self::new(vendor);
        for key in vendor.keys {
            if let Some(value) = std::env::var(vendor.env_name(key.name))
                .ok()
                .filter(|v| !v.is_empty())
            {
                settings.values.insert(key.name, value);
            }
        }
        settings
    }

    /// The vendor these settings are for.
    pub fn vendor(&self) -> &'static Vendor {
        self.vendor
    }

    /// Sets `key` (an empty value unsets it); a key the vendor does not have is refused.
    pub fn set(&mut self, key: &str, value: impl Into<String>) -> Result<&mut Self, SettingsError> {
        let known = self
            .vendor
            .key(key)
            .ok_or_else(|| SettingsError::UnknownKey {
                vendor: self.vendor.name,
                key: key.to_owned(),
            })?;
        let value = value.into();
        if value.is_empty() {
            self.values.remove(known.name);
        } else {
            self.values.insert(known.name, value);
        }
        Ok(self)
    }

    /// [`Settings::set`], by value.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Result<Self, SettingsError> {
        self.set(key, value)?;
        Ok(self)
    }

    /// The base URL every operation goes to instead of the vendor's ([`BASE_URL`]).
    pub fn with_base_url(self, url: impl Into<String>) -> Result<Self, SettingsError> {
        self.with(BASE_URL, url)
    }

    /// HTTP options (timeouts, proxy, body limit).
    pub fn with_http(mut self, http: HttpConfig) -> Self {
        self.http = http;
        self
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// The value of `key`, or [`SettingsError::Missing`] naming it.
    pub fn require(&self, key: &str) -> Result<&str, SettingsError> {
        self.get(key).ok_or_else(|| self.missing(key))
    }

    /// The base URL, if set.
    pub fn base_url(&self) -> Option<&str> {
        self.get(BASE_URL)
    }

    /// The HTTP options.
    pub fn http(&self) -> &HttpConfig {
        &self.http
    }

    /// The first required setting that is not set, in the vendor's order.
    pub fn check_required(&self) -> Result<(), SettingsError> {
        match self
            .vendor
            .keys
            .iter()
            .find(|k| k.required && !self.values.contains_key(k.name))
        {
            Some(key) => Err(self.missing(key.name)),
            None => Ok(()),
        }
    }

    fn missing(&self, key: &str) -> SettingsError {
        SettingsError::Missing {
            vendor: self.vendor.name,
            key: key.to_owned(),
            env: self.vendor.env_name(key),
        }
    }

    /// A client error of this vendor as a settings error.
    pub fn client_error(&self, source: ConfigError) -> SettingsError {
        SettingsError::Client {
            vendor: self.vendor.name,
            source,
        }
    }
}

/// A provider could not be built from its settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// A required setting is not set.
    #[error("{vendor}: {key} is not set (environment variable {env})")]
    Missing {
        /// The vendor.
        vendor: &'static str,
        /// The setting's key.
        key: String,
        /// Its environment variable.
        env: String,
    },
    /// The vendor has no setting of that name.
    #[error("{vendor}: no setting is named {key:?}")]
    UnknownKey {
        /// The vendor.
        vendor: &'static str,
        /// The key given.
        key: String,
    },
    /// The client refused a setting (a base URL, the HTTP options).
    #[error("{vendor}: {source}")]
    Client {
        /// The vendor.
        vendor: &'static str,
        /// What the client said.
        source: ConfigError,
    },
}

/// A delivery-report push could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {vendor} delivery-report push: {message}")]
pub struct ReportError {
    /// The vendor whose format it was read as.
    pub vendor: &'static str,
    /// What is wrong with it.
    pub message: String,
}

/// The provider of the vendor whose settings type is `C` (its generated client), from
/// `settings`: a descriptor's `build` ([`Vendor::of`]).
pub fn build<C>(settings: &Settings) -> Result<Arc<dyn Provider>, SettingsError>
where
    C: smsgate_transport::client::Credentials,
    C::Client: Provider + 'static,
{
    Ok(Arc::new(client::<C>(settings)?))
}

/// A push body as its generated type `T`: a JSON object, or form fields (a form body, or a
/// query string with or without its `?`). Pure: no I/O.
pub fn parse_push<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    let text = std::str::from_utf8(body)
        .map_err(|err| err.to_string())?
        .trim();
    if text.starts_with('{') {
        serde_json::from_str(text).map_err(|err| err.to_string())
    } else {
        serde_urlencoded::from_str(text.trim_start_matches('?')).map_err(|err| err.to_string())
    }
}

/// The generated client of the vendor whose settings type is `C`, from `settings`: every
/// setting the vendor declares, the base URL and the HTTP options. What a descriptor's `build`
/// calls before wrapping the client as a provider.
pub fn client<C: smsgate_transport::client::Credentials>(
    settings: &Settings,
) -> Result<C::Client, SettingsError> {
    settings.check_required()?;
    let mut builder = smsgate_transport::client::ClientBuilder::<C>::default()
        .http_config(settings.http().clone());
    for key in C::SETTINGS {
        if let Some(value) = settings.get(key.name) {
            builder = builder.setting(key.name, value);
        }
    }
    builder.build().map_err(|err| match err {
        // A setting an auth mode requires (`twilio auth_token`): named like any missing one.
        ConfigError::Missing(what) => {
            let key = what
                .strip_prefix(C::VENDOR)
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|key| C::SETTINGS.iter().find(|s| s.name == key));
            match key {
                Some(key) => settings.missing(key.name),
                None => settings.client_error(ConfigError::Missing(what)),
            }
        }
        other => settings.client_error(other),
    })
}
