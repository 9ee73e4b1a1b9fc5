//! The simulated vendors: one line per vendor.

use crate::simulate::Registered;

/// Every vendor the sandbox simulates, each with its generated spec and its behaviour.
pub static VENDORS: &[Registered] = &[
    &crate::onbuka::brand!(smsgate_itniotech),
    &crate::onbuka::brand!(smsgate_laaffic),
    &crate::nxcloud::NXCLOUD,
    &crate::twilio::TWILIO,
    &crate::vonage::VONAGE,
];

/// The simulated vendor named `name`, if any.
pub fn vendor(name: &str) -> Option<Registered> {
    VENDORS.iter().copied().find(|v| v.spec().name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every vendor of the facade's registry is simulated, once, with its settings.
    #[test]
    fn every_registered_vendor_is_simulated_once() {
        let mut simulated: Vec<&str> = VENDORS.iter().map(|v| v.spec().name).collect();
        simulated.sort_unstable();
        let before = simulated.len();
        simulated.dedup();
        assert_eq!(simulated.len(), before, "{simulated:?}");
        for vendor in smsgate::registry::registry() {
            let simulated = super::vendor(vendor.name);
            assert!(simulated.is_some(), "{} is not simulated", vendor.name);
            for setting in simulated.map_or(&[][..], |v| v.spec().settings) {
                assert!(vendor.key(setting.name).is_some(), "{}", setting.name);
            }
        }
    }
}
