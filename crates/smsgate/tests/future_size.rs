//! The state a send keeps while it waits is most of its cost at one number a request
//! (BENCHMARKS.md, item 3: moving and touching a 9 KiB future made the facade 6–8 % slower than
//! the raw loop while it ran fewer instructions). A send of one message through a registry
//! client keeps at most 2.5 times the state of the client's own call.

#![allow(clippy::unwrap_used)]

#[test]
fn a_send_keeps_little_more_state_than_the_client_call_it_makes() {
    let client = smsgate::itniotech::Client::builder()
        .api_key("k")
        .api_secret("s")
        .app_id("a")
        .build()
        .unwrap();
    let gate = smsgate::SmsGate::builder().provider(client.clone()).build();
    let messages = vec![smsgate::Message::new("+8613800138000", "hi")];
    let numbers = ["8613800138000"];
    let body = smsgate::itniotech::bodies::SendSmsRequest {
        numbers: smsgate_transport::endpoint::Joined::commas(&numbers),
        content: "hi",
        ..Default::default()
    };
    // Futures are created, never polled: nothing is sent.
    let send = std::mem::size_of_val(&gate.send(&messages));
    let call = std::mem::size_of_val(&client.send_sms(&body));
    assert!(
        send * 2 <= call * 5,
        "a one-message send keeps {send} bytes, the client's call {call}"
    );
}
