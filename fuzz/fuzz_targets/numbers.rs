//! Number parsing (`normalize_number`, `NumberPolicy` strict and lenient, with and without a
//! default region) on arbitrary text (invalid UTF-8 is read lossily).
#![no_main]

use libfuzzer_sys::fuzz_target;
use smsgate_tests::invariants::check_number;

fuzz_target!(|data: &[u8]| {
    check_number(&String::from_utf8_lossy(data));
});
