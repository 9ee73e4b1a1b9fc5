//! Credentials and provider order from the config file and the environment.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use smsgate_sandbox::{Faults, Sandbox};

use crate::CliError;

/// The config file.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Provider order.
    pub providers: Option<Vec<String>>,
    /// Region whose national numbers are accepted without a country code (`CN`, `GB`, ...).
    pub default_region: Option<String>,
    /// Accept numbers of a possible length the metadata does not know as valid.
    pub lenient_numbers: Option<bool>,
    /// itniotech settings.
    pub itniotech: Option<BTreeMap<String, String>>,
    /// laaffic settings.
    pub laaffic: Option<BTreeMap<String, String>>,
    /// nxcloud settings.
    pub nxcloud: Option<BTreeMap<String, String>>,
}

impl std::fmt::Debug for ConfigFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets never print; URLs print without their userinfo.
        let section = |section: &Option<BTreeMap<String, String>>| {
            section.as_ref().map(|section| {
                section
                    .iter()
                    .map(|(key, value)| {
                        let shown = if key.contains("secret") {
                            smsgate_transport::redact::REDACTED.to_owned()
                        } else {
                            smsgate_transport::redact::redact_url(value).into_owned()
                        };
                        (key.clone(), shown)
                    })
                    .collect::<BTreeMap<_, _>>()
            })
        };
        f.debug_struct("ConfigFile")
            .field("providers", &self.providers)
            .field("default_region", &self.default_region)
            .field("lenient_numbers", &self.lenient_numbers)
            .field("itniotech", &section(&self.itniotech))
            .field("laaffic", &section(&self.laaffic))
            .field("nxcloud", &section(&self.nxcloud))
            .finish()
    }
}

impl ConfigFile {
    /// Reads `path`, or an empty config without one.
    pub fn load(path: Option<&Path>) -> Result<Self, CliError> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|err| CliError::Config(format!("cannot read {}: {err}", path.display())))?;
        let config: Self =
            toml::from_str(&text).map_err(|err| CliError::Config(toml_error(path, &text, &err)))?;
        config.check_urls(path)?;
        Ok(config)
    }

    /// Parses every URL setting of the file, naming the key of one that does not parse.
    fn check_urls(&self, path: &Path) -> Result<(), CliError> {
        for vendor in VENDORS {
            let Some(section) = self.section(vendor) else {
                continue;
            };
            for (key, value) in section {
                if key.ends_with("_url") {
                    check_url(value).map_err(|reason| {
                        CliError::Config(format!(
                            "{}: `{key}` under [{vendor}]: {reason}",
                            path.display()
                        ))
                    })?;
                }
            }
        }
        Ok(())
    }

    /// How numbers are read: `--default-region` (else the file's `default_region`) and
    /// `--lenient-numbers` (else the file's `lenient_numbers`).
    pub fn number_policy(
        &self,
        region: Option<&str>,
        lenient: bool,
    ) -> Result<smsgate::NumberPolicy, CliError> {
        let mut policy = smsgate::NumberPolicy::default()
            .lenient(lenient || self.lenient_numbers.unwrap_or(false));
        let (region, source) = match (region, &self.default_region) {
            (Some(region), _) => (Some(region), "--default-region"),
            (None, Some(region)) => (Some(region.as_str()), "default_region"),
            (None, None) => (None, ""),
        };
        if let Some(region) = region {
            policy = policy
                .with_default_region(region)
                .map_err(|err| CliError::Config(format!("{source}: {err}")))?;
        }
        Ok(policy)
    }

    fn section(&self, vendor: &str) -> Option<&BTreeMap<String, String>> {
        match vendor {
            "itniotech" => self.itniotech.as_ref(),
            "laaffic" => self.laaffic.as_ref(),
            "nxcloud" => self.nxcloud.as_ref(),
            _ => None,
        }
    }

    /// A setting: the file's `[vendor] key`, else the environment variable.
    fn value(&self, vendor: &str, key: &str) -> Option<String> {
        self.section(vendor)
            .and_then(|s| s.get(key).cloned())
            .or_else(|| std::env::var(env_name(vendor, key)).ok())
            .filter(|v| !v.is_empty())
    }

    /// A URL setting, parsed: a value that is not an absolute http(s) URL names its key.
    fn url(&self, vendor: &str, key: &str) -> Result<Option<String>, CliError> {
        let Some(value) = self.value(vendor, key) else {
            return Ok(None);
        };
        check_url(&value).map_err(|reason| {
            let from_file = self.section(vendor).is_some_and(|s| s.contains_key(key));
            CliError::Config(if from_file {
                format!("`{key}` under [{vendor}]: {reason}")
            } else {
                format!("{}: {reason}", env_name(vendor, key))
            })
        })?;
        Ok(Some(value))
    }

    fn required(&self, vendor: &str, key: &str) -> Result<String, CliError> {
        self.value(vendor, key).ok_or_else(|| {
            CliError::Config(format!(
                "{vendor}: {key} is not set: set {} or `{key}` under [{vendor}] in the config file",
                env_name(vendor, key)
            ))
        })
    }

    /// Whether any credential of `vendor` is present.
    fn mentions(&self, vendor: &str) -> bool {
        self.section(vendor).is_some()
            || KEYS
                .iter()
                .any(|(v, key)| *v == vendor && std::env::var(env_name(vendor, key)).is_ok())
    }
}

