//! How a call failed: errorCode and errorMessage as each service writes them.

use serde_json::Value;

use crate::builder::Builder;
use crate::rng::ALNUM;

impl Builder<'_> {
    pub(crate) fn error(&mut self, svc: &str, name: &str, arn: &str, req: &Value) -> (String, String) {
        let action = format!(
            "{}:{}",
            match svc {
                "monitoring" => "cloudwatch",
                "elasticloadbalancing" => "elasticloadbalancing",
                other => other,
            },
            name.trim_end_matches(|c: char| c.is_ascii_digit() || c == 'v')
        );
        let resource = format!("arn:aws:{svc}:{}:{}:*", self.region, self.acct);
        match self.r.below(100) {
            0..=44 => {
                let because = "because no identity-based policy allows the";
                if svc == "ec2" {
                    (
                        "Client.UnauthorizedOperation".into(),
                        format!(
                            "You are not authorized to perform this operation. User: {arn} is not authorized to perform: {action} on resource: arn:aws:ec2:{}:{}:instance/* {because} {action} action. Encoded authorization failure message: {}",
                            self.region,
                            self.acct,
                            self.r.chars(240, ALNUM)
                        ),
                    )
                } else if svc == "s3" {
                    ("AccessDenied".into(), "Access Denied".into())
                } else {
                    let code = if matches!(
                        svc,
                        "iam" | "sts" | "cloudtrail" | "sns" | "sqs" | "cloudformation" | "rds"
                    ) {
                        "AccessDenied"
                    } else {
                        "AccessDeniedException"
                    };
                    (
                        code.into(),
                        format!("User: {arn} is not authorized to perform: {action} on resource: {resource} {because} {action} action"),
                    )
                }
            }
            45..=64 => {
                if svc == "ec2" {
                    ("Client.RequestLimitExceeded".into(), "Request limit exceeded.".into())
                } else {
                    ("ThrottlingException".into(), "Rate exceeded".into())
                }
            }
            65..=79 => match svc {
                "iam" => {
                    let who = req
                        .get("userName")
                        .or_else(|| req.get("roleName"))
                        .and_then(Value::as_str)
                        .unwrap_or("unknown")
                        .to_string();
                    let kind = if req.get("userName").is_some() {
                        "user"
                    } else {
                        "role"
                    };
                    (
                        "NoSuchEntityException".into(),
                        format!("The {kind} with name {who} cannot be found."),
                    )
                }
                "ec2" => (
                    "Client.InvalidInstanceID.NotFound".into(),
                    format!("The instance ID '{}' does not exist", self.instance()),
                ),
                "s3" => ("NoSuchBucketPolicy".into(), "The bucket policy does not exist".into()),
                "ssm" => ("ParameterNotFound".into(), String::new()),
                _ => (
                    "ResourceNotFoundException".into(),
                    "Requested resource not found".into(),
                ),
            },
            _ => match svc {
                "ec2" => (
                    "Client.InvalidParameterValue".into(),
                    "Value () for parameter groupId is invalid. The value cannot be empty".into(),
                ),
                "rds" => (
                    "InvalidParameterValue".into(),
                    "Invalid database identifier".into(),
                ),
                _ => (
                    "ValidationException".into(),
                    "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null".into(),
                ),
            },
        }
    }
}
