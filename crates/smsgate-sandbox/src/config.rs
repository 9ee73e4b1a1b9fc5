//! What a sandbox runs with: one account per simulated vendor (its settings by config key and
//! a balance), faults, the seed, pushes and the body limit.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use smsgate_transport::secret::Secret;
use smsgate_transport::spec::ConfigKey as SettingKey;

use crate::push::PushSettings;

/// Balance every account starts with unless configured otherwise.
pub const DEFAULT_BALANCE: f64 = 1000.0;

/// One setting's value in a simulated account.
#[derive(Debug, Clone, PartialEq)]
pub enum AccountValue {
    /// A value that may be printed (a key, an app id).
    Text(String),
    /// A secret: `Debug` and `Display` print `[redacted]`.
    Secret(Secret),
}

impl AccountValue {
    /// The value itself (a secret exposed: for building a client, never for printing).
    pub fn expose(&self) -> &str {
        match self {
            Self::Text(value) => value,
            Self::Secret(secret) => secret.expose(),
        }
    }

    /// Whether the value is a secret.
    pub fn is_secret(&self) -> bool {
        matches!(self, Self::Secret(_))
    }
}

/// A setting the vendor does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{vendor} has no setting named {key:?}")]
pub struct UnknownSetting {
    /// The vendor.
    pub vendor: &'static str,
    /// The key given.
    pub key: String,
}

/// The simulated account at one vendor: the settings its clients are built with (by config
/// key, as the vendor's generated `Credentials::SETTINGS` lists them) and a starting balance.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    vendor: &'static str,
    keys: &'static [SettingKey],
    values: BTreeMap<&'static str, AccountValue>,
    /// Starting balance; sends deduct from it.
    pub balance: f64,
}

impl Account {
    /// An account of `vendor` with every required setting of `keys` set to a value made from
    /// the vendor's name (`sandbox-<vendor>-key` for the first, `sandbox-<vendor>-secret` for a
    /// secret, else `sandbox-<vendor>-<first word of the key>`), and [`DEFAULT_BALANCE`].
    /// The values are fixed, so runs with the same seed draw the same faults.
    pub fn with_defaults(vendor: &'static str, keys: &'static [SettingKey]) -> Self {
        let values = keys
            .iter()
            .enumerate()
            .filter(|(_, key)| key.required)
            .map(|(index, key)| {
                let word = if key.secret {
                    "secret"
                } else if index == 0 {
                    "key"
                } else {
                    key.name.split('_').next().unwrap_or(key.name)
                };
                let value = format!("sandbox-{vendor}-{word}");
                let value = if key.secret {
                    AccountValue::Secret(Secret::new(value))
                } else {
                    AccountValue::Text(value)
                };
                (key.name, value)
            })
            .collect();
        Self {
            vendor,
            keys,
            values,
            balance: DEFAULT_BALANCE,
        }
    }

    /// The vendor's name.
    pub fn vendor(&self) -> &'static str {
        self.vendor
    }

    /// The value of setting `key` (a secret exposed), if set.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(AccountValue::expose)
    }

    /// The value of secret setting `key`, if set.
    pub fn secret(&self, key: &str) -> Option<&Secret> {
        match self.values.get(key) {
            Some(AccountValue::Secret(secret)) => Some(secret),
            _ => None,
        }
    }

    /// Every setting that has a value, in key order.
    pub fn settings(&self) -> impl Iterator<Item = (&'static str, &AccountValue)> {
        self.values.iter().map(|(key, value)| (*key, value))
    }

    /// The vendor's settings list (keys, which are secret, which are required).
    pub fn keys(&self) -> &'static [SettingKey] {
        self.keys
    }

    /// Sets `key` (kept as a [`Secret`] if the vendor marks it secret); an empty value unsets
    /// it. A key the vendor does not have is refused.
    pub fn set(&mut self, key: &str, value: &str) -> Result<&mut Self, UnknownSetting> {
        let known = self
            .keys
            .iter()
            .find(|k| k.name == key && !k.url)
            .ok_or_else(|| UnknownSetting {
                vendor: self.vendor,
                key: key.to_owned(),
            })?;
        if value.is_empty() {
            self.values.remove(known.name);
        } else if known.secret {
            self.values
                .insert(known.name, AccountValue::Secret(Secret::new(value)));
        } else {
            self.values
                .insert(known.name, AccountValue::Text(value.to_owned()));
        }
        Ok(self)
    }

    /// [`Account::set`], by value.
    pub fn with(mut self, key: &str, value: &str) -> Result<Self, UnknownSetting> {
        self.set(key, value)?;
        Ok(self)
    }

    /// The same account with starting balance `balance`.
    pub fn with_balance(mut self, balance: f64) -> Self {
        self.balance = balance;
        self
    }
}

/// Faults to inject. Rates are probabilities per request (per number for `reject_rate`).
///
/// Every draw depends only on the seed and what it is about, never on arrival order: a
/// request's fault on its operation, query and body (and on how many identical requests came
/// before it, so a repeated request draws afresh); a number's rejection and delivery on the
/// vendor, the number, the text and the caller's id for it (`orderId`, `sysMessageId`). The
/// same seed and the same requests give the same faults, sent one by one or concurrently.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Faults {
    /// Delay before every answer.
    pub latency: Duration,
    /// Share of requests answered with HTTP 500.
    pub http_500_rate: f64,
    /// Share of requests whose connection is dropped mid-answer.
    pub drop_rate: f64,
    /// Share of requests answered with a truncated (malformed) body.
    pub malformed_rate: f64,
    /// Share of numbers (items) refused individually.
    pub reject_rate: f64,
    /// Most requests per second per vendor before the vendor's throttle code.
    pub rate_limit_per_second: Option<u32>,
}

