//! Delivery-report push parsers (itniotech/laaffic JSON, nxcloud form or query string) and the
//! vendor crates' `push_status` (and registry report parsers) on arbitrary bodies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smsgate_tests::invariants::check_delivery_reports;

fuzz_target!(|data: &[u8]| {
    check_delivery_reports(data);
});
