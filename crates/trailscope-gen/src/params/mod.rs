//! The `requestParameters` of each call, with the response, resources and additional
//! event data that go with it. One function per service; each draws from the record's
//! generator in a fixed order, so that a seed always gives the same record.

mod access;
mod compute;
mod operations;
mod storage;

use serde_json::{json, Value};

use crate::builder::Builder;
use crate::rng::HEX;

/// What a call records besides its `requestParameters`.
#[derive(Default)]
pub(crate) struct CallDetails {
    /// `responseElements` (null when the call returns nothing worth recording).
    pub(crate) response: Value,
    pub(crate) resources: Option<Value>,
    /// `additionalEventData`.
    pub(crate) additional: Option<Value>,
}

impl Builder<'_> {
    /// `requestParameters` of one call, and what goes with it.
    pub(crate) fn params(&mut self, svc: &str, name: &str) -> (Value, CallDetails) {
        let mut out = CallDetails::default();
        let rid = self.r.uuid();
        let req = match svc {
            "ec2" => self.ec2_request(name, &rid, &mut out),
            "s3" => self.s3_request(name, &mut out),
            "iam" => self.iam_request(name, &mut out),
            "sts" => self.sts_request(name, &mut out),
            "kms" => self.kms_request(name, &mut out),
            "lambda" => self.lambda_request(name),
            "cloudtrail" => self.cloudtrail_request(name),
            "logs" => self.logs_request(name),
            "ssm" => self.ssm_request(name, &mut out),
            "secretsmanager" => self.secretsmanager_request(name, &mut out),
            "rds" => self.rds_request(name),
            "dynamodb" => self.dynamodb_request(name),
            "sns" => self.sns_request(name, &mut out),
            "sqs" => self.sqs_request(name, &mut out),
            "cloudformation" => self.cloudformation_request(name, &mut out),
            "ecr" => self.ecr_request(name),
            "ecs" => self.ecs_request(name),
            "eks" => self.eks_request(name),
            "route53" => self.route53_request(name),
            "organizations" => self.organizations_request(name),
            "guardduty" => self.guardduty_request(name),
            "config" => self.config_request(name),
            "monitoring" => self.monitoring_request(name),
            "elasticloadbalancing" => self.elasticloadbalancing_request(name),
            "autoscaling" => self.autoscaling_request(name),
            "athena" => self.athena_request(name, &mut out),
            "glue" => self.glue_request(),
            "states" => self.states_request(name, &mut out),
            "events" => self.events_request(name),
            "signin" => Value::Null,
            _ => self.other_request(svc, name),
        };
        if out.response.is_null() && svc == "ec2" && !name.starts_with("Describe") && self.r.chance(0.7) {
            out.response = json!({"requestId": rid, "_return": true});
        }
        (req, out)
    }

    pub(super) fn other_request(&mut self, svc: &str, name: &str) -> Value {
        let acct = self.acct.to_string();
        let region = self.region;
        if name.starts_with("List") || name.starts_with("Describe") || name.starts_with("Get") {
            match self.r.below(3) {
                0 => Value::Null,
                1 => json!({"maxResults": 100}),
                _ => json!({}),
            }
        } else {
            json!({"resourceArn": format!("arn:aws:{svc}:{region}:{acct}:resource/{}", self.r.chars(12, HEX))})
        }
    }
}
