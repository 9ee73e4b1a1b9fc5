//! The simulated vendors: one line per vendor.

use crate::simulate::Registered;

/// Every vendor the sandbox simulates, each with its generated spec and its behaviour.
pub static VENDORS: &[Registered] = &[
    &crate::onbuka::brand!(smsgate_itniotech),
    &crate::onbuka::brand!(smsgate_laaffic),
    &crate::nxcloud::NXCLOUD,
];

/// The simulated vendor named `name`, if any.
pub fn vendor(name: &str) -> Option<Registered> {
    VENDORS.iter().copied().find(|v| v.spec().name == name)
}
