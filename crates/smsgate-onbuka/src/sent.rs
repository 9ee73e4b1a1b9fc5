//! Sent records by time range (`getSentRcd`): the platform's answer to "what did you receive
//! from me between these two times", read page by page ([`sent_records`]), which settles sends
//! whose outcome was left unknown.

use std::future::Future;
use std::time::Duration;

use smsgate_provider::{QueryError, SentRecord};
use smsgate_transport::spec::{CodeTable, DeliveryClass};

use crate::models::{GetSentRcdResponse, SentRecordEntry};

/// Most records one `getSentRcd` answer holds: a full page means more may follow from the next
/// `startIndex`.
pub const SENT_RECORDS_PAGE: usize = 50_000;

/// The longest time range one `getSentRcd` query covers (31 days).
pub const SENT_RECORDS_RANGE: Duration = Duration::from_secs(31 * 24 * 60 * 60);

/// Most pages one [`sent_records`] call reads (50 million records): an answer that comes back
/// full forever is refused rather than read until memory runs out.
pub const SENT_RECORDS_MAX_PAGES: usize = 1_000;

/// One page to ask for: the query's times as the platform reads them and the offset of its
/// first record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentRecordsPage {
    /// `startTime` (ISO 8601, UTC).
    pub start_time: String,
    /// `endTime` (ISO 8601, UTC).
    pub end_time: String,
    /// `startIndex`.
    pub start_index: i64,
}

/// UNIX milliseconds as ISO 8601 to the second in UTC with an explicit offset
/// (`2021-09-01T04:00:00+00:00`), the milliseconds dropped: the form `getSentRcd` takes.
pub fn iso_utc(ms: u64) -> String {
    let secs = ms / 1000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil, on days since 1970-01-01 (never negative here).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    let (hour, minute, second) = (rem / 3600, rem % 3600 / 60, rem % 60);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}+00:00")
}

/// The query times of `from_ms`..=`to_ms` for `provider`, refused before any request when the
/// range runs backwards or is longer than [`SENT_RECORDS_RANGE`].
///
/// The platform reads whole seconds: both ends are cut to the second, so the query covers the
/// asked range and at most the 999 ms after it.
pub fn sent_records_window(
    provider: &str,
    from_ms: u64,
    to_ms: u64,
) -> Result<(String, String), QueryError> {
    if to_ms < from_ms {
        return Err(QueryError::Failed(format!(
            "{provider} sent records: the range ends ({to_ms} ms) before it starts ({from_ms} ms)"
        )));
    }
    let longest = SENT_RECORDS_RANGE.as_millis();
    if u128::from(to_ms - from_ms) > longest {
        return Err(QueryError::Failed(format!(
            "{provider} sent records: one query covers at most 31 days, asked for {} ms; split the range",
            to_ms - from_ms
        )));
    }
    Ok((iso_utc(from_ms), iso_utc(to_ms)))
}

/// One record of a `getSentRcd` answer, its status read with table `S`: failed when the
/// platform could not send it on (the table's undelivered, rejected or expired class).
pub fn sent_record<S: CodeTable<Class = DeliveryClass>>(entry: SentRecordEntry) -> SentRecord {
    let failed = matches!(
        S::from_code(&entry.status).class(),
        DeliveryClass::Undelivered | DeliveryClass::Rejected | DeliveryClass::Expired
    );
    SentRecord {
        message_id: entry.msg_id,
        number: entry.number,
        at: entry.receive_time,
        failed,
    }
}