const VENDORS: [&str; 3] = ["nxcloud", "itniotech", "laaffic"];

/// Every key the config file knows (a TOML error names one of these, or none).
const KNOWN_KEYS: [&str; 11] = [
    "providers",
    "default_region",
    "lenient_numbers",
    "api_key",
    "api_secret",
    "app_id",
    "base_url",
    "access_key",
    "access_secret",
    "app_key",
    "multi_mt_path",
];
const KEYS: [(&str, &str); 6] = [
    ("itniotech", "api_key"),
    ("laaffic", "api_key"),
    ("nxcloud", "access_key"),
    ("itniotech", "app_id"),
    ("laaffic", "app_id"),
    ("nxcloud", "app_key"),
];

/// Checks that `value` is an absolute http(s) URL with a host; the reason, with the URL's
/// credentials redacted, otherwise.
pub fn check_url(value: &str) -> Result<(), String> {
    let shown = smsgate_transport::redact::redact_url(value);
    let url = url::Url::parse(value.trim())
        .map_err(|err| format!("{shown:?} is not a valid URL: {err}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{shown:?} is not an http:// or https:// URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{shown:?} has no host"));
    }
    Ok(())
}

/// A TOML error by file, line, column and key, without the text of the offending line (it may
/// hold a secret) and without the value the parser quotes in a type error.
fn toml_error(path: &Path, text: &str, err: &toml::de::Error) -> String {
    let mut message = err.message().trim().replace('\n', "; ");
    if message.starts_with("invalid type") || message.starts_with("invalid value") {
        message = strip_quoted(&message);
    }
    let Some(span) = err.span() else {
        return format!("{}: {message}", path.display());
    };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    let column = before[line_start..].chars().count() + 1;
    let mut located = format!("{}:{line}:{column}: {message}", path.display());
    if let Some(key) = key_at(text, line_start) {
        located.push_str(&format!(" (key `{key}`)"));
    }
    located
}

/// The dotted key defined on the line starting at `line_start`, with its table, if any.
fn key_at(text: &str, line_start: usize) -> Option<String> {
    let line = text[line_start..].lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches('"');
    // Only a key this file can hold: a line inside a multi-line string may look like a key
    // and be part of a secret.
    if !KNOWN_KEYS.contains(&key) {
        return None;
    }
    let table = text[..line_start].lines().rev().find_map(|l| {
        let l = l.trim();
        (l.starts_with('[') && l.ends_with(']'))
            .then(|| l.trim_matches(['[', ']']).trim().to_owned())
    });
    Some(match table {
        Some(table) => format!("{table}.{key}"),
        None => key.to_owned(),
    })
}

/// `message` without its backtick- or double-quoted parts (the values a parser quotes).
fn strip_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quote: Option<char> = None;
    for c in message.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '`' || c == '"' => {
                quote = Some(c);
                out.push_str("(value not shown)");
            }
            None => out.push(c),
        }
    }
    out
}

fn env_name(vendor: &str, key: &str) -> String {
    format!("{}_{}", vendor.to_uppercase(), key.to_uppercase())
}

/// A vendor client.
#[derive(Debug, Clone)]
pub enum VendorClient {
    /// itniotech.
    Itniotech(smsgate::itniotech::Client),
    /// laaffic.
    Laaffic(smsgate::laaffic::Client),
    /// nxcloud.
    Nxcloud(smsgate::nxcloud::Client),
}

