//! Credentials and provider order from the config file and the environment, for every vendor
//! of the registry ([`smsgate::registry`]): a vendor's section and environment variables are
//! its descriptor's config keys.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use smsgate::registry::{Settings, SettingsError, Vendor};
use smsgate::{Provider, Routing, registry};
use smsgate_sandbox::{Faults, Sandbox, SandboxConfig};

use crate::CliError;

/// The file's own top-level keys (the others are vendor sections).
const TOP_LEVEL_KEYS: [&str; 4] = ["providers", "default_region", "lenient_numbers", "routing"];

/// The config file.
#[derive(Default)]
pub struct ConfigFile {
    /// Provider order.
    pub providers: Option<Vec<String>>,
    /// Region whose national numbers are accepted without a country code (`CN`, `GB`, ...).
    pub default_region: Option<String>,
    /// Accept numbers of a possible length the metadata does not know as valid.
    pub lenient_numbers: Option<bool>,
    /// `[routing]`: how messages are spread over the providers.
    pub routing: Option<RoutingConfig>,
    /// Each vendor's section (`[itniotech]`), by vendor name: only registered vendors.
    sections: BTreeMap<&'static str, BTreeMap<String, String>>,
}

/// Every key the file may hold at its top level: its own, then one section per vendor.
fn top_level_fields() -> &'static [&'static str] {
    static FIELDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    FIELDS.get_or_init(|| {
        TOP_LEVEL_KEYS
            .iter()
            .copied()
            .chain(registry().iter().map(|v| v.name))
            .collect()
    })
}

impl<'de> Deserialize<'de> for ConfigFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FileVisitor;

        impl<'de> Visitor<'de> for FileVisitor {
            type Value = ConfigFile;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of smsgate settings")
            }

            // Each value is read straight from the TOML deserializer, so an error inside a
            // section keeps its position.
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ConfigFile, A::Error> {
                let mut file = ConfigFile::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "providers" => file.providers = Some(map.next_value()?),
                        "default_region" => file.default_region = Some(map.next_value()?),
                        "lenient_numbers" => file.lenient_numbers = Some(map.next_value()?),
                        "routing" => file.routing = Some(map.next_value()?),
                        name => {
                            let Some(vendor) = smsgate::registry::vendor(name) else {
                                return Err(de::Error::unknown_field(name, top_level_fields()));
                            };
                            if file.sections.contains_key(vendor.name) {
                                return Err(de::Error::duplicate_field(vendor.name));
                            }
                            file.sections.insert(vendor.name, map.next_value()?);
                        }
                    }
                }
                Ok(file)
            }
        }

        deserializer.deserialize_map(FileVisitor)
    }
}

