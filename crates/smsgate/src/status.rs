//! Delivery status from every vendor, in one shape ([`DeliveryStatus`], from `smsgate-provider`;
//! each vendor crate reads its own answers and pushes into it).

pub use smsgate_provider::DeliveryStatus;
