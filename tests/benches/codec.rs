//! Micro benchmarks of the SDK's own work, each next to the floor of that work measured in the
//! same run (BENCHMARKS.md explains the targets):
//!
//! 1. build + validate + serialise + sign one request, against md5 over the same body bytes;
//! 2. decode a large answer into the typed generated answer (status checked), against
//!    `serde_json::from_slice` into `serde_json::Value`.
//!
//! Run with `cargo bench -p smsgate-tests --bench codec`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use md5::{Digest, Md5};
use smsgate_itniotech::bodies::SendSmsRequest;
use smsgate_nxcloud::bodies::{MultiMtItem, MultiMtRequest};
use smsgate_transport::client::decode as decode_answer;
use smsgate_transport::clock::FixedClock;
use smsgate_transport::endpoint::Joined;
use smsgate_transport::http::RawResponse;

fn itniotech() -> smsgate_itniotech::Client {
    smsgate_itniotech::Client::builder()
        .api_key("bDqJFiq9")
        .api_secret("7bz1lzh9")
        .app_id("4luaKsL2")
        .clock(FixedClock::from_secs(1_630_468_800))
        .build()
        .unwrap()
}

fn nxcloud() -> smsgate_nxcloud::Client {
    smsgate_nxcloud::Client::builder()
        .access_key("fme2na3kdi3ki")
        .access_secret("abciiiko2k3")
        .app_key("appKey")
        .clock(FixedClock::from_millis(1_655_710_885_431))
        .build()
        .unwrap()
}

fn numbers(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("86138{i:08}")).collect()
}

fn build_and_sign(c: &mut Criterion) {
    let client = itniotech();
    let mut group = c.benchmark_group("build_sign");
    for n in [1usize, 100, 1000] {
        let (numbers, ids) = (
            numbers(n),
            (0..n).map(|i| format!("17956{i:015}")).collect::<Vec<_>>(),
        );
        let message = SendSmsRequest {
            numbers: Joined::commas(&numbers),
            content: "Your verification code is 471123. It expires in 10 minutes.",
            order_id: Some(Joined::commas(&ids)),
            ..Default::default()
        };
        let body = client.prepare_send_sms(&message).unwrap().body.unwrap();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(
            BenchmarkId::new("itniotech_send_sms", n),
            &message,
            |b, m| {
                b.iter(|| black_box(client.prepare_send_sms(black_box(m)).unwrap()));
            },
        );
        group.bench_with_input(
            BenchmarkId::new("floor_md5_itniotech_body", n),
            &body,
            |b, body| {
                b.iter(|| black_box(Md5::digest(black_box(body))));
            },
        );
    }
    let client = nxcloud();
    let phones = numbers(200);
    let contents: Vec<String> = (0..200)
        .map(|i| format!("Your verification code is {i:06}."))
        .collect();
    let ids: Vec<String> = (0..200).map(|i| format!("17956{i:015}")).collect();
    let items: Vec<MultiMtItem<'_>> = (0..200)
        .map(|i| MultiMtItem {
            phone: &phones[i],
            content: &contents[i],
            sys_message_id: Some(&ids[i]),
            ..Default::default()
        })
        .collect();
    let items = MultiMtRequest {
        items: &items,
        ..Default::default()
    };
    let body = client.prepare_send_multi(&items).unwrap().body.unwrap();
    group.throughput(Throughput::Elements(200));
    group.bench_function("nxcloud_send_multi/200", |b| {
        b.iter(|| black_box(client.prepare_send_multi(black_box(&items)).unwrap()))
    });
    group.bench_function("floor_md5_nxcloud_body/200", |b| {
        b.iter(|| black_box(Md5::digest(black_box(&body))))
    });
    group.finish();
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    let array: Vec<serde_json::Value> = (0..1000)
        .map(|i| serde_json::json!({"msgId": format!("2511251441{i:09}"), "number": format!("86138{i:08}"), "orderId": format!("17956{i:015}")}))
        .collect();
    let itniotech_body = serde_json::to_vec(&serde_json::json!({"status":"0","reason":"success","success":"1000","fail":"0","array":array})).unwrap();
    let raw = RawResponse {
        status: 200,
        body: bytes::Bytes::from(itniotech_body.clone()),
    };
    group.throughput(Throughput::Elements(1000));
    group.bench_function("itniotech_send_receipt/1000", |b| {
        b.iter(|| {
            black_box(
                decode_answer::<smsgate_itniotech::generated::client::SendSms<'_, '_>>(black_box(
                    &raw,
                ))
                .unwrap(),
            )
        })
    });
    group.bench_function("floor_value_itniotech/1000", |b| {
        b.iter(|| {
            black_box(
                serde_json::from_slice::<serde_json::Value>(black_box(&itniotech_body)).unwrap(),
            )
        })
    });

    let data: Vec<serde_json::Value> = (0..200)
        .map(|i| serde_json::json!({"phone": format!("86138{i:08}"), "messageid": format!("17956{i:015}"), "status": if i % 10 == 0 { "Failure" } else { "Success" }}))
        .collect();
    let nxcloud_body =
        serde_json::to_vec(&serde_json::json!({"code":0,"message":"Success","data":data})).unwrap();
    let raw = RawResponse {
        status: 200,
        body: bytes::Bytes::from(nxcloud_body.clone()),
    };
    group.throughput(Throughput::Elements(200));
    group.bench_function("nxcloud_multi_receipt/200", |b| {
        b.iter(|| {
            black_box(
                decode_answer::<smsgate_nxcloud::generated::client::SendMulti<'_, '_>>(black_box(
                    &raw,
                ))
                .unwrap(),
            )
        })
    });
    group.bench_function("floor_value_nxcloud/200", |b| {
        b.iter(|| {
            black_box(
                serde_json::from_slice::<serde_json::Value>(black_box(&nxcloud_body)).unwrap(),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, build_and_sign, decode);
criterion_main!(benches);
