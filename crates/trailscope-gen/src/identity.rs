//! Who made a call: the kind of identity, its userIdentity, the user agent it calls with,
//! and what STS hands out.

use serde_json::{json, Map, Value};

use crate::builder::{kebab, s, Builder, IdKind};
use crate::catalogue::{ROLE_NAMES, ROLE_WEIGHTS, SERVICE_PRINCIPALS, USER_NAMES};
use crate::rng::{weighted, B64, UPPER_DIGITS};
use crate::time::{iam_date, iso};

impl Builder<'_> {
    pub(crate) fn user_agent(&mut self, kind: IdKind, svc: &str, name: &str) -> (String, bool) {
        if kind == IdKind::AwsService {
            return (self.service_principal_for(svc), false);
        }
        let cmd = format!("{}.{}", svc, kebab(name));
        let ua = match self.r.below(100) {
            0..=21 => {
                let minor = self.r.range(13, 22);
                let patch = self.r.range(0, 40);
                let py = self.r.pick(&["3.11.8", "3.12.6", "3.11.6"]);
                let os = self.r.pick(&[
                    "Linux/6.1.79-99.167.amzn2023.x86_64 exe/x86_64.amzn.2023",
                    "Darwin/23.6.0 exe/x86_64",
                    "Darwin/24.1.0 exe/arm64",
                    "Linux/5.15.0-1064-aws exe/x86_64.ubuntu.22",
                    "Windows/10 exe/AMD64",
                ]);
                format!("aws-cli/2.{minor}.{patch} Python/{py} {os} prompt/off command/{cmd}")
            }
            22..=41 => {
                let v = self.r.range(20, 80);
                format!(
                    "Boto3/1.35.{v} md/Botocore#1.35.{v} ua/2.0 os/linux#5.10 md/arch#x86_64 lang/python#3.12.7 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.{v}"
                )
            }
            42..=51 => {
                let v = self.r.range(40, 55);
                format!("aws-sdk-go/1.{v}.{} (go1.22.{}; linux; amd64)", self.r.below(50), self.r.below(9))
            }
            52..=59 => {
                let v = self.r.range(24, 32);
                format!(
                    "aws-sdk-go-v2/1.{v}.{} os/linux lang/go#1.23.2 md/GOOS#linux md/GOARCH#amd64 api/{svc}#1.{}.{}",
                    self.r.below(9),
                    self.r.range(20, 190),
                    self.r.below(10)
                )
            }
            60..=63 => {
                let tf = self.r.range(5, 10);
                let prov = self.r.range(60, 82);
                format!(
                    "APN/1.0 HashiCorp/1.0 Terraform/1.{tf}.{} (+https://www.terraform.io) terraform-provider-aws/5.{prov}.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.{} os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64 api/{svc}#1.{}.0",
                    self.r.below(6),
                    self.r.below(8),
                    self.r.range(20, 190)
                )
            }
            64..=82 => {
                if svc == "s3" {
                    "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.770 Linux/5.10.227-198.884.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.432-b08 java/1.8.0_432 vendor/Oracle_Corporation cfg/retry-mode/standard]".to_string()
                } else {
                    return ("console.amazonaws.com".to_string(), true);
                }
            }
            83..=85 => format!(
                "aws-internal/3 aws-sdk-java/1.12.{} Linux/5.10.227-198.884.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.432-b08 java/1.8.0_432 vendor/Oracle_Corporation cfg/retry-mode/standard",
                self.r.range(600, 780)
            ),
            86..=90 => format!(
                "aws-sdk-java/2.29.{} Linux/6.1 OpenJDK_64-Bit_Server_VM/21.0.5+11-LTS Java/21.0.5 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy",
                self.r.below(40)
            ),
            91..=95 => format!(
                "aws-sdk-js/3.{}.0 ua/2.1 os/linux#5.10 lang/js md/nodejs#20.18.0 api/{svc}#3.{}.0 exec-env/AWS_Lambda_nodejs20.x",
                self.r.range(600, 700),
                self.r.range(600, 700)
            ),
            96..=97 => "AWS Internal".to_string(),
            _ => self.service_principal_for(svc),
        };
        (ua, false)
    }

    pub(crate) fn service_principal_for(&mut self, svc: &str) -> String {
        match svc {
            "kms" => self
                .r
                .pick(&[
                    "s3.amazonaws.com",
                    "secretsmanager.amazonaws.com",
                    "lambda.amazonaws.com",
                    "ebs.amazonaws.com",
                ])
                .to_string(),
            "sts" => self
                .r
                .pick(&["lambda.amazonaws.com", "ecs-tasks.amazonaws.com", "ec2.amazonaws.com", "config.amazonaws.com"])
                .to_string(),
            "logs" => "lambda.amazonaws.com".to_string(),
            "config" => "config.amazonaws.com".to_string(),
            _ => self.r.pick(&SERVICE_PRINCIPALS).to_string(),
        }
    }

    pub(crate) fn session_context(&mut self, issuer: Value, mfa: bool) -> Value {
        let created = self.time - self.r.range(5, 3600) as i64;
        json!({
            "sessionIssuer": issuer,
            "webIdFederationData": {},
            "attributes": {
                "creationDate": iso(created),
                "mfaAuthenticated": if mfa { "true" } else { "false" }
            }
        })
    }

    pub(crate) fn identity_kind(&mut self, svc: &str, name: &str) -> IdKind {
        match name {
            "AssumeRoleWithWebIdentity" => return IdKind::WebIdentity,
            "AssumeRoleWithSAML" => return IdKind::Saml,
            "ConsoleLogin" => {
                return *weighted(&mut self.r, &[(IdKind::IamUser, 50), (IdKind::AssumedRole, 42), (IdKind::Root, 8)])
            }
            _ => {}
        }
        let svc_heavy = matches!(svc, "kms" | "sts" | "logs" | "config" | "securityhub");
        *weighted(
            &mut self.r,
            &[
                (IdKind::AssumedRole, 37),
                (IdKind::IamUser, 24),
                (IdKind::AwsService, if svc_heavy { 38 } else { 23 }),
                (IdKind::Root, 3),
                (IdKind::Federated, 3),
                (IdKind::AwsAccount, if svc_heavy { 5 } else { 2 }),
            ],
        )
    }

    /// Returns (userIdentity, arn used in error messages, invokedBy service).
    pub(crate) fn identity(&mut self, kind: IdKind, console: bool) -> (Value, String, Option<String>) {
        let acct = self.acct.to_string();
        let ai = self.p.accounts.iter().position(|a| *a == acct).unwrap_or(0);
        match kind {
            IdKind::IamUser => self.iam_user(acct.clone(), ai, console),
            IdKind::AssumedRole => self.assumed_role(acct.clone(), ai, console),
            IdKind::Root => {
                let arn = format!("arn:aws:iam::{acct}:root");
                let mut m = Map::new();
                m.insert("type".into(), s("Root"));
                m.insert("principalId".into(), s(acct.clone()));
                m.insert("arn".into(), s(arn.clone()));
                m.insert("accountId".into(), s(acct.clone()));
                if console {
                    m.insert("accessKeyId".into(), s(self.r.pick(&self.p.asia).clone()));
                    let sc = self.session_context(json!({}), true);
                    m.insert("sessionContext".into(), sc);
                } else {
                    m.insert("accessKeyId".into(), s(self.r.pick(&self.p.akia).clone()));
                }
                (Value::Object(m), arn, None)
            }
            IdKind::AwsService => {
                let svc = self.r.pick(&SERVICE_PRINCIPALS).to_string();
                (json!({"type": "AWSService", "invokedBy": svc}), svc.clone(), Some(svc))
            }
            IdKind::Federated => self.federated_user(acct.clone(), ai),
            IdKind::AwsAccount => {
                let other = self.r.pick(&self.p.external_accounts).clone();
                let pid = format!("{}{}", "AIDA", self.r.chars(17, UPPER_DIGITS));
                let v = json!({"type": "AWSAccount", "principalId": pid, "accountId": other});
                (v, format!("arn:aws:iam::{other}:root"), None)
            }
            IdKind::WebIdentity => self.web_identity_user(acct.clone()),
            IdKind::Saml => {
                let user = format!("{}@example.com", self.r.pick(&USER_NAMES[..19]));
                let v = json!({
                    "type": "SAMLUser",
                    "principalId": format!("{}:{user}", self.r.chars(28, B64)),
                    "userName": user,
                    "identityProvider": self.r.chars(28, B64)
                });
                (v, format!("arn:aws:iam::{acct}:saml-provider/Okta"), None)
            }
        }
    }

    /// An IAM user, signed in to the console or calling with an access key.
    fn iam_user(&mut self, acct: String, ai: usize, console: bool) -> (Value, String, Option<String>) {
        let u = self.r.idx(USER_NAMES.len());
        let name = USER_NAMES[u];
        let arn = format!("arn:aws:iam::{acct}:user/{name}");
        let mut m = Map::new();
        m.insert("type".into(), s("IAMUser"));
        m.insert("principalId".into(), s(self.p.user_ids[ai][u].clone()));
        m.insert("arn".into(), s(arn.clone()));
        m.insert("accountId".into(), s(acct.clone()));
        if console {
            m.insert("accessKeyId".into(), s(self.r.pick(&self.p.asia).clone()));
            m.insert("userName".into(), s(name));
            let mfa = self.r.chance(0.7);
            let sc = self.session_context(json!({}), mfa);
            m.insert("sessionContext".into(), sc);
        } else {
            let k = ((ai * USER_NAMES.len() + u) * 2 + self.r.idx(2)) % self.p.akia.len();
            m.insert("accessKeyId".into(), s(self.p.akia[k].clone()));
            m.insert("userName".into(), s(name));
        }
        (Value::Object(m), arn, None)
    }

    /// A role session: SSO, a service role, or a role assumed by a person or a machine.
    fn assumed_role(&mut self, acct: String, ai: usize, console: bool) -> (Value, String, Option<String>) {
        let ri = *weighted(&mut self.r, &ROLE_WEIGHTS);
        let role = ROLE_NAMES[ri];
        let session = if role.starts_with("AWSReservedSSO") {
            format!("{}@example.com", self.r.pick(&USER_NAMES[..19]))
        } else {
            self.r.pick(&self.p.sessions).clone()
        };
        let role_id = &self.p.role_ids[ai][ri];
        let arn = format!("arn:aws:sts::{acct}:assumed-role/{role}/{session}");
        let path = if role.starts_with("AWSReservedSSO") {
            "aws-reserved/sso.amazonaws.com/"
        } else if role.starts_with("AWSServiceRole") {
            "aws-service-role/config.amazonaws.com/"
        } else {
            ""
        };
        let issuer = json!({
            "type": "Role",
            "principalId": role_id,
            "arn": format!("arn:aws:iam::{acct}:role/{path}{role}"),
            "accountId": acct,
            "userName": role
        });
        let mfa = role.starts_with("AWSReservedSSO") && self.r.chance(0.3);
        let sc = self.session_context(issuer, mfa);
        let mut m = Map::new();
        m.insert("type".into(), s("AssumedRole"));
        m.insert("principalId".into(), s(format!("{role_id}:{session}")));
        m.insert("arn".into(), s(arn.clone()));
        m.insert("accountId".into(), s(acct.clone()));
        m.insert("accessKeyId".into(), s(self.r.pick(&self.p.asia).clone()));
        m.insert("sessionContext".into(), sc);
        let invoked = if !console && self.r.chance(0.05) {
            let svc = self.r.pick(&SERVICE_PRINCIPALS).to_string();
            m.insert("invokedBy".into(), s(svc.clone()));
            Some(svc)
        } else {
            None
        };
        (Value::Object(m), arn, invoked)
    }

    /// A federated user (GetFederationToken).
    fn federated_user(&mut self, acct: String, ai: usize) -> (Value, String, Option<String>) {
        let u = self.r.idx(USER_NAMES.len());
        let fed = self.r.pick(&["okta-sync", "jenkins-build", "gh-runner", "bob"]);
        let arn = format!("arn:aws:sts::{acct}:federated-user/{fed}");
        let issuer = json!({
            "type": "IAMUser",
            "principalId": self.p.user_ids[ai][u],
            "arn": format!("arn:aws:iam::{acct}:user/{}", USER_NAMES[u]),
            "accountId": acct,
            "userName": USER_NAMES[u]
        });
        let sc = self.session_context(issuer, false);
        let v = json!({
            "type": "FederatedUser",
            "principalId": format!("{acct}:{fed}"),
            "arn": arn,
            "accountId": acct,
            "accessKeyId": self.r.pick(&self.p.asia),
            "sessionContext": sc
        });
        (v, arn, None)
    }

    /// A web identity: GitHub Actions or an EKS service account.
    fn web_identity_user(&mut self, acct: String) -> (Value, String, Option<String>) {
        let provider = if self.r.chance(0.6) {
            "token.actions.githubusercontent.com".to_string()
        } else {
            format!("oidc.eks.{}.amazonaws.com/id/{}", self.region, self.r.chars(32, b"0123456789ABCDEF"))
        };
        let user = if provider.starts_with("token.actions") {
            format!(
                "repo:example-org/{}:ref:refs/heads/main",
                self.r.pick(&["infra", "orders-service", "payments", "website"])
            )
        } else {
            format!(
                "system:serviceaccount:{}",
                self.r.pick(&[
                    "kube-system:aws-load-balancer-controller",
                    "kube-system:ebs-csi-controller-sa",
                    "orders:orders-api",
                    "monitoring:prometheus"
                ])
            )
        };
        let idp = format!("arn:aws:iam::{acct}:oidc-provider/{provider}");
        let v = json!({
            "type": "WebIdentityUser",
            "principalId": format!("{idp}:sts.amazonaws.com:{user}"),
            "userName": user,
            "identityProvider": idp
        });
        (v, idp, None)
    }

    pub(crate) fn sts_response(&mut self, role_arn: &str, session: &str) -> Value {
        let role = role_arn.rsplit('/').next().unwrap_or("role");
        let acct = role_arn.split(':').nth(4).unwrap_or(self.acct).to_string();
        let aroa = format!("{}{}", "AROA", self.r.chars(17, UPPER_DIGITS));
        json!({
            "credentials": {
                "accessKeyId": self.r.pick(&self.p.asia),
                "sessionToken": self.r.chars(64, B64),
                "expiration": iam_date(self.time + 3600)
            },
            "assumedRoleUser": {
                "assumedRoleId": format!("{aroa}:{session}"),
                "arn": format!("arn:aws:sts::{acct}:assumed-role/{role}/{session}")
            }
        })
    }
}
