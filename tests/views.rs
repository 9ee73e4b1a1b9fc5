//! The clients serialise request bodies from the caller's data, borrowed and checked once,
//! rather than through the generated models (whose newtypes copy every string and check their
//! patterns a second time). These tests hold the borrowed bodies to the exact bytes the
//! generated models produce, for every combination of optional fields, POST and GET.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use smsgate_itniotech::TextMessage;
use smsgate_itniotech::models::{BatchMessage, SendBatchRequest, SendSmsRequest};
use smsgate_transport::wire::WireRequest;

fn client() -> smsgate_itniotech::Client {
    smsgate_itniotech::Client::builder()
        .api_key("key")
        .api_secret("secret")
        .app_id("app-1")
        .base_url("http://127.0.0.1:9")
        .build()
        .unwrap()
}

const CONTENTS: [&str; 4] = [
    "plain",
    "quote \" backslash \\ newline \n & = ? + %",
    "ünïcödé 你好 🎉",
    // Control characters are refused before serialising; CR still needs escaping.
    "carriage \r return",
];

/// Messages covering each optional field present or absent, one to three numbers.
fn messages() -> Vec<TextMessage> {
    (0..16u32)
        .map(|mask| {
            let numbers: Vec<String> = (0..=mask % 3)
                .map(|n| format!("86138{mask:04}{n:04}"))
                .collect();
            let count = numbers.len();
            let mut message = TextMessage::new(numbers, CONTENTS[mask as usize % CONTENTS.len()]);
            if mask & 4 != 0 {
                message = message.sender_id("Sender 1");
            }
            if mask & 8 != 0 {
                message = message.order_ids((0..count).map(|n| format!("o-{mask}-{n}")));
            }
            message
        })
        .collect()
}

fn generated(message: &TextMessage) -> SendSmsRequest {
    SendSmsRequest {
        app_id: "app-1".try_into().unwrap(),
        content: message.content.as_str().try_into().unwrap(),
        numbers: message.numbers.join(",").try_into().unwrap(),
        order_id: message.order_ids.as_ref().map(|ids| ids.join(",")),
        sender_id: message.sender_id.as_deref().map(|s| s.try_into().unwrap()),
    }
}

#[test]
fn send_sms_bodies_are_the_generated_model_s_bytes() {
    let client = client();
    for message in messages() {
        let post = client.prepare_send_sms(&message).unwrap();
        let expected = serde_json::to_vec(&generated(&message)).unwrap();
        assert_eq!(
            post.body.as_deref().unwrap(),
            expected.as_slice(),
            "{message:?}"
        );

        // Borrowed strings give the same request.
        let borrowed = TextMessage {
            numbers: message.numbers.iter().map(String::as_str).collect(),
            content: message.content.as_str(),
            sender_id: message.sender_id.as_deref(),
            order_ids: message
                .order_ids
                .as_ref()
                .map(|ids| ids.iter().map(String::as_str).collect()),
        };
        assert_eq!(client.prepare_send_sms(&borrowed).unwrap().body, post.body);

        let get = client.prepare_send_sms_get(&message).unwrap();
        let expected = WireRequest::query(String::new(), &generated(&message)).unwrap();
        let query = |url: &str| url.split_once('?').map(|(_, q)| q.to_owned());
        assert_eq!(query(&get.url), query(&expected.url), "{message:?}");
    }
}

#[test]
fn batch_bodies_are_the_generated_model_s_bytes() {
    let client = client();
    let messages = messages();
    for chunk in [&messages[..], &messages[..1], &messages[5..9]] {
        let request = client.prepare_send_batch(chunk).unwrap();
        let expected = SendBatchRequest {
            app_id: "app-1".try_into().unwrap(),
            array: chunk
                .iter()
                .map(|m| {
                    let single = generated(m);
                    BatchMessage {
                        content: single.content,
                        numbers: single.numbers,
                        order_id: single.order_id,
                        sender_id: single.sender_id,
                    }
                })
                .collect(),
        };
        assert_eq!(
            request.body.as_deref().unwrap(),
            serde_json::to_vec(&expected).unwrap().as_slice()
        );
    }
}