/// Everything a sandbox runs with.
#[derive(Clone, PartialEq)]
pub struct SandboxConfig {
    /// One account per simulated vendor, by vendor name. A vendor without an account refuses
    /// every request as its unknown key.
    pub accounts: BTreeMap<&'static str, Account>,
    /// Price of one SMS part.
    pub price_per_part: f64,
    /// Faults to inject.
    pub faults: Faults,
    /// Seed of every random draw (faults, rejections, delivery outcomes, generated ids).
    pub seed: u64,
    /// Share of accepted messages that end delivered (the rest undelivered).
    pub delivery_rate: f64,
    /// Where to push delivery reports (every vendor, in its own format), if anywhere; a
    /// `{vendor}` in it is replaced by the vendor's name (`http://host/TOKEN/{vendor}`: one path
    /// per vendor, as `smsgate receive` serves them). Redirects are never followed.
    pub push_url: Option<String>,
    /// Queue, concurrency, timeouts and retries of the pushes to `push_url`.
    pub push: PushSettings,
    /// Largest request body accepted, in bytes; a larger one is answered HTTP 413. Default
    /// 8 MiB: the largest legal request is about 4.3 MB (an itniotech batch of 1000 texts of
    /// 1024 four-byte characters), an nxcloud batch of 200 such texts about 0.9 MB.
    pub max_body_bytes: usize,
    /// Most messages the inbox keeps (the web page at `/`, `GET /_sandbox/messages`,
    /// [`Sandbox::messages`](crate::Sandbox::messages)); older ones are dropped and counted.
    /// Default 10 000; 0 keeps none (the inbox off, for load tests).
    pub inbox_capacity: usize,
}

impl SandboxConfig {
    /// Every secret setting of every account, exposed (what the inbox redacts).
    pub(crate) fn secrets(&self) -> Vec<String> {
        self.accounts
            .values()
            .flat_map(Account::settings)
            .filter(|(_, value)| value.is_secret())
            .map(|(_, value)| value.expose().to_owned())
            .collect()
    }

    /// The account of `vendor`, if it is simulated.
    pub fn account(&self, vendor: &str) -> Option<&Account> {
        self.accounts.get(vendor)
    }

    /// The account of `vendor`, to change, if it is simulated.
    pub fn account_mut(&mut self, vendor: &str) -> Option<&mut Account> {
        self.accounts.get_mut(vendor)
    }

    /// The same configuration with `vendor`'s starting balance set (no change if `vendor` is
    /// not simulated).
    pub fn with_balance(mut self, vendor: &str, balance: f64) -> Self {
        if let Some(account) = self.account_mut(vendor) {
            account.balance = balance;
        }
        self
    }
}

impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The push URL may carry credentials in its userinfo; secrets print as `[redacted]`.
        f.debug_struct("SandboxConfig")
            .field("accounts", &self.accounts)
            .field("price_per_part", &self.price_per_part)
            .field("faults", &self.faults)
            .field("seed", &self.seed)
            .field("delivery_rate", &self.delivery_rate)
            .field(
                "push_url",
                &self
                    .push_url
                    .as_deref()
                    .map(smsgate_transport::redact::redact_url),
            )
            .field("push", &self.push)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("inbox_capacity", &self.inbox_capacity)
            .finish()
    }
}

impl Default for SandboxConfig {
    /// An account for every simulated vendor ([`crate::VENDORS`]) with fixed credentials
    /// ([`Account::with_defaults`]) and a balance of 1000, no faults, seed 7.
    fn default() -> Self {
        let accounts = crate::VENDORS
            .iter()
            .map(|vendor| (vendor.spec().name, vendor.default_account()))
            .collect();
        Self {
            accounts,
            price_per_part: 0.005,
            faults: Faults::default(),
            seed: 7,
            delivery_rate: 0.95,
            push_url: None,
            push: PushSettings::default(),
            max_body_bytes: 8 * 1024 * 1024,
            inbox_capacity: crate::inbox::DEFAULT_INBOX_CAPACITY,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn debug_hides_secrets_and_push_url_userinfo() {
        let config = SandboxConfig {
            push_url: Some("http://user:pw@127.0.0.1:9/push".to_owned()),
            ..SandboxConfig::default()
        };
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("pw@") && !shown.contains("-secret"),
            "{shown}"
        );
        assert!(shown.contains("127.0.0.1:9"), "{shown}");
    }

    #[test]
    fn every_simulated_vendor_has_an_account_with_its_required_settings() {
        let config = SandboxConfig::default();
        assert_eq!(config.accounts.len(), crate::VENDORS.len());
        for account in config.accounts.values() {
            for key in account.keys().iter().filter(|k| k.required) {
                let value = account.setting(key.name).unwrap();
                assert!(!value.is_empty(), "{}.{}", account.vendor(), key.name);
                assert_eq!(account.secret(key.name).is_some(), key.secret);
            }
            // Complete for its vendor's signer (one of two auth modes, where there are two).
            let vendor = crate::vendor(account.vendor()).unwrap();
            assert!(
                (vendor.spec().signer)(account).is_some(),
                "{}",
                account.vendor()
            );
        }
        let mut account = config.accounts.values().next().unwrap().clone();
        assert!(account.set("no_such_key", "x").is_err());
    }
}
