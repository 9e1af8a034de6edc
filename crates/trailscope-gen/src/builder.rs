//! The state one record is built with: its generator, the pools, account, region and
//! time; and the small choices every part of a record makes.

use serde_json::Value;

use crate::catalogue::{BUCKET_STEMS, FUNCTION_NAMES, ROLE_NAMES, USER_NAMES};
use crate::pools::Pools;
use crate::rng::Rng;

/// The kinds of `userIdentity` a record can have.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdKind {
    IamUser,
    AssumedRole,
    Root,
    AwsService,
    Federated,
    AwsAccount,
    WebIdentity,
    Saml,
}

/// Builds one record. Every choice comes from `r`, seeded from the archive's seed and the
/// record's index, in a fixed order: the same seed gives the same record.
pub(crate) struct Builder<'a> {
    pub(crate) r: Rng,
    pub(crate) p: &'a Pools,
    /// The account the record is delivered to.
    pub(crate) acct: &'a str,
    pub(crate) region: &'static str,
    /// Epoch seconds of the event.
    pub(crate) time: i64,
}

/// A JSON string.
pub(crate) fn s(v: impl Into<String>) -> Value {
    Value::String(v.into())
}

/// `DescribeInstances` → `describe-instances`, as the AWS CLI names its commands.
pub(crate) fn kebab(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_digit() {
            // lambda's versioned API names: drop the date suffix
            break;
        } else {
            out.push(c);
        }
    }
    out
}

impl<'a> Builder<'a> {
    pub(crate) fn ip(&mut self) -> String {
        self.r.pick(&self.p.ips).clone()
    }
    pub(crate) fn instance(&mut self) -> String {
        self.r.pick(&self.p.instances).clone()
    }
    pub(crate) fn sg(&mut self) -> String {
        self.r.pick(&self.p.sgs).clone()
    }
    pub(crate) fn vpc(&mut self) -> String {
        self.r.pick(&self.p.vpcs).clone()
    }
    pub(crate) fn subnet(&mut self) -> String {
        self.r.pick(&self.p.subnets).clone()
    }
    pub(crate) fn bucket(&mut self) -> String {
        let stem = self.r.pick(&BUCKET_STEMS);
        format!("{stem}-{}", self.p.bucket_suffix)
    }
    pub(crate) fn user(&mut self) -> &'static str {
        USER_NAMES[self.r.idx(USER_NAMES.len())]
    }
    pub(crate) fn role(&mut self) -> &'static str {
        ROLE_NAMES[self.r.idx(ROLE_NAMES.len())]
    }
    pub(crate) fn role_arn(&mut self) -> String {
        let role = self.role();
        let acct = if self.r.chance(0.15) { self.r.pick(&self.p.accounts).clone() } else { self.acct.to_string() };
        let path = if role.starts_with("AWSReservedSSO") {
            "aws-reserved/sso.amazonaws.com/"
        } else if role.starts_with("AWSServiceRole") {
            "aws-service-role/config.amazonaws.com/"
        } else {
            ""
        };
        format!("arn:aws:iam::{acct}:role/{path}{role}")
    }
    pub(crate) fn key_arn(&mut self) -> String {
        let k = self.r.pick(&self.p.kms_keys);
        format!("arn:aws:kms:{}:{}:key/{k}", self.region, self.acct)
    }
    pub(crate) fn function(&mut self) -> &'static str {
        FUNCTION_NAMES[self.r.idx(FUNCTION_NAMES.len())]
    }
    pub(crate) fn az(&mut self) -> String {
        format!("{}{}", self.region, self.r.pick(&["a", "b", "c"]))
    }
}