impl fmt::Debug for ConfigFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Secrets never print; URLs print without their userinfo.
        let sections: BTreeMap<&str, BTreeMap<&str, String>> = self
            .sections
            .iter()
            .map(|(vendor, section)| {
                let keys = smsgate::registry::vendor(vendor).map_or(&[][..], |v| v.keys);
                let shown = section
                    .iter()
                    .map(|(key, value)| {
                        let secret = keys.iter().any(|k| k.name == key && k.secret)
                            || key.contains("secret");
                        let shown = if secret {
                            smsgate_transport::redact::REDACTED.to_owned()
                        } else {
                            smsgate_transport::redact::redact_url(value).into_owned()
                        };
                        (key.as_str(), shown)
                    })
                    .collect();
                (*vendor, shown)
            })
            .collect();
        f.debug_struct("ConfigFile")
            .field("providers", &self.providers)
            .field("default_region", &self.default_region)
            .field("lenient_numbers", &self.lenient_numbers)
            .field("routing", &self.routing)
            .field("sections", &sections)
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
        config.check_sections(path)?;
        if let Some(routing) = &config.routing {
            routing.check().map_err(|reason| {
                CliError::Config(format!("{}: [routing]: {reason}", path.display()))
            })?;
        }
        Ok(config)
    }

    /// Checks every section's keys against its vendor's, and parses every URL setting, naming
    /// the key of one that does not parse.
    fn check_sections(&self, path: &Path) -> Result<(), CliError> {
        for vendor in registry() {
            let Some(section) = self.section(vendor) else {
                continue;
            };
            for (key, value) in section {
                let Some(known) = vendor.key(key) else {
                    let keys: Vec<&str> = vendor.keys.iter().map(|k| k.name).collect();
                    return Err(CliError::Config(format!(
                        "{}: unknown key `{key}` under [{}] (it takes {})",
                        path.display(),
                        vendor.name,
                        keys.join(", ")
                    )));
                };
                if known.url {
                    check_url(value).map_err(|reason| {
                        CliError::Config(format!(
                            "{}: `{key}` under [{}]: {reason}",
                            path.display(),
                            vendor.name
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

    /// The file's `[routing]` for a run with `providers` (in order), or `None` without one.
    /// Names of providers not in the run (a `--provider` list narrower than the file's) are
    /// left out, each said once; a rule left with no provider is an error.
    pub fn routing_for(&self, providers: &[&str]) -> Result<Option<Routing>, CliError> {
        let Some(config) = &self.routing else {
            return Ok(None);
        };
        let mut unused: Vec<&str> = Vec::new();
        let mut in_use = |name: &str| {
            let used = providers.contains(&name);
            if !used && !unused.contains(&name) {
                unused.push(registry::vendor(name).map_or("?", |v| v.name));
            }
            used
        };
        let mut routing = match config.strategy {
            StrategyName::Priority => Routing::default(),
            StrategyName::RoundRobin => Routing::round_robin(),
            StrategyName::Weighted => {
                let weights: Vec<(&str, u32)> = config
                    .weights
                    .iter()
                    .filter(|(name, _)| in_use(name))
                    .map(|(name, weight)| (name.as_str(), *weight))
                    .collect();
                if weights.iter().all(|(_, weight)| *weight == 0) {
                    return Err(CliError::Config(format!(
                        "[routing]: no provider of this run ({}) has a weight above 0, so weighted routing would choose none",
                        providers.join(", ")
                    )));
                }
                Routing::weighted(weights)
            }
        };
        for rule in &config.rules {
            let kept: Vec<&str> = rule
                .providers
                .iter()
                .map(String::as_str)
                .filter(|name| in_use(name))
                .collect();
            if kept.is_empty() {
                return Err(CliError::Config(format!(
                    "[routing]: the rule for prefix {} names only providers this run does not use ({}; in use: {})",
                    rule.prefix,
                    rule.providers.join(", "),
                    providers.join(", ")
                )));
            }
            routing = routing.rule(rule.prefix.as_str(), kept);
        }
        if !unused.is_empty() {
            crate::note(format_args!(
                "[routing] names {}, not among this run's providers ({}): left out",
                unused.join(", "),
                providers.join(", ")
            ));
        }
        Ok(Some(routing))
    }

    fn section(&self, vendor: &Vendor) -> Option<&BTreeMap<String, String>> {
        self.sections.get(vendor.name)
    }

    /// A setting: the file's `[vendor] key`, else the environment variable.
    fn value(&self, vendor: &Vendor, key: &str) -> Option<String> {
        self.section(vendor)
            .and_then(|s| s.get(key).cloned())
            .or_else(|| std::env::var(vendor.env_name(key)).ok())
            .filter(|v| !v.is_empty())
    }

    /// Whatever settings of `vendor` the file and the environment hold, none required: what a
    /// delivery-report receiver checks signatures with (a vendor without credentials still
    /// has its reports received, under the path token).
    pub fn present_settings(&self, vendor: &'static Vendor) -> Result<Settings, CliError> {
        let mut settings = Settings::new(vendor);
        for key in vendor.keys {
            if let Some(value) = self.value(vendor, key.name) {
                settings.set(key.name, value).map_err(settings_error)?;
            }
        }
        Ok(settings)
    }

    /// Whether any credential of `vendor` is present: its section, or the environment
    /// variable of one of its required settings that are not secret.
    fn mentions(&self, vendor: &Vendor) -> bool {
        self.section(vendor).is_some()
            || vendor
                .keys
                .iter()
                .filter(|k| k.required && !k.secret)
                .any(|k| std::env::var(vendor.env_name(k.name)).is_ok())
    }

    /// `vendor`'s settings from the file and the environment: every required one present
    /// (the first missing one named), every URL parsed (a bad one names its key).
    pub fn settings(&self, vendor: &'static Vendor) -> Result<Settings, CliError> {
        let mut settings = Settings::new(vendor);
        for key in vendor.keys {
            if let Some(value) = self.value(vendor, key.name) {
                settings.set(key.name, value).map_err(settings_error)?;
            }
        }
        settings.check_required().map_err(settings_error)?;
        for key in vendor.keys.iter().filter(|k| k.url) {
            let Some(value) = settings.get(key.name) else {
                continue;
            };
            check_url(value).map_err(|reason| {
                let from_file = self
                    .section(vendor)
                    .is_some_and(|s| s.contains_key(key.name));
                CliError::Config(if from_file {
                    format!("`{}` under [{}]: {reason}", key.name, vendor.name)
                } else {
                    format!("{}: {reason}", vendor.env_name(key.name))
                })
            })?;
        }
        Ok(settings)
    }
}

/// A settings error as the CLI says it: a missing setting names both places it can come from.
fn settings_error(err: SettingsError) -> CliError {
    match err {
        SettingsError::Missing { vendor, key, env } => CliError::Config(format!(
            "{vendor}: {key} is not set: set {env} or `{key}` under [{vendor}] in the config file"
        )),
        other => CliError::Config(other.to_string()),
    }
}

/// Whether `key` is one the config file can hold (a TOML error names only those).
fn known_key(key: &str) -> bool {
    TOP_LEVEL_KEYS.contains(&key) || registry().iter().any(|v| v.key(key).is_some())
}

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
    if !known_key(key) {
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

/// Sets the simulator's accounts from the config file's vendor sections (file only, not the
/// environment), so that one file serves both the simulator and the clients pointed at it.
/// Returns the vendors whose secret came from the file (the banner must not print those).
pub fn sandbox_accounts(config: &ConfigFile, sandbox: &mut SandboxConfig) -> Vec<&'static str> {
    let mut secret_from_file = Vec::new();
    for vendor in registry() {
        let (Some(section), Some(account)) =
            (config.section(vendor), sandbox.account_mut(vendor.name))
        else {
            continue;
        };
        for key in account.keys() {
            let Some(value) = section.get(key.name).filter(|v| !v.is_empty()) else {
                continue;
            };
            if account.set(key.name, value).is_ok()
                && key.secret
                && !secret_from_file.contains(&vendor.name)
            {
                secret_from_file.push(vendor.name);
            }
        }
    }
    secret_from_file
}

/// Gives every simulated account the starting balance `balance`.
pub fn sandbox_balance(sandbox: &mut SandboxConfig, balance: f64) {
    for account in sandbox.accounts.values_mut() {
        account.balance = balance;
    }
}

/// The `export` line of each simulated vendor: its settings as environment variables, the
/// simulator's `url` as base URL; the secrets of `hidden` vendors (the user's) left out.
pub fn sandbox_exports(sandbox: &SandboxConfig, url: &str, hidden: &[&str]) -> Vec<String> {
    let mut lines = Vec::new();
    for vendor in registry() {
        let Some(account) = sandbox.account(vendor.name) else {
            continue;
        };
        let mut line = String::from("export");
        for (key, value) in account.settings() {
            if value.is_secret() && hidden.contains(&vendor.name) {
                continue;
            }
            line.push_str(&format!(" {}={}", vendor.env_name(key), value.expose()));
        }
        line.push_str(&format!(
            " {}={url}",
            vendor.env_name(smsgate::registry::BASE_URL)
        ));
        lines.push(line);
    }
    lines
}

/// `vendor`'s settings against the running simulator: its own account, its URL.
fn sandbox_settings(vendor: &'static Vendor, sandbox: &Sandbox) -> Result<Settings, CliError> {
    if sandbox.config().account(vendor.name).is_none() {
        return Err(CliError::Usage(format!(
            "the simulator does not simulate {}",
            vendor.name
        )));
    }
    let mut settings = Settings::new(vendor);
    for (key, value) in sandbox.settings(vendor.name) {
        settings.set(key, value).map_err(settings_error)?;
    }
    settings
        .with_base_url(sandbox.url())
        .map_err(settings_error)
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

/// The config file's `[routing]`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingConfig {
    /// `priority` (the default), `round-robin` or `weighted`.
    #[serde(default)]
    strategy: StrategyName,
    /// Weights by provider name, for `weighted`.
    #[serde(default)]
    weights: BTreeMap<String, u32>,
    /// `[[routing.rules]]`, first match wins.
    #[serde(default)]
    rules: Vec<RuleConfig>,
}

/// `strategy` under `[routing]`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
enum StrategyName {
    #[default]
    Priority,
    RoundRobin,
    Weighted,
}

/// One `[[routing.rules]]`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleConfig {
    /// Leading E.164 digits (`"44"`, `"1415"`).
    prefix: String,
    /// Provider names, in order.
    providers: Vec<String>,
}

impl RoutingConfig {
    /// What the file can be told about before any provider is built: every name is a vendor,
    /// weights go with `weighted`, every prefix is digits.
    fn check(&self) -> Result<(), String> {
        let known = |name: &str| {
            if registry::vendor(name).is_some() {
                Ok(())
            } else {
                Err(format!("unknown provider {name:?} ({})", vendor_names()))
            }
        };
        match (self.strategy, self.weights.is_empty()) {
            (StrategyName::Weighted, true) => {
                return Err(
                    "strategy = \"weighted\" needs weights (e.g. weights = { nxcloud = 3, itniotech = 1 })"
                        .to_owned(),
                );
            }
            (StrategyName::Weighted, false) => {
                if self.weights.values().all(|w| *w == 0) {
                    return Err("every weight is 0: no provider would be chosen".to_owned());
                }
            }
            (_, false) => {
                return Err("weights apply only with strategy = \"weighted\"".to_owned());
            }
            (_, true) => {}
        }
        for name in self.weights.keys() {
            known(name)?;
        }
        // Prefixes, empty rules and repeated names: the library's own check.
        let mut rules = Routing::default();
        for rule in &self.rules {
            for name in &rule.providers {
                known(name)?;
            }
            rules = rules.rule(rule.prefix.as_str(), &rule.providers);
        }
        rules.check().map_err(|err| err.to_string())
    }
}

/// The names of every registered vendor, for messages.
pub fn vendor_names() -> String {
    let names: Vec<&str> = registry().iter().map(|v| v.name).collect();
    names.join(", ")
}

/// The providers to use, in order, built from the config file and environment, or from the
/// sandbox's own credentials.
pub fn clients(
    config: &ConfigFile,
    requested: &[String],
    sandbox: Option<&Sandbox>,
) -> Result<Vec<Arc<dyn Provider>>, CliError> {
    let order: Vec<String> = if !requested.is_empty() {
        requested.to_vec()
    } else if let Some(order) = &config.providers {
        order.clone()
    } else if sandbox.is_some() {
        registry().iter().map(|v| v.name.to_owned()).collect()
    } else {
        let present: Vec<String> = registry()
            .iter()
            .filter(|v| config.mentions(v))
            .map(|v| v.name.to_owned())
            .collect();
        if present.is_empty() {
            let example = registry()
                .first()
                .map(|v| {
                    let names: Vec<String> = v
                        .keys
                        .iter()
                        .filter(|k| k.required)
                        .map(|k| v.env_name(k.name))
                        .collect();
                    format!(" (e.g. {})", names.join(", "))
                })
                .unwrap_or_default();
            return Err(CliError::Config(format!(
                "no provider is configured: set credentials in the environment{example} or in a --config file, or try --sandbox"
            )));
        }
        present
    };
    order
        .iter()
        .map(|name| client(config, name, sandbox))
        .collect()
}

/// The provider named `name`, built from the config file and environment (or the sandbox's
/// own credentials).
pub fn client(
    config: &ConfigFile,
    name: &str,
    sandbox: Option<&Sandbox>,
) -> Result<Arc<dyn Provider>, CliError> {
    let vendor = smsgate::registry::vendor(name).ok_or_else(|| {
        CliError::Usage(format!("unknown provider {name:?} ({})", vendor_names()))
    })?;
    let settings = match sandbox {
        Some(sandbox) => sandbox_settings(vendor, sandbox)?,
        None => config.settings(vendor)?,
    };
    vendor.provider(&settings).map_err(settings_error)
}

/// The providers `preview` and `send --dry-run` plan with: `requested`, else those configured,
/// else every vendor. Nothing is sent, so no credential is needed: a missing setting is a
/// placeholder (`PLACEHOLDER-API_KEY`), and one note names the vendors that have them.
pub fn planning_clients(
    config: &ConfigFile,
    requested: &[String],
) -> Result<Vec<Arc<dyn Provider>>, CliError> {
    let order: Vec<String> = if !requested.is_empty() {
        requested.to_vec()
    } else if let Some(order) = &config.providers {
        order.clone()
    } else {
        let present: Vec<String> = registry()
            .iter()
            .filter(|v| config.mentions(v))
            .map(|v| v.name.to_owned())
            .collect();
        if present.is_empty() {
            registry().iter().map(|v| v.name.to_owned()).collect()
        } else {
            present
        }
    };
    let mut placeholders = Vec::new();
    let clients = order
        .iter()
        .map(|name| {
            let vendor = smsgate::registry::vendor(name).ok_or_else(|| {
                CliError::Usage(format!("unknown provider {name:?} ({})", vendor_names()))
            })?;
            let mut settings = Settings::new(vendor);
            let mut missing = false;
            for key in vendor.keys {
                match config.value(vendor, key.name) {
                    Some(value) => {
                        settings.set(key.name, value).map_err(settings_error)?;
                    }
                    None if key.required => {
                        missing = true;
                        settings
                            .set(key.name, placeholder(key.name))
                            .map_err(settings_error)?;
                    }
                    None => {}
                }
            }
            let built = match vendor.provider(&settings) {
                // A credential that is one of several choices (Twilio's auth_token or API
                // key) is not marked required: without one, every unset secret gets a
                // placeholder.
                Err(_) => {
                    for key in vendor.keys.iter().filter(|k| k.secret) {
                        if config.value(vendor, key.name).is_none() {
                            missing = true;
                            settings
                                .set(key.name, placeholder(key.name))
                                .map_err(settings_error)?;
                        }
                    }
                    vendor.provider(&settings)
                }
                built => built,
            };
            if missing {
                placeholders.push(vendor.name);
            }
            built.map_err(settings_error)
        })
        .collect::<Result<Vec<_>, _>>()?;
    if !placeholders.is_empty() {
        crate::note(format_args!(
            "no credentials for {}: the plan shows PLACEHOLDER-... values in their place \
             (nothing is sent)",
            placeholders.join(", ")
        ));
    }
    Ok(clients)
}

/// What `preview` and `--dry-run` put in place of a missing setting.
fn placeholder(key: &str) -> String {
    format!("PLACEHOLDER-{}", key.to_ascii_uppercase())
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

    /// A section holding every key of `vendor`, with `skip` left out.
    fn section_of(vendor: &Vendor, skip: Option<&str>) -> (String, Vec<(&'static str, String)>) {
        let mut text = format!("[{}]\n", vendor.name);
        let mut values = Vec::new();
        for key in vendor.keys.iter().filter(|k| Some(k.name) != skip) {
            let value = if key.url {
                "http://127.0.0.1:9".to_owned()
            } else if key.name.ends_with("path") {
                "/v1/path".to_owned()
            } else if let Some(first) = key.values.first() {
                (*first).to_owned()
            } else {
                format!("{}-{}", vendor.name, key.name)
            };
            text.push_str(&format!("{} = \"{value}\"\n", key.name));
            values.push((key.name, value));
        }
        (text, values)
    }

    #[test]
    fn the_registry_lists_every_vendor_once() {
        let vendors = registry();
        assert_eq!(vendors.len(), 5, "every vendor feature is on in the CLI");
        for (i, vendor) in vendors.iter().enumerate() {
            for other in &vendors[i + 1..] {
                assert_ne!(vendor.name, other.name);
                assert_ne!(vendor.env_prefix, other.env_prefix);
            }
            assert_eq!(vendor.env_prefix, vendor.name.to_uppercase());
            assert!(vendor.keys.iter().all(|k| !k.doc.is_empty()));
        }
    }

    #[test]
    fn every_descriptor_s_keys_round_trip_through_the_config_file() {
        for vendor in registry() {
            let (text, values) = section_of(vendor, None);
            let config: ConfigFile = toml::from_str(&text).unwrap();
            let settings = config.settings(vendor).unwrap();
            for (key, value) in &values {
                assert_eq!(
                    settings.get(key),
                    Some(value.as_str()),
                    "{}.{key}",
                    vendor.name
                );
            }
            let provider = vendor.provider(&settings).unwrap();
            assert_eq!(provider.name(), vendor.name);
            assert_eq!(
                provider.status_batch().is_some(),
                vendor.queries.delivery_status,
                "{}",
                vendor.name
            );
            // Each required key left out is named, with both places it can come from.
            for key in vendor.keys.iter().filter(|k| k.required) {
                let (text, _) = section_of(vendor, Some(key.name));
                let config: ConfigFile = toml::from_str(&text).unwrap();
                let err = config.settings(vendor).unwrap_err().to_string();
                let env = vendor.env_name(key.name);
                assert!(
                    err.starts_with(&format!(
                        "{}: {} is not set: set {env}",
                        vendor.name, key.name
                    )),
                    "{err}"
                );
            }
        }
    }

    #[test]
    fn an_unknown_section_or_key_is_refused() {
        let err = toml::from_str::<ConfigFile>("[nosuchvendor]\napi_key = \"k\"\n")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("nosuchvendor"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        let vendor = registry()[0];
        std::fs::write(&path, format!("[{}]\nno_such_key = \"v\"\n", vendor.name)).unwrap();
        let err = ConfigFile::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("unknown key `no_such_key`"), "{err}");
    }

    #[test]
    fn the_example_files_routing_block_loads_and_routes() {
        let example = include_str!("../smsgate.example.toml");
        // The block, uncommented.
        let text: String = example
            .lines()
            .map(|line| match line.strip_prefix("# ") {
                Some(rest)
                    if rest.trim_start_matches('[').starts_with("routing")
                        || rest.starts_with("strategy")
                        || rest.starts_with("weights")
                        || rest.starts_with("prefix")
                        || rest.starts_with("providers") =>
                {
                    rest
                }
                _ => line,
            })
            .collect::<Vec<_>>()
            .join("\n");
        assert!(text.contains("\n[routing]\n"), "{text}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("smsgate.toml");
        std::fs::write(&path, &text).unwrap();
        let config = ConfigFile::load(Some(&path)).unwrap();
        let routing = config
            .routing_for(&["nxcloud", "itniotech"])
            .unwrap()
            .unwrap();
        assert_eq!(
            routing,
            Routing::weighted([("itniotech", 1), ("nxcloud", 3)]).rule("44", ["itniotech"])
        );
        // A narrower run leaves the other provider out of the weights.
        let routing = config.routing_for(&["itniotech"]).unwrap().unwrap();
        assert_eq!(
            routing,
            Routing::weighted([("itniotech", 1)]).rule("44", ["itniotech"])
        );
    }
}