impl VendorClient {
    /// Vendor name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Itniotech(_) => "itniotech",
            Self::Laaffic(_) => "laaffic",
            Self::Nxcloud(_) => "nxcloud",
        }
    }
}

/// Sets the simulator's accounts from the config file's `[itniotech]`, `[laaffic]` and
/// `[nxcloud]` sections (file only, not the environment), so that one file serves both the
/// simulator and the clients pointed at it. Returns the vendors whose secret came from the file
/// (the banner must not print those).
pub fn sandbox_accounts(
    config: &ConfigFile,
    sandbox: &mut smsgate_sandbox::SandboxConfig,
) -> Vec<&'static str> {
    let mut secret_from_file = Vec::new();
    let file = |vendor: &str, key: &str| {
        config
            .section(vendor)
            .and_then(|s| s.get(key))
            .filter(|v| !v.is_empty())
            .cloned()
    };
    for (vendor, account) in [
        ("itniotech", &mut sandbox.itniotech),
        ("laaffic", &mut sandbox.laaffic),
    ] {
        if let Some(key) = file(vendor, "api_key") {
            account.api_key = key;
        }
        if let Some(secret) = file(vendor, "api_secret") {
            account.api_secret = secret.into();
            secret_from_file.push(vendor);
        }
        if let Some(app) = file(vendor, "app_id") {
            account.app_id = app;
        }
    }
    if let Some(key) = file("nxcloud", "access_key") {
        sandbox.nxcloud.access_key = key;
    }
    if let Some(secret) = file("nxcloud", "access_secret") {
        sandbox.nxcloud.access_secret = secret.into();
        secret_from_file.push("nxcloud");
    }
    if let Some(app) = file("nxcloud", "app_key") {
        sandbox.nxcloud.app_key = app;
    }
    secret_from_file
}

/// Parses `--fault name=value` options.
pub fn parse_faults(specs: &[String]) -> Result<Faults, CliError> {
    let mut faults = Faults::default();
    for spec in specs {
        let (name, value) = spec
            .split_once('=')
            .ok_or_else(|| CliError::Usage(format!("--fault {spec:?}: expected NAME=VALUE")))?;
        let rate = || -> Result<f64, CliError> {
            value
                .parse::<f64>()
                .ok()
                .filter(|r| (0.0..=1.0).contains(r))
                .ok_or_else(|| {
                    CliError::Usage(format!(
                        "--fault {name}: {value:?} is not a rate between 0 and 1"
                    ))
                })
        };
        match name {
            "latency" => {
                let ms = value.trim_end_matches("ms");
                faults.latency = Duration::from_millis(ms.parse().map_err(|_| {
                    CliError::Usage(format!(
                        "--fault latency: {value:?} is not a number of milliseconds"
                    ))
                })?);
            }
            "http500" => faults.http_500_rate = rate()?,
            "drop" => faults.drop_rate = rate()?,
            "malformed" => faults.malformed_rate = rate()?,
            "reject" => faults.reject_rate = rate()?,
            "rate-limit" => {
                faults.rate_limit_per_second = Some(value.parse().map_err(|_| {
                    CliError::Usage(format!(
                        "--fault rate-limit: {value:?} is not a number of requests per second"
                    ))
                })?);
            }
            other => {
                return Err(CliError::Usage(format!(
                    "unknown fault {other:?} (latency, http500, drop, malformed, reject, rate-limit)"
                )));
            }
        }
    }
    Ok(faults)
}

/// The providers to use, in order, built from the config file and environment, or from the
/// sandbox's own credentials.
pub fn clients(
    config: &ConfigFile,
    requested: &[String],
    sandbox: Option<&Sandbox>,
) -> Result<Vec<VendorClient>, CliError> {
    let order: Vec<String> = if !requested.is_empty() {
        requested.to_vec()
    } else if let Some(order) = &config.providers {
        order.clone()
    } else if sandbox.is_some() {
        VENDORS.iter().map(|v| (*v).to_owned()).collect()
    } else {
        let present: Vec<String> = VENDORS
            .iter()
            .filter(|v| config.mentions(v))
            .map(|v| (*v).to_owned())
            .collect();
        if present.is_empty() {
            return Err(CliError::Config(
                "no provider is configured: set credentials in the environment (e.g. ITNIOTECH_API_KEY, ITNIOTECH_API_SECRET, ITNIOTECH_APP_ID) or in a --config file, or try --sandbox".to_owned(),
            ));
        }
        present
    };
    order
        .iter()
        .map(|name| client(config, name, sandbox))
        .collect()
}

