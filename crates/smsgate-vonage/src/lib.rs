//! Vonage (Nexmo) SMS API for smsgate.

pub mod generated;
pub mod sign;
