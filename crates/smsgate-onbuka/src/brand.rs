//! What distinguishes one brand of the platform from another: its generated client (paths,
//! environment prefix) and its status tables. [`brand!`](crate::brand) writes the glue.

use std::fmt;
use std::future::Future;

use smsgate_transport::Error;
use smsgate_transport::spec::{CodeTable, DeliveryClass, ErrorClass, Operation};
use smsgate_transport::wire::WireRequest;

use crate::bodies::{GetBalanceRequest, GetReportRequest, SendBatchRequest, SendSmsRequest};
use crate::models::{GetBalanceResponse, GetReportResponse, SendSmsResponse};

/// A brand of the platform: its generated client's operations, as the platform's provider
/// calls them. Implemented by [`brand!`](crate::brand) in each brand crate.
pub trait Brand: Send + Sync + 'static {
    /// The brand's generated client.
    type Client: Clone + fmt::Debug + Send + Sync + 'static;
    /// The brand's generated settings.
    type Credentials: smsgate_transport::client::Credentials<Client = Self::Client>;
    /// The brand's response status table.
    type Code: CodeTable<Class = ErrorClass>;
    /// The brand's per-message delivery status table (getReport).
    type ReportStatus: CodeTable<Class = DeliveryClass>;
    /// Vendor name.
    const VENDOR: &'static str;
    /// `sendSms` (POST).
    const SEND_SMS: Operation;
    /// `sendSms/batch`.
    const SEND_BATCH: Operation;
    /// `getReport`.
    const GET_REPORT: Operation;

    /// Sends `sendSms`.
    fn send_sms(
        client: &Self::Client,
        body: &SendSmsRequest<'_>,
    ) -> impl Future<Output = Result<SendSmsResponse, Error<Self::Code>>> + Send;
    /// Sends `sendSms/batch`.
    fn send_batch(
        client: &Self::Client,
        body: &SendBatchRequest<'_>,
    ) -> impl Future<Output = Result<SendSmsResponse, Error<Self::Code>>> + Send;
    /// Sends `getBalance`.
    fn get_balance(
        client: &Self::Client,
        body: &GetBalanceRequest<'_>,
    ) -> impl Future<Output = Result<GetBalanceResponse, Error<Self::Code>>> + Send;
    /// Sends `getReport`.
    fn get_report(
        client: &Self::Client,
        body: &GetReportRequest<'_>,
    ) -> impl Future<Output = Result<GetReportResponse, Error<Self::Code>>> + Send;
    /// The signed `sendSms` request.
    fn prepare_send_sms(
        client: &Self::Client,
        body: &SendSmsRequest<'_>,
    ) -> Result<WireRequest, Error<Self::Code>>;
    /// The signed `sendSms/batch` request.
    fn prepare_send_batch(
        client: &Self::Client,
        body: &SendBatchRequest<'_>,
    ) -> Result<WireRequest, Error<Self::Code>>;
}

/// Declares the brand of the platform a crate is, at its root: the unit type `$brand`
/// implementing [`Brand`] over the crate's `generated` client, that client's
/// [`Provider`](smsgate_provider::Provider) implementation, and the crate's registry
/// descriptor `VENDOR`.
#[macro_export]
macro_rules! brand {
    ($brand:ident) => {
        /// This brand of the onbuka platform: its generated client, paths and status tables.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $brand;

        /// The registry descriptor of this brand (the platform's, with the brand's settings).
        pub static VENDOR: $crate::__private::Vendor = $crate::vendor::<$brand>();

        impl $crate::Brand for $brand {
            type Client = crate::generated::client::Client;
            type Credentials = crate::generated::client::Credentials;
            type Code = crate::generated::codes::StatusCode;
            type ReportStatus = crate::generated::codes::ReportStatus;
            const VENDOR: &'static str = crate::generated::operations::VENDOR;
            const SEND_SMS: $crate::__private::Operation = crate::generated::operations::SEND_SMS;
            const SEND_BATCH: $crate::__private::Operation =
                crate::generated::operations::SEND_BATCH;
            const GET_REPORT: $crate::__private::Operation =
                crate::generated::operations::GET_REPORT;

            fn send_sms(
                client: &Self::Client,
                body: &$crate::bodies::SendSmsRequest<'_>,
            ) -> impl ::std::future::Future<
                Output = Result<
                    $crate::models::SendSmsResponse,
                    $crate::__private::Error<Self::Code>,
                >,
            > + Send {
                client.send_sms(body)
            }
            fn send_batch(
                client: &Self::Client,
                body: &$crate::bodies::SendBatchRequest<'_>,
            ) -> impl ::std::future::Future<
                Output = Result<
                    $crate::models::SendSmsResponse,
                    $crate::__private::Error<Self::Code>,
                >,
            > + Send {
                client.send_batch(body)
            }
            fn get_balance(
                client: &Self::Client,
                body: &$crate::bodies::GetBalanceRequest<'_>,
            ) -> impl ::std::future::Future<
                Output = Result<
                    $crate::models::GetBalanceResponse,
                    $crate::__private::Error<Self::Code>,
                >,
            > + Send {
                client.get_balance(body)
            }
            fn get_report(
                client: &Self::Client,
                body: &$crate::bodies::GetReportRequest<'_>,
            ) -> impl ::std::future::Future<
                Output = Result<
                    $crate::models::GetReportResponse,
                    $crate::__private::Error<Self::Code>,
                >,
            > + Send {
                client.get_report(body)
            }
            fn prepare_send_sms(
                client: &Self::Client,
                body: &$crate::bodies::SendSmsRequest<'_>,
            ) -> Result<$crate::__private::WireRequest, $crate::__private::Error<Self::Code>> {
                client.prepare_send_sms(body)
            }
            fn prepare_send_batch(
                client: &Self::Client,
                body: &$crate::bodies::SendBatchRequest<'_>,
            ) -> Result<$crate::__private::WireRequest, $crate::__private::Error<Self::Code>> {
                client.prepare_send_batch(body)
            }
        }

        $crate::platform_provider!($brand);
    };
}
