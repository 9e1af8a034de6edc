//! Request parameters of identity, key and secret services.

use serde_json::{json, Value};

use super::CallDetails;
use crate::builder::Builder;
use crate::catalogue::{MANAGED_POLICIES, PARAM_NAMES, SECRET_NAMES};
use crate::rng::{ALNUM, HEX, UPPER_DIGITS};
use crate::time::iam_date;

impl Builder<'_> {
    pub(super) fn iam_request(&mut self, name: &str, out: &mut CallDetails) -> Value {
        let acct = self.acct.to_string();
        let user = self.user();
        let role = self.role();
        match name {
            "GetUser" | "DeleteUser" | "ListAccessKeys" | "ListMFADevices" | "ListGroupsForUser" => {
                json!({"userName": user})
            }
            "CreateUser" => {
                out.response = json!({"user": {"path": "/", "userName": user, "userId": format!("{}{}", "AIDA", self.r.chars(17, UPPER_DIGITS)), "arn": format!("arn:aws:iam::{acct}:user/{user}"), "createDate": iam_date(self.time)}});
                json!({"userName": user, "tags": [{"key": "team", "value": "platform"}]})
            }
            "CreateAccessKey" => {
                out.response = json!({"accessKey": {"userName": user, "accessKeyId": self.r.pick(&self.p.akia), "status": "Active", "createDate": iam_date(self.time)}});
                json!({"userName": user})
            }
            "DeleteAccessKey" => {
                json!({"userName": user, "accessKeyId": self.r.pick(&self.p.akia)})
            }
            "UpdateAccessKey" => {
                json!({"userName": user, "accessKeyId": self.r.pick(&self.p.akia), "status": "Inactive"})
            }
            "AttachRolePolicy" | "DetachRolePolicy" => {
                json!({"roleName": role, "policyArn": self.r.pick(&MANAGED_POLICIES)})
            }
            "AttachUserPolicy" => {
                json!({"userName": user, "policyArn": self.r.pick(&MANAGED_POLICIES)})
            }
            "PutRolePolicy" => {
                let b = self.bucket();
                json!({"roleName": role, "policyName": "inline-s3-access", "policyDocument": format!("{{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {{\n      \"Effect\": \"Allow\",\n      \"Action\": [\"s3:GetObject\", \"s3:PutObject\"],\n      \"Resource\": \"arn:aws:s3:::{b}/*\"\n    }}\n  ]\n}}")})
            }
            "CreateRole" | "UpdateAssumeRolePolicy" => {
                let doc = format!("{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Allow\",\"Principal\":{{\"AWS\":\"arn:aws:iam::{}:root\"}},\"Action\":\"sts:AssumeRole\"}}]}}", self.r.pick(&self.p.external_accounts));
                if name == "CreateRole" {
                    json!({"roleName": role, "assumeRolePolicyDocument": doc, "description": "cross-account access", "maxSessionDuration": 3600})
                } else {
                    json!({"roleName": role, "policyDocument": doc})
                }
            }
            "GetRole" | "ListAttachedRolePolicies" => json!({"roleName": role}),
            "GetPolicy" => json!({"policyArn": self.r.pick(&MANAGED_POLICIES)}),
            "GetPolicyVersion" => {
                json!({"policyArn": self.r.pick(&MANAGED_POLICIES), "versionId": format!("v{}", self.r.range(1, 9))})
            }
            "ListPolicies" => {
                json!({"scope": "Local", "onlyAttached": false, "policyUsageFilter": "PermissionsPolicy"})
            }
            "GetAccountAuthorizationDetails" => {
                json!({"filter": ["User", "Role", "Group", "LocalManagedPolicy"]})
            }
            "CreateLoginProfile" => {
                json!({"userName": user, "passwordResetRequired": true})
            }
            "AddUserToGroup" => {
                json!({"groupName": self.r.pick(&["Admins", "Developers", "ReadOnly"]), "userName": user})
            }
            "CreatePolicyVersion" => {
                json!({"policyArn": format!("arn:aws:iam::{acct}:policy/app-deploy"), "policyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}", "setAsDefault": true})
            }
            "SimulatePrincipalPolicy" => {
                json!({"policySourceArn": format!("arn:aws:iam::{acct}:user/{user}"), "actionNames": ["s3:GetObject", "s3:PutObject"]})
            }
            _ => Value::Null,
        }
    }

    pub(super) fn sts_request(&mut self, name: &str, out: &mut CallDetails) -> Value {
        match name {
            "AssumeRole" | "AssumeRoleWithWebIdentity" | "AssumeRoleWithSAML" => {
                let role_arn = self.role_arn();
                let session = self.r.pick(&self.p.sessions).clone();
                out.response = self.sts_response(&role_arn, &session);
                let ra = role_arn.split(':').nth(4).unwrap_or("").to_string();
                out.resources = Some(json!([
                    {"accountId": ra, "type": "AWS::IAM::Role", "ARN": role_arn}
                ]));
                json!({"roleArn": role_arn, "roleSessionName": session, "durationSeconds": 3600})
            }
            "GetSessionToken" => json!({"durationSeconds": 43200}),
            "GetFederationToken" => {
                json!({"name": self.r.pick(&["okta-sync", "jenkins-build", "gh-runner"]), "durationSeconds": 3600})
            }
            "DecodeAuthorizationMessage" => {
                json!({"encodedMessage": "HIDDEN_DUE_TO_SECURITY_REASONS"})
            }
            _ => Value::Null,
        }
    }

    pub(super) fn kms_request(&mut self, name: &str, out: &mut CallDetails) -> Value {
        let acct = self.acct.to_string();
        let region = self.region;
        let key = self.key_arn();
        out.resources = Some(json!([{"accountId": acct, "type": "AWS::KMS::Key", "ARN": key}]));
        match name {
            "Decrypt" => {
                let ctx = match self.r.below(3) {
                    0 => {
                        json!({"aws:lambda:FunctionArn": format!("arn:aws:lambda:{region}:{acct}:function:{}", self.function())})
                    }
                    1 => json!({"aws:s3:arn": format!("arn:aws:s3:::{}", self.bucket())}),
                    _ => {
                        json!({"SecretARN": format!("arn:aws:secretsmanager:{region}:{acct}:secret:{}-{}", self.r.pick(&SECRET_NAMES), self.r.chars(6, ALNUM)), "SecretVersionId": self.r.uuid()})
                    }
                };
                json!({"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "encryptionContext": ctx})
            }
            "GenerateDataKey" => {
                json!({"keyId": if self.r.chance(0.5) { key.clone() } else { "alias/aws/s3".into() }, "keySpec": "AES_256", "encryptionContext": {"aws:s3:arn": format!("arn:aws:s3:::{}/{}", self.bucket(), self.r.chars(12, HEX))}})
            }
            "Encrypt" => {
                json!({"keyId": key, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"})
            }
            "ListAliases" | "ListKeys" => json!({"limit": 100}),
            "GetKeyPolicy" | "PutKeyPolicy" => {
                json!({"keyId": key, "policyName": "default"})
            }
            "CreateKey" => {
                out.response = json!({"keyMetadata": {"aWSAccountId": acct, "keyId": self.r.uuid(), "arn": key, "creationDate": iam_date(self.time), "enabled": true, "keyUsage": "ENCRYPT_DECRYPT", "keyState": "Enabled", "origin": "AWS_KMS", "keyManager": "CUSTOMER", "keySpec": "SYMMETRIC_DEFAULT", "multiRegion": false}});
                json!({"keyUsage": "ENCRYPT_DECRYPT", "keySpec": "SYMMETRIC_DEFAULT", "description": "app data key"})
            }
            "ScheduleKeyDeletion" => {
                json!({"keyId": key, "pendingWindowInDays": 7})
            }
            "CreateGrant" => {
                json!({"keyId": key, "granteePrincipal": format!("arn:aws:iam::{acct}:role/{}", self.role()), "operations": ["Decrypt", "Encrypt", "GenerateDataKeyWithoutPlaintext"], "retiringPrincipal": "ebs.amazonaws.com"})
            }
            _ => json!({"keyId": key}),
        }
    }

    pub(super) fn secretsmanager_request(&mut self, name: &str, out: &mut CallDetails) -> Value {
        let acct = self.acct.to_string();
        let region = self.region;
        let sn = *self.r.pick(&SECRET_NAMES);
        let arn = format!("arn:aws:secretsmanager:{region}:{acct}:secret:{sn}-{}", self.r.chars(6, ALNUM));
        match name {
            "ListSecrets" => json!({"maxResults": 100}),
            "CreateSecret" => {
                out.response = json!({"aRN": arn, "name": sn, "versionId": self.r.uuid()});
                json!({"name": sn, "clientRequestToken": self.r.uuid(), "kmsKeyId": self.key_arn()})
            }
            "PutSecretValue" => {
                json!({"secretId": arn, "clientRequestToken": self.r.uuid()})
            }
            "DeleteSecret" => {
                json!({"secretId": arn, "recoveryWindowInDays": 7, "forceDeleteWithoutRecovery": false})
            }
            _ => {
                if self.r.chance(0.5) {
                    json!({"secretId": arn})
                } else {
                    json!({"secretId": sn})
                }
            }
        }
    }

    pub(super) fn ssm_request(&mut self, name: &str, out: &mut CallDetails) -> Value {
        let region = self.region;
        let pname = *self.r.pick(&PARAM_NAMES);
        match name {
            "GetParameter" => json!({"name": pname, "withDecryption": true}),
            "GetParameters" => {
                json!({"names": [pname, self.r.pick(&PARAM_NAMES)], "withDecryption": true})
            }
            "GetParametersByPath" => {
                json!({"path": self.r.pick(&["/prod/", "/staging/", "/shared/"]), "recursive": true, "withDecryption": true})
            }
            "SendCommand" => {
                out.response = json!({"command": {"commandId": self.r.uuid(), "documentName": "AWS-RunShellScript", "status": "Pending"}});
                json!({"instanceIds": [self.instance()], "documentName": "AWS-RunShellScript", "parameters": "HIDDEN_DUE_TO_SECURITY_REASONS", "interactive": false})
            }
            "PutParameter" => {
                json!({"name": pname, "type": "SecureString", "overwrite": true, "value": "HIDDEN_DUE_TO_SECURITY_REASONS"})
            }
            "DeleteParameter" => json!({"name": pname}),
            "StartSession" => {
                out.response = json!({"sessionId": format!("{}-{}", self.user(), self.r.chars(17, HEX)), "tokenValue": "Value hidden due to security reasons.", "streamUrl": format!("wss://ssmmessages.{region}.amazonaws.com/v1/data-channel/{}", self.r.chars(17, HEX))});
                json!({"target": self.instance()})
            }
            "UpdateInstanceInformation" => {
                json!({"instanceId": self.instance(), "agentVersion": "3.3.1142.0", "agentStatus": "Active", "platformType": "Linux", "platformName": "Amazon Linux", "platformVersion": "2023", "iPAddress": format!("10.0.{}.{}", self.r.below(256), self.r.range(1, 254)), "computerName": format!("ip-10-0-{}-{}.ec2.internal", self.r.below(256), self.r.below(256)), "agentName": "amazon-ssm-agent", "availabilityZone": self.az(), "availabilityZoneId": "use1-az4"})
            }
            "GetCommandInvocation" => {
                json!({"commandId": self.r.uuid(), "instanceId": self.instance()})
            }
            _ => json!({"maxResults": 50}),
        }
    }

    pub(super) fn organizations_request(&mut self, name: &str) -> Value {
        let acct = self.acct.to_string();
        match name {
            "DescribeAccount" => json!({"accountId": self.r.pick(&self.p.accounts)}),
            "CreateAccount" => {
                json!({"email": "new-account@example.com", "accountName": "sandbox"})
            }
            "AttachPolicy" => {
                json!({"policyId": format!("p-{}", self.r.chars(8, b"abcdefghijklmnopqrstuvwxyz0123456789")), "targetId": acct})
            }
            "ListPolicies" => json!({"filter": "SERVICE_CONTROL_POLICY"}),
            _ => Value::Null,
        }
    }
}
