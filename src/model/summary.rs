//! The summary of one record: what parsing produces, what the archive index stores, and
//! what an [`Event`](super::Event) is made from.

use super::raw::ByteSpan;
use super::SymField;

/// The names of a [`Summary`]'s string fields, in order. The archive index stores these
/// names, so an index written by one build reads correctly in another whose in-memory event
/// layout differs (an unknown name is ignored, a missing one reads as empty).
pub const SUMMARY_FIELDS: [&str; 16] = [
    "name",
    "source",
    "region",
    "principal",
    "arn",
    "identity_type",
    "access_key",
    "ip",
    "account",
    "identity_account",
    "error",
    "agent",
    "category",
    "event_type",
    "event_id",
    "request_id",
];
/// The event field each of a [`Summary`]'s strings fills (`None`: kept apart).
pub const SUMMARY_SYMS: [Option<SymField>; 16] = [
    Some(SymField::Name),
    Some(SymField::Source),
    Some(SymField::Region),
    Some(SymField::Principal),
    Some(SymField::Arn),
    Some(SymField::IdentityType),
    Some(SymField::AccessKey),
    Some(SymField::Ip),
    Some(SymField::Account),
    Some(SymField::IdentityAccount),
    Some(SymField::Error),
    Some(SymField::Agent),
    Some(SymField::Category),
    Some(SymField::EventType),
    None,
    None,
];
/// The index of the eventID among a [`Summary`]'s strings.
pub const SUMMARY_EVENT_ID: usize = 14;
/// The index of the requestID among a [`Summary`]'s strings.
pub const SUMMARY_REQUEST_ID: usize = 15;

/// What the list needs of one record, as plain strings and numbers: what parsing produces and
/// what the archive index stores (see [`SUMMARY_FIELDS`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary<'a> {
    /// The fields named by [`SUMMARY_FIELDS`], in order.
    pub strs: [std::borrow::Cow<'a, str>; 16],
    /// The record has an eventID (possibly empty), which de-duplication keys on.
    pub has_event_id: bool,
    /// Milliseconds since the epoch, or [`NO_TIME`](super::NO_TIME).
    pub time: i64,
    /// readOnly, when the record says.
    pub read_only: Option<bool>,
    /// Resource ARNs.
    pub resources: Vec<std::borrow::Cow<'a, str>>,
    /// The string values of requestParameters (see [`Params`](super::record::Params)).
    pub params: Vec<std::borrow::Cow<'a, str>>,
    /// requestParameters holds more strings than `params`.
    pub more_params: bool,
    /// Where the record is in its input's content.
    pub span: ByteSpan,
    /// xxh3 of the record's bytes, for de-duplication.
    pub raw_hash: u64,
}