/// Every record `provider` received from `from_ms` to `to_ms`: checks the range
/// ([`sent_records_window`]), then asks `fetch` for pages from `startIndex` 0 on while a page
/// comes back full ([`SENT_RECORDS_PAGE`] records), each record read with table `S`.
pub async fn sent_records<S, F, Fut>(
    provider: &str,
    from_ms: u64,
    to_ms: u64,
    mut fetch: F,
) -> Result<Vec<SentRecord>, QueryError>
where
    S: CodeTable<Class = DeliveryClass>,
    F: FnMut(SentRecordsPage) -> Fut,
    Fut: Future<Output = Result<GetSentRcdResponse, QueryError>>,
{
    let (start_time, end_time) = sent_records_window(provider, from_ms, to_ms)?;
    let mut records = Vec::new();
    for _ in 0..SENT_RECORDS_MAX_PAGES {
        let page = SentRecordsPage {
            start_time: start_time.clone(),
            end_time: end_time.clone(),
            start_index: i64::try_from(records.len()).unwrap_or(i64::MAX),
        };
        let answer = fetch(page).await?;
        let full = answer.array.len() >= SENT_RECORDS_PAGE;
        records.extend(answer.array.into_iter().map(sent_record::<S>));
        if !full {
            return Ok(records);
        }
    }
    Err(QueryError::Failed(format!(
        "{provider} sent records: still more after {SENT_RECORDS_MAX_PAGES} full pages of {SENT_RECORDS_PAGE}; query a shorter range"
    )))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The platform's per-record table, as the brands generate it.
    #[derive(Debug, Clone, PartialEq)]
    struct Status(String);

    impl std::fmt::Display for Status {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }

    impl CodeTable for Status {
        type Class = DeliveryClass;
        fn from_code(code: &str) -> Self {
            Self(code.trim().to_owned())
        }
        fn code(&self) -> &str {
            &self.0
        }
        fn meaning(&self) -> &'static str {
            "test"
        }
        fn class(&self) -> DeliveryClass {
            match self.0.as_str() {
                "0" => DeliveryClass::Pending,
                "2" => DeliveryClass::Undelivered,
                _ => DeliveryClass::Unknown,
            }
        }
        fn is_documented(&self) -> bool {
            matches!(self.0.as_str(), "0" | "2")
        }
    }

    const DAY_MS: u64 = 86_400_000;

    #[test]
    fn times_are_iso_8601_utc_with_an_offset() {
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00+00:00");
        // The vendor pages' Timestamp example.
        assert_eq!(iso_utc(1_630_468_800_000), "2021-09-01T04:00:00+00:00");
        // Milliseconds are dropped, never rounded up.
        assert_eq!(iso_utc(1_630_468_800_999), "2021-09-01T04:00:00+00:00");
        // Leap days, the turn of a year and of a century that is a leap year.
        assert_eq!(iso_utc(1_709_164_800_000), "2024-02-29T00:00:00+00:00");
        assert_eq!(iso_utc(1_704_067_199_000), "2023-12-31T23:59:59+00:00");
        assert_eq!(iso_utc(951_782_400_000), "2000-02-29T00:00:00+00:00");
        assert_eq!(iso_utc(4_107_542_399_000), "2100-02-28T23:59:59+00:00");
        assert_eq!(iso_utc(4_107_542_400_000), "2100-03-01T00:00:00+00:00");
        assert_eq!(iso_utc(253_402_300_799_000), "9999-12-31T23:59:59+00:00");
    }

    #[test]
    fn windows_longer_than_31_days_or_backwards_are_refused() {
        let start = 1_630_468_800_123;
        assert_eq!(
            sent_records_window("brand", start, start + 31 * DAY_MS).unwrap(),
            (
                "2021-09-01T04:00:00+00:00".to_owned(),
                "2021-10-02T04:00:00+00:00".to_owned()
            )
        );
        for (from, to) in [(start, start + 31 * DAY_MS + 1), (start, start - 1)] {
            let err = sent_records_window("brand", from, to).unwrap_err();
            assert!(
                matches!(&err, QueryError::Failed(text) if text.starts_with("brand sent records")),
                "{err:?}"
            );
        }
        assert!(sent_records_window("brand", start, start).is_ok());
    }

    fn entry(id: usize, status: &str) -> SentRecordEntry {
        SentRecordEntry {
            msg_id: format!("21080210540110{id:05}"),
            number: format!("9185632{id:05}"),
            receive_time: Some("2021-02-12T09:30:03+08:00".to_owned()),
            status: status.to_owned(),
        }
    }

    #[test]
    fn records_map_with_the_status_table() {
        let sent = sent_record::<Status>(entry(95, "0"));
        assert_eq!(
            sent,
            SentRecord {
                message_id: "2108021054011000095".to_owned(),
                number: "918563200095".to_owned(),
                at: Some("2021-02-12T09:30:03+08:00".to_owned()),
                failed: false,
            }
        );
        assert!(sent_record::<Status>(entry(1, "2")).failed);
        // getReport's failure code means nothing here; an unknown code is not a failure.
        assert!(!sent_record::<Status>(entry(1, "1")).failed);
        let answer: GetSentRcdResponse = serde_json::from_str(
            r#"{"status":"0","reason":"success","success":"2","fail":"0","array":[
                {"msgId":"2108021054011000095","number":"91856321412","receiveTime":"2021-02-12T09:30:03+08:00","status":"0"}]}"#,
        )
        .unwrap();
        let record = sent_record::<Status>(answer.array.into_iter().next().unwrap());
        assert_eq!(
            (record.message_id.as_str(), record.number.as_str()),
            ("2108021054011000095", "91856321412")
        );
    }

    /// `n` records from `first` on, as one answer.
    fn page(first: usize, n: usize) -> GetSentRcdResponse {
        GetSentRcdResponse {
            array: (first..first + n).map(|i| entry(i, "0")).collect(),
            fail: Some("0".to_owned()),
            reason: "success".to_owned(),
            status: "0".to_owned(),
            success: Some(n.to_string()),
        }
    }

    fn block_on<F: Future>(future: F) -> F::Output {
        let waker = std::task::Waker::noop();
        let mut context = std::task::Context::from_waker(waker);
        let mut future = std::pin::pin!(future);
        loop {
            if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
                return output;
            }
        }
    }

    #[test]
    fn pages_are_read_while_full() {
        let mut asked = Vec::new();
        let records = block_on(sent_records::<Status, _, _>(
            "brand",
            0,
            DAY_MS,
            |request: SentRecordsPage| {
                asked.push(request.clone());
                let first = usize::try_from(request.start_index).unwrap();
                let n = if first == 0 { SENT_RECORDS_PAGE } else { 3 };
                async move { Ok(page(first, n)) }
            },
        ))
        .unwrap();
        assert_eq!(records.len(), SENT_RECORDS_PAGE + 3);
        let indexes: Vec<i64> = asked.iter().map(|p| p.start_index).collect();
        assert_eq!(indexes, [0, 50_000]);
        assert_eq!(asked[1].start_time, "1970-01-01T00:00:00+00:00");
        assert_eq!(asked[1].end_time, "1970-01-02T00:00:00+00:00");
        assert_eq!(records[50_002].message_id, page(50_002, 1).array[0].msg_id);
    }

    #[test]
    fn an_error_or_a_long_range_stops_before_more_requests() {
        let mut calls = 0;
        let err = block_on(sent_records::<Status, _, _>("brand", 0, DAY_MS, |_| {
            calls += 1;
            async { Err(QueryError::Failed("boom".to_owned())) }
        }))
        .unwrap_err();
        assert_eq!((err, calls), (QueryError::Failed("boom".to_owned()), 1));

        let mut calls = 0;
        let err = block_on(sent_records::<Status, _, _>(
            "brand",
            0,
            32 * DAY_MS,
            |_| {
                calls += 1;
                async { Ok(page(0, 0)) }
            },
        ))
        .unwrap_err();
        assert!(matches!(err, QueryError::Failed(_)), "{err:?}");
        assert_eq!(calls, 0, "refused before any request");
    }
}
