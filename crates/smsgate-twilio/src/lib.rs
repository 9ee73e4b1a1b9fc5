//! Twilio Programmable Messaging for smsgate.

pub mod generated;
pub mod webhook;
