//! The vendors this build knows: one registry line per vendor, behind its cargo feature.
//!
//! ```
//! let names: Vec<&str> = smsgate::registry().iter().map(|v| v.name).collect();
//! assert!(names.contains(&"nxcloud"));
//! ```

pub use smsgate_provider::{
    BASE_URL, ConfigKey, Push, PushAck, PushCheck, PushRequest, PushSignature, Queries,
    ReportError, Settings, SettingsError, Vendor,
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
    #[cfg(feature = "twilio")]
    &smsgate_twilio::VENDOR,
    #[cfg(feature = "vonage")]
    &smsgate_vonage::VENDOR,
];

/// A gate's provider: a client of a vendor of this build, whose sends are awaited without
/// boxing them (static dispatch, [`InlineSubmit`](smsgate_provider::InlineSubmit)), or any
/// other [`Provider`](crate::Provider), boxed. Derefs to `dyn Provider` for everything but
/// sending.
macro_rules! slot_providers {
    ($($feature:literal => $variant:ident($client:ty),)*) => {
        pub(crate) enum SlotProvider {
            $(#[cfg(feature = $feature)] $variant($client),)*
            Other(Box<dyn crate::Provider>),
        }

        impl SlotProvider {
            /// `provider`, dispatched statically when it is (or shares, `Arc`) a client of the
            /// registry: clients are cheap clones of one connection pool.
            pub(crate) fn new<P: crate::Provider + 'static>(provider: P) -> Self {
                #[allow(unused_variables)] // a build without vendors has nothing to look for
                if let Some(any) = provider.as_any() {
                    $(#[cfg(feature = $feature)]
                    if let Some(client) = any.downcast_ref::<$client>() {
                        return Self::$variant(client.clone());
                    })*
                }
                Self::Other(Box::new(provider))
            }

            /// [`Provider::submit`](crate::Provider::submit), unboxed for the registry's clients.
            pub(crate) async fn submit(
                &self,
                entries: &[smsgate_provider::Entry<'_>],
                uniform: bool,
            ) -> smsgate_provider::Submission {
                match self {
                    $(#[cfg(feature = $feature)]
                    Self::$variant(client) => {
                        smsgate_provider::InlineSubmit::submit_inline(client, entries, uniform).await
                    })*
                    Self::Other(provider) => provider.submit(entries, uniform).await,
                }
            }
        }

        impl std::ops::Deref for SlotProvider {
            type Target = dyn crate::Provider;

            fn deref(&self) -> &Self::Target {
                match self {
                    $(#[cfg(feature = $feature)] Self::$variant(client) => client,)*
                    Self::Other(provider) => &**provider,
                }
            }
        }
    };
}

// The clients of `VENDORS`, one line each.
slot_providers! {
    "nxcloud" => Nxcloud(smsgate_nxcloud::Client),
    "itniotech" => Itniotech(smsgate_itniotech::Client),
    "laaffic" => Laaffic(smsgate_laaffic::Client),
    "twilio" => Twilio(smsgate_twilio::Client),
    "vonage" => Vonage(smsgate_vonage::Client),
}

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
    use crate::provider::{BoxFuture, Capacity, Entry, Provider, Query, QueryError, Submission};

    /// A provider of the caller's own.
    struct Arbitrary;

    impl Provider for Arbitrary {
        fn name(&self) -> &str {
            "arbitrary"
        }
        fn capacity(&self) -> Capacity {
            Capacity {
                uniform_recipients: 1,
                mixed_recipients: 1,
                max_content_chars: 10,
                max_sender_id_chars: None,
            }
        }
        fn submit<'a>(&'a self, _: &'a [Entry<'a>], _: bool) -> BoxFuture<'a, Submission> {
            Box::pin(async { Submission::Unknown("never sent".to_owned()) })
        }
    }

    /// A client of the registry is awaited unboxed; any other provider is boxed.
    #[cfg(feature = "itniotech")]
    #[test]
    fn registry_clients_are_dispatched_statically() {
        let client = smsgate_itniotech::Client::builder()
            .api_key("k")
            .api_secret("s")
            .app_id("a")
            .build()
            .unwrap();
        assert!(matches!(
            SlotProvider::new(client.clone()),
            SlotProvider::Itniotech(_)
        ));
        // Shared (as the registry builds it): still the client, statically.
        let shared: std::sync::Arc<dyn Provider> = std::sync::Arc::new(client);
        assert!(matches!(
            SlotProvider::new(shared),
            SlotProvider::Itniotech(_)
        ));
        let other = SlotProvider::new(Arbitrary);
        assert!(matches!(other, SlotProvider::Other(_)));
        assert_eq!(other.name(), "arbitrary");
    }

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
            // Secrets too: a vendor with two auth modes requires one of them.
            for key in vendor.keys.iter().filter(|k| k.required || k.secret) {
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
