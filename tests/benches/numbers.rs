//! What reading a number costs: `NumberPolicy::normalize` (libphonenumber metadata) per number,
//! on the fast path (digits with or without `+`, spaces, a national number with a default
//! region) and on the slow path (libphonenumber's own parser: `(0)`, parentheses, invalid
//! numbers), next to the floor of a plain digits check (what the hand-written normaliser did).
//!
//! Run with `cargo bench -p smsgate-tests --bench numbers`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use smsgate::NumberPolicy;

/// 1000 distinct numbers made by `make`.
fn numbers(make: impl Fn(usize) -> String) -> Vec<String> {
    (0..1000).map(make).collect()
}

fn normalize(c: &mut Criterion) {
    let strict = NumberPolicy::default();
    let china = NumberPolicy::default().with_default_region("CN").unwrap();
    let cases: Vec<(&str, &NumberPolicy, Vec<String>)> = vec![
        (
            "cn_plus_digits",
            &strict,
            numbers(|i| format!("+86138{i:08}")),
        ),
        ("cn_digits", &strict, numbers(|i| format!("86138{i:08}"))),
        (
            "cn_spaced",
            &strict,
            numbers(|i| format!("+86 138 {:04} {:04}", i / 100, i % 100)),
        ),
        (
            "cn_national_region_cn",
            &china,
            numbers(|i| format!("138{i:08}")),
        ),
        (
            "mixed_countries",
            &strict,
            numbers(|i| match i % 8 {
                0 => format!("+86138{i:08}"),
                1 => format!("+1201555{:04}", i % 10000),
                2 => format!("+447400{i:06}"),
                3 => format!("+4915{:09}", 100_000_000 + i),
                4 => format!("+9198{i:08}"),
                5 => format!("+336{:08}", 12_000_000 + i),
                6 => format!("+55119{:08}", 12_340_000 + i),
                _ => format!("+1876{:07}", 2_100_000 + i),
            }),
        ),
        (
            "slow_gb_trunk_0",
            &strict,
            numbers(|i| format!("+44 (0)7400 {i:06}")),
        ),
        (
            "slow_invalid_cn",
            &strict,
            numbers(|i| format!("+86 138 {i:06}")),
        ),
    ];
    let mut group = c.benchmark_group("normalize");
    group.throughput(Throughput::Elements(1000));
    for (name, policy, input) in &cases {
        // Every case reads only what it should: valid ones valid, the invalid ones refused.
        let valid = input.iter().filter(|n| policy.normalize(n).is_ok()).count();
        assert_eq!(
            valid,
            if name.contains("invalid") { 0 } else { 1000 },
            "{name}"
        );
        group.bench_with_input(BenchmarkId::new("policy", name), input, |b, input| {
            b.iter(|| {
                for number in input {
                    let _ = black_box(policy.normalize(black_box(number)));
                }
            });
        });
    }
    // The floor: a digits-only check with `+` stripped (the old normaliser's common case).
    let plain = &cases[0].2;
    group.bench_with_input(
        BenchmarkId::new("floor", "digits_check"),
        plain,
        |b, input| {
            b.iter(|| {
                for number in input {
                    let body = number.strip_prefix('+').unwrap_or(number);
                    black_box(
                        (7..=15).contains(&body.len()) && body.bytes().all(|b| b.is_ascii_digit()),
                    );
                }
            });
        },
    );
    group.finish();
}

criterion_group!(benches, normalize);
criterion_main!(benches);
