//! Twilio Programmable Messaging for smsgate.

pub mod generated;
