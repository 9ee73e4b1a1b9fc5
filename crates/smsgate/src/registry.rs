//! The vendors this build knows: one registry line per vendor, behind its cargo feature.
//!
//! ```
//! let names: Vec<&str> = smsgate::registry().iter().map(|v| v.name).collect();
//! assert!(names.contains(&"nxcloud"));
//! ```

pub use smsgate_provider::{
    BASE_URL, ConfigKey, Queries, ReportError, Settings, SettingsError, Vendor,
};

/// Every vendor enabled in this build, in the order the CLI tries them when no order is
/// configured. The one place the vendor list is written.
pub static VENDORS: &[&Vendor] = &[
    #[cfg(feature = "nxcloud")]
    &smsgate_nxcloud::VENDOR,
    #[cfg(feature = "itniotech")]
    &smsgate_itniotech::VENDOR,
    #[cfg(feature = "laaffic")]
    &smsgate_laaffic::VENDOR,
];

/// Every vendor enabled in this build ([`VENDORS`]).
pub fn registry() -> &'static [&'static Vendor] {
    VENDORS
}

/// The vendor named `name`, if this build knows it.
pub fn vendor(name: &str) -> Option<&'static Vendor> {
    VENDORS.iter().copied().find(|v| v.name == name)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::provider::{Query, QueryError};

    #[test]
    fn every_vendor_once_with_its_own_name_and_prefix() {
        for (i, vendor) in VENDORS.iter().enumerate() {
            assert!(VENDORS[i + 1..].iter().all(|other| {
                other.name != vendor.name && other.env_prefix != vendor.env_prefix
            }));
            assert!(std::ptr::eq(super::vendor(vendor.name).unwrap(), *vendor));
        }
    }

    #[tokio::test]
    async fn a_vendor_without_a_balance_query_says_so() {
        for vendor in VENDORS {
            let mut settings = Settings::new(vendor);
            for key in vendor.keys.iter().filter(|k| k.required) {
                settings.set(key.name, "x").unwrap();
            }
            let provider = vendor.provider(&settings).unwrap();
            if !vendor.queries.balance {
                assert_eq!(
                    provider.balance().await,
                    Err(QueryError::not_offered(vendor.name, Query::Balance))
                );
            }
            if !vendor.queries.delivery_status {
                assert!(provider.status_batch().is_none());
            }
        }
    }
}
