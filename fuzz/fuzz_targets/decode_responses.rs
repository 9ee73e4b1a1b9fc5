//! Response decoders of every vendor (the generated endpoints itniotech `sendSms`, laaffic
//! `sendSms/batch` and nxcloud `sendMulti` through `smsgate_transport::client::decode`, the
//! balance, report and `mt` models) on arbitrary answers. An input starting with `0xFF`
//! selects the HTTP status with its second byte; any other input is a 200 body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smsgate_tests::invariants::{check_response_decoders, split_status};

fuzz_target!(|data: &[u8]| {
    let (status, body) = split_status(data);
    check_response_decoders(status, body);
});