fn client(
    config: &ConfigFile,
    name: &str,
    sandbox: Option<&Sandbox>,
) -> Result<VendorClient, CliError> {
    let built = |err: smsgate_transport::ConfigError| CliError::Config(format!("{name}: {err}"));
    match (name, sandbox) {
        ("itniotech" | "laaffic", Some(sandbox)) => {
            let account = if name == "itniotech" {
                &sandbox.config().itniotech
            } else {
                &sandbox.config().laaffic
            };
            Ok(onbuka(
                name,
                &account.api_key,
                account.api_secret.clone(),
                &account.app_id,
                Some(sandbox.url().to_owned()),
            )
            .map_err(built)?)
        }
        ("nxcloud", Some(sandbox)) => {
            let account = &sandbox.config().nxcloud;
            let client = smsgate::nxcloud::Client::builder()
                .access_key(&account.access_key)
                .access_secret(account.access_secret.clone())
                .app_key(&account.app_key)
                .base_url(sandbox.url())
                .build()
                .map_err(built)?;
            Ok(VendorClient::Nxcloud(client))
        }
        ("itniotech" | "laaffic", None) => {
            let (key, secret, app) = (
                config.required(name, "api_key")?,
                config.required(name, "api_secret")?,
                config.required(name, "app_id")?,
            );
            Ok(onbuka(
                name,
                &key,
                secret.into(),
                &app,
                config.url(name, "base_url")?,
            )
            .map_err(built)?)
        }
        ("nxcloud", None) => {
            let mut builder = smsgate::nxcloud::Client::builder()
                .access_key(config.required(name, "access_key")?)
                .access_secret(config.required(name, "access_secret")?)
                .app_key(config.required(name, "app_key")?);
            if let Some(url) = config.url(name, "base_url")? {
                builder = builder.base_url(url);
            }
            if let Some(path) = config.value(name, "multi_mt_path") {
                builder = builder.multi_mt_path(path);
            }
            Ok(VendorClient::Nxcloud(builder.build().map_err(built)?))
        }
        (other, _) => Err(CliError::Usage(format!(
            "unknown provider {other:?} (itniotech, laaffic, nxcloud)"
        ))),
    }
}

fn onbuka(
    name: &str,
    key: &str,
    secret: smsgate_transport::secret::Secret,
    app: &str,
    base_url: Option<String>,
) -> Result<VendorClient, smsgate_transport::ConfigError> {
    if name == "itniotech" {
        let mut builder = smsgate::itniotech::Client::builder()
            .api_key(key)
            .api_secret(secret)
            .app_id(app);
        if let Some(url) = base_url {
            builder = builder.base_url(url);
        }
        Ok(VendorClient::Itniotech(builder.build()?))
    } else {
        let mut builder = smsgate::laaffic::Client::builder()
            .api_key(key)
            .api_secret(secret)
            .app_id(app);
        if let Some(url) = base_url {
            builder = builder.base_url(url);
        }
        Ok(VendorClient::Laaffic(builder.build()?))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn debug_never_shows_a_secret_or_url_userinfo() {
        let config: ConfigFile = toml::from_str(
            "[itniotech]\napi_key = \"k\"\napi_secret = \"s3cr3t\"\nbase_url = \"http://u:pw@h:1\"\n\
             [nxcloud]\naccess_secret = \"n5ecret\"\n",
        )
        .unwrap();
        let shown = format!("{config:?}");
        for secret in ["s3cr3t", "n5ecret", "pw"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(
            shown.contains("api_key") && shown.contains("[redacted]"),
            "{shown}"
        );
    }

    #[test]
    fn a_toml_error_inside_a_multi_line_string_names_no_key() {
        let text = "[itniotech]\napi_secret = \"\"\"\nsk_live_PART1=abc\"\"\"  junk\n";
        let err = toml::from_str::<ConfigFile>(text).unwrap_err();
        let message = toml_error(Path::new("t.toml"), text, &err);
        assert!(!message.contains("sk_live"), "{message}");
        assert!(message.starts_with("t.toml:3:"), "{message}");
    }
}
