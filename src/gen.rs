//! Deterministic generator of realistic CloudTrail trail archives.
//!
//! Writes `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz` files in
//! the exact layout S3 delivers, plus (optionally) one digest file per
//! account-region-day under `CloudTrail-Digest`. Output is byte-identical for
//! a given seed: every file is seeded from the seed and its own index, so rayon
//! scheduling does not matter.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::Compression;
use rayon::prelude::*;
use serde_json::{json, Map, Value};

/// Options for [`generate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenOptions {
    /// Total records across all files.
    pub events: usize,
    /// Records per `.json.gz` file at most.
    pub per_file: usize,
    pub seed: u64,
    /// Epoch seconds of the newest possible event.
    pub end_time: i64,
    /// Events spread over `[end_time - span_secs, end_time]`.
    pub span_secs: i64,
    /// How many account ids (>= 1).
    pub accounts: usize,
    /// How many regions used (1..=10), from a fixed list starting with us-east-1.
    pub regions: usize,
    /// Sprinkle hostile strings (terminal escapes, bidi, huge strings...).
    pub hostile: bool,
    /// flate2 compression level.
    pub gzip_level: u32,
    /// Also write digest files.
    pub digests: bool,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            events: 2000,
            per_file: 100,
            seed: 42,
            end_time: 1_767_225_600,
            span_secs: 3 * 86_400,
            accounts: 2,
            regions: 3,
            hostile: true,
            gzip_level: 6,
            digests: true,
        }
    }
}

/// What [`generate`] wrote. `json_bytes`/`gz_bytes` cover the log files only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenSummary {
    pub files: usize,
    pub digest_files: usize,
    pub events: usize,
    pub json_bytes: u64,
    pub gz_bytes: u64,
}

// ---------------------------------------------------------------------------
// PRNG (splitmix64)
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Rng(u64);

const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &[u8] = b"0123456789abcdef";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    fn idx(&mut self, n: usize) -> usize {
        self.below(n.max(1) as u64) as usize
    }

    /// Inclusive range.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64) * (1.0 / (1u64 << 53) as f64) < p
    }

    fn pick<'a, T>(&mut self, s: &'a [T]) -> &'a T {
        &s[self.idx(s.len())]
    }

    fn chars(&mut self, n: usize, set: &[u8]) -> String {
        (0..n).map(|_| set[self.idx(set.len())] as char).collect()
    }

    fn uuid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        let b = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xFFFF,
            a & 0x0FFF,
            b >> 48,
            b & 0xFFFF_FFFF_FFFF
        )
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.idx(i + 1);
            v.swap(i, j);
        }
    }
}

fn mix(a: u64, b: u64) -> u64 {
    let mut r = Rng::new(a ^ b.wrapping_mul(0xD6E8_FEB8_6659_FD93));
    r.next_u64();
    r.next_u64()
}

const SALT_POOL: u64 = 0x504F_4F4C;
const SALT_FILE: u64 = 0x4649_4C45;
const SALT_REC: u64 = 0x5245_4344;
const SALT_DIGEST: u64 = 0x4447_5354;

/// Weighted choice over `(item, weight)` pairs.
fn weighted<'a, T>(rng: &mut Rng, items: &'a [(T, u32)]) -> &'a T {
    let total: u64 = items.iter().map(|x| x.1 as u64).sum();
    let mut r = rng.below(total.max(1));
    for (it, w) in items {
        if r < *w as u64 {
            return it;
        }
        r -= *w as u64;
    }
    &items[items.len() - 1].0
}

// ---------------------------------------------------------------------------
// Time helpers
// ---------------------------------------------------------------------------

/// (year, month, day, hour, minute, second) for epoch seconds, UTC.
fn civil(t: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (y, m as u32, d as u32, (secs / 3600) as u32, (secs % 3600 / 60) as u32, (secs % 60) as u32)
}

fn iso(t: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `Jan 1, 2026, 12:00:00 AM` as IAM/STS responses print dates.
fn iam_date(t: i64) -> String {
    const MON: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let (y, mo, d, h, mi, s) = civil(t);
    let (h12, ampm) = match h {
        0 => (12, "AM"),
        1..=11 => (h, "AM"),
        12 => (12, "PM"),
        _ => (h - 12, "PM"),
    };
    format!("{} {d}, {y}, {h12}:{mi:02}:{s:02} {ampm}", MON[mo as usize - 1])
}

// ---------------------------------------------------------------------------
// Static catalogues
// ---------------------------------------------------------------------------

const REGIONS: [&str; 10] = [
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-1",
    "ap-northeast-1",
    "us-east-2",
    "us-west-1",
    "ap-south-1",
    "sa-east-1",
];
const REGION_WEIGHTS: [u32; 10] = [6, 3, 3, 2, 2, 1, 1, 1, 1, 1];

const USER_NAMES: [&str; 30] = [
    "alice",
    "bob",
    "carol.jones",
    "dave",
    "erin.smith",
    "frank",
    "grace",
    "heidi",
    "ivan.petrov",
    "judy",
    "mallory",
    "niaj",
    "olivia",
    "peggy",
    "rupert",
    "sybil",
    "trent",
    "victor",
    "walter",
    "ci-deploy",
    "terraform",
    "backup-svc",
    "jenkins",
    "datadog-integration",
    "readonly-auditor",
    "s3-sync",
    "billing-admin",
    "breakglass-admin",
    "ops-oncall",
    "legacy-app",
];

const ROLE_NAMES: [&str; 15] = [
    "OrganizationAccountAccessRole",
    "AWSReservedSSO_AdministratorAccess_6f2d1c4b8a9e0357",
    "AWSReservedSSO_ReadOnlyAccess_0b7e4c1d2f9a8635",
    "AWSReservedSSO_PowerUserAccess_93c1a7e05b2d4f68",
    "github-actions-deploy",
    "terraform-ci",
    "lambda-exec-orders",
    "eks-node-group-role",
    "ecsTaskExecutionRole",
    "AWSServiceRoleForConfig",
    "DatadogIntegrationRole",
    "SecurityAudit",
    "backup-operator",
    "data-pipeline",
    "ec2-app-server",
];

/// `(index into ROLE_NAMES, weight)`: machine roles make most API calls.
const ROLE_WEIGHTS: [(usize, u32); 15] = [
    (0, 2),
    (1, 2),
    (2, 1),
    (3, 1),
    (4, 4),
    (5, 4),
    (6, 5),
    (7, 5),
    (8, 5),
    (9, 3),
    (10, 3),
    (11, 2),
    (12, 2),
    (13, 4),
    (14, 5),
];

const SERVICE_PRINCIPALS: [&str; 14] = [
    "ec2.amazonaws.com",
    "lambda.amazonaws.com",
    "cloudformation.amazonaws.com",
    "autoscaling.amazonaws.com",
    "ecs-tasks.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
    "config.amazonaws.com",
    "s3.amazonaws.com",
    "secretsmanager.amazonaws.com",
    "guardduty.amazonaws.com",
    "eks.amazonaws.com",
    "backup.amazonaws.com",
    "ssm.amazonaws.com",
    "access-analyzer.amazonaws.com",
];

const BUCKET_STEMS: [&str; 14] = [
    "prod-app-assets",
    "terraform-state",
    "data-lake-raw",
    "data-lake-curated",
    "logs-archive",
    "backups",
    "static-website",
    "ml-training-data",
    "customer-uploads",
    "athena-results",
    "config-bucket",
    "cdn-origin",
    "lambda-artifacts",
    "audit-exports",
];

const FUNCTION_NAMES: [&str; 12] = [
    "orders-api",
    "payments-webhook",
    "image-resizer",
    "nightly-report",
    "auth-authorizer",
    "s3-event-router",
    "slack-notifier",
    "etl-transform",
    "cost-reporter",
    "user-sync",
    "log-shipper",
    "cert-rotator",
];

const PARAM_NAMES: [&str; 12] = [
    "/prod/db/password",
    "/prod/db/host",
    "/prod/api/stripe-key",
    "/staging/db/password",
    "/shared/datadog/api-key",
    "/prod/orders/feature-flags",
    "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
    "/prod/redis/url",
    "/cicd/github/token",
    "/prod/jwt/signing-key",
    "/staging/api/base-url",
    "/prod/smtp/credentials",
];

const SECRET_NAMES: [&str; 8] = [
    "prod/rds/master",
    "prod/orders/api-key",
    "staging/rds/master",
    "shared/github-app",
    "prod/payments/stripe",
    "prod/ldap/bind",
    "datadog/api",
    "prod/jwt",
];

const TABLES: [&str; 8] = [
    "orders",
    "sessions",
    "users",
    "terraform-locks",
    "inventory",
    "audit-events",
    "feature-flags",
    "idempotency-keys",
];

const CLUSTERS: [&str; 4] = ["prod", "staging", "batch", "platform"];
const STACKS: [&str; 8] = [
    "network-baseline",
    "orders-service",
    "payments-service",
    "StackSet-guardrails-1b2c3d",
    "eks-platform",
    "monitoring",
    "CDKToolkit",
    "data-pipeline",
];
const DB_NAMES: [&str; 5] = ["orders-db", "payments-aurora", "legacy-mysql", "analytics-pg", "staging-db"];
const LOG_GROUPS: [&str; 10] = [
    "/aws/lambda/orders-api",
    "/aws/lambda/payments-webhook",
    "/aws/lambda/image-resizer",
    "/ecs/orders-service",
    "/aws/eks/prod/cluster",
    "/aws/rds/instance/orders-db/postgresql",
    "/var/log/messages",
    "aws-cloudtrail-logs",
    "/aws/vpc/flow-logs",
    "/aws/apigateway/welcome",
];
const INSTANCE_TYPES: [&str; 8] =
    ["t3.micro", "t3.medium", "m5.large", "m6i.xlarge", "c6g.2xlarge", "r6i.large", "t4g.small", "g5.xlarge"];
const MANAGED_POLICIES: [&str; 8] = [
    "arn:aws:iam::aws:policy/AdministratorAccess",
    "arn:aws:iam::aws:policy/ReadOnlyAccess",
    "arn:aws:iam::aws:policy/AmazonS3FullAccess",
    "arn:aws:iam::aws:policy/PowerUserAccess",
    "arn:aws:iam::aws:policy/SecurityAudit",
    "arn:aws:iam::aws:policy/AmazonEC2FullAccess",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/IAMFullAccess",
];

const CIPHERS: [(&str, &str, u32); 4] = [
    ("TLSv1.3", "TLS_AES_128_GCM_SHA256", 60),
    ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", 30),
    ("TLSv1.3", "TLS_AES_256_GCM_SHA384", 8),
    ("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", 2),
];

const BROWSERS: [&str; 4] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
];

/// Services whose events are delivered to us-east-1 only.
fn is_global(svc: &str) -> bool {
    matches!(svc, "iam" | "signin" | "route53" | "organizations" | "cloudfront" | "health")
}

/// `(service, eventName, weight, readOnly)`.
type Call = (&'static str, &'static str, u32, bool);

#[rustfmt::skip]
const CALLS: &[Call] = &[
    // ec2
    ("ec2", "DescribeInstances", 30, true), ("ec2", "DescribeSecurityGroups", 12, true),
    ("ec2", "DescribeVpcs", 6, true), ("ec2", "DescribeSubnets", 6, true),
    ("ec2", "DescribeVolumes", 6, true), ("ec2", "DescribeImages", 5, true),
    ("ec2", "DescribeNetworkInterfaces", 8, true), ("ec2", "DescribeRegions", 4, true),
    ("ec2", "DescribeInstanceStatus", 6, true), ("ec2", "DescribeSnapshots", 3, true),
    ("ec2", "DescribeAddresses", 2, true), ("ec2", "DescribeTags", 4, true),
    ("ec2", "DescribeLaunchTemplates", 2, true), ("ec2", "DescribeKeyPairs", 2, true),
    ("ec2", "RunInstances", 4, false), ("ec2", "TerminateInstances", 2, false),
    ("ec2", "StartInstances", 2, false), ("ec2", "StopInstances", 2, false),
    ("ec2", "CreateTags", 6, false), ("ec2", "AuthorizeSecurityGroupIngress", 3, false),
    ("ec2", "RevokeSecurityGroupIngress", 1, false), ("ec2", "CreateSecurityGroup", 2, false),
    ("ec2", "DeleteSecurityGroup", 1, false), ("ec2", "CreateSnapshot", 2, false),
    ("ec2", "CreateVolume", 1, false), ("ec2", "AttachVolume", 1, false),
    ("ec2", "ModifyInstanceAttribute", 1, false), ("ec2", "CreateKeyPair", 1, false),
    ("ec2", "AllocateAddress", 1, false),
    // s3
    ("s3", "ListBuckets", 8, true), ("s3", "GetBucketAcl", 10, true),
    ("s3", "GetBucketLocation", 10, true), ("s3", "GetBucketPolicy", 5, true),
    ("s3", "GetBucketVersioning", 4, true), ("s3", "GetBucketEncryption", 4, true),
    ("s3", "GetBucketPublicAccessBlock", 4, true), ("s3", "GetBucketTagging", 3, true),
    ("s3", "GetBucketLogging", 2, true), ("s3", "GetBucketPolicyStatus", 2, true),
    ("s3", "GetBucketOwnershipControls", 2, true), ("s3", "HeadBucket", 3, true),
    ("s3", "PutBucketPolicy", 2, false), ("s3", "DeleteBucket", 1, false),
    ("s3", "CreateBucket", 1, false), ("s3", "PutBucketAcl", 1, false),
    ("s3", "PutBucketPublicAccessBlock", 1, false), ("s3", "DeleteBucketPolicy", 1, false),
    ("s3", "PutBucketTagging", 1, false), ("s3", "PutBucketVersioning", 1, false),
    ("s3", "PutBucketEncryption", 1, false),
    // iam
    ("iam", "GetUser", 4, true), ("iam", "ListUsers", 4, true), ("iam", "ListRoles", 5, true),
    ("iam", "GetRole", 6, true), ("iam", "ListAttachedRolePolicies", 4, true),
    ("iam", "ListPolicies", 3, true), ("iam", "GetPolicy", 3, true),
    ("iam", "GetPolicyVersion", 3, true), ("iam", "ListAccessKeys", 3, true),
    ("iam", "GetAccountAuthorizationDetails", 1, true), ("iam", "ListMFADevices", 2, true),
    ("iam", "GetAccountSummary", 1, true), ("iam", "ListGroupsForUser", 2, true),
    ("iam", "SimulatePrincipalPolicy", 1, true), ("iam", "GetCredentialReport", 1, true),
    ("iam", "GenerateCredentialReport", 1, false),
    ("iam", "CreateUser", 1, false), ("iam", "DeleteUser", 1, false),
    ("iam", "CreateAccessKey", 1, false), ("iam", "DeleteAccessKey", 1, false),
    ("iam", "UpdateAccessKey", 1, false), ("iam", "AttachRolePolicy", 1, false),
    ("iam", "DetachRolePolicy", 1, false), ("iam", "PutRolePolicy", 1, false),
    ("iam", "CreateRole", 1, false), ("iam", "UpdateAssumeRolePolicy", 1, false),
    ("iam", "AttachUserPolicy", 1, false), ("iam", "CreateLoginProfile", 1, false),
    ("iam", "AddUserToGroup", 1, false), ("iam", "CreatePolicyVersion", 1, false),
    // sts
    ("sts", "AssumeRole", 20, true), ("sts", "GetCallerIdentity", 12, true),
    ("sts", "AssumeRoleWithWebIdentity", 5, true), ("sts", "GetSessionToken", 2, true),
    ("sts", "GetFederationToken", 1, true), ("sts", "AssumeRoleWithSAML", 2, true),
    ("sts", "DecodeAuthorizationMessage", 1, true),
    // kms
    ("kms", "Decrypt", 30, true), ("kms", "GenerateDataKey", 15, true),
    ("kms", "Encrypt", 3, true), ("kms", "DescribeKey", 8, true),
    ("kms", "ListAliases", 3, true), ("kms", "ListKeys", 2, true),
    ("kms", "GetKeyPolicy", 2, true), ("kms", "GetKeyRotationStatus", 2, true),
    ("kms", "ListResourceTags", 1, true),
    ("kms", "CreateKey", 1, false), ("kms", "ScheduleKeyDeletion", 1, false),
    ("kms", "DisableKey", 1, false), ("kms", "PutKeyPolicy", 1, false),
    ("kms", "CreateGrant", 2, false), ("kms", "RetireGrant", 1, false),
    ("kms", "EnableKeyRotation", 1, false),
    // lambda
    ("lambda", "ListFunctions20150331", 5, true), ("lambda", "GetFunction20150331v2", 3, true),
    ("lambda", "GetFunctionConfiguration20150331v2", 3, true),
    ("lambda", "GetPolicy20150331v2", 1, true), ("lambda", "ListEventSourceMappings20150331", 1, true),
    ("lambda", "UpdateFunctionCode20150331v2", 2, false),
    ("lambda", "UpdateFunctionConfiguration20150331v2", 1, false),
    ("lambda", "CreateFunction20150331", 1, false), ("lambda", "DeleteFunction20150331", 1, false),
    ("lambda", "AddPermission20150331v2", 1, false), ("lambda", "PublishVersion20150331", 1, false),
    // cloudtrail
    ("cloudtrail", "LookupEvents", 4, true), ("cloudtrail", "DescribeTrails", 3, true),
    ("cloudtrail", "GetTrailStatus", 3, true), ("cloudtrail", "GetEventSelectors", 2, true),
    ("cloudtrail", "ListTrails", 1, true),
    ("cloudtrail", "StopLogging", 1, false), ("cloudtrail", "DeleteTrail", 1, false),
    ("cloudtrail", "UpdateTrail", 1, false), ("cloudtrail", "StartLogging", 1, false),
    ("cloudtrail", "PutEventSelectors", 1, false), ("cloudtrail", "CreateTrail", 1, false),
    // logs
    ("logs", "DescribeLogGroups", 8, true), ("logs", "DescribeLogStreams", 6, true),
    ("logs", "FilterLogEvents", 3, true), ("logs", "GetLogEvents", 3, true),
    ("logs", "DescribeMetricFilters", 2, true), ("logs", "DescribeSubscriptionFilters", 1, true),
    ("logs", "CreateLogGroup", 2, false), ("logs", "CreateLogStream", 4, false),
    ("logs", "PutRetentionPolicy", 1, false), ("logs", "DeleteLogGroup", 1, false),
    ("logs", "PutSubscriptionFilter", 1, false),
    // ssm
    ("ssm", "GetParameter", 12, true), ("ssm", "GetParameters", 8, true),
    ("ssm", "GetParametersByPath", 5, true), ("ssm", "DescribeInstanceInformation", 5, true),
    ("ssm", "ListCommands", 1, true), ("ssm", "DescribeParameters", 2, true),
    ("ssm", "GetCommandInvocation", 2, true),
    ("ssm", "SendCommand", 2, false), ("ssm", "PutParameter", 2, false),
    ("ssm", "StartSession", 1, false), ("ssm", "DeleteParameter", 1, false),
    ("ssm", "UpdateInstanceInformation", 4, false),
    // secretsmanager
    ("secretsmanager", "GetSecretValue", 10, true), ("secretsmanager", "DescribeSecret", 4, true),
    ("secretsmanager", "ListSecrets", 2, true),
    ("secretsmanager", "PutSecretValue", 1, false), ("secretsmanager", "CreateSecret", 1, false),
    ("secretsmanager", "DeleteSecret", 1, false), ("secretsmanager", "RotateSecret", 1, false),
    ("secretsmanager", "UpdateSecret", 1, false),
    // rds
    ("rds", "DescribeDBInstances", 6, true), ("rds", "DescribeDBClusters", 3, true),
    ("rds", "DescribeDBSnapshots", 2, true), ("rds", "DescribeDBEngineVersions", 1, true),
    ("rds", "ListTagsForResource", 2, true),
    ("rds", "CreateDBSnapshot", 1, false), ("rds", "ModifyDBInstance", 1, false),
    ("rds", "DeleteDBInstance", 1, false), ("rds", "RebootDBInstance", 1, false),
    ("rds", "CreateDBInstance", 1, false),
    // dynamodb
    ("dynamodb", "DescribeTable", 6, true), ("dynamodb", "ListTables", 4, true),
    ("dynamodb", "DescribeContinuousBackups", 2, true), ("dynamodb", "DescribeTimeToLive", 1, true),
    ("dynamodb", "ListTagsOfResource", 1, true),
    ("dynamodb", "CreateTable", 1, false), ("dynamodb", "UpdateTable", 1, false),
    ("dynamodb", "DeleteTable", 1, false), ("dynamodb", "CreateBackup", 1, false),
    // sns
    ("sns", "ListTopics", 2, true), ("sns", "GetTopicAttributes", 3, true),
    ("sns", "ListSubscriptionsByTopic", 2, true),
    ("sns", "CreateTopic", 1, false), ("sns", "Subscribe", 1, false),
    ("sns", "SetTopicAttributes", 1, false), ("sns", "DeleteTopic", 1, false),
    // sqs
    ("sqs", "ListQueues", 3, true), ("sqs", "GetQueueAttributes", 4, true),
    ("sqs", "CreateQueue", 1, false), ("sqs", "SetQueueAttributes", 1, false),
    ("sqs", "DeleteQueue", 1, false), ("sqs", "PurgeQueue", 1, false),
    // cloudformation
    ("cloudformation", "DescribeStacks", 6, true), ("cloudformation", "ListStacks", 2, true),
    ("cloudformation", "DescribeStackEvents", 4, true), ("cloudformation", "GetTemplate", 2, true),
    ("cloudformation", "DescribeStackResources", 2, true), ("cloudformation", "ListStackResources", 2, true),
    ("cloudformation", "CreateStack", 1, false), ("cloudformation", "UpdateStack", 1, false),
    ("cloudformation", "DeleteStack", 1, false), ("cloudformation", "CreateChangeSet", 1, false),
    ("cloudformation", "ExecuteChangeSet", 1, false),
    // ecr
    ("ecr", "GetAuthorizationToken", 8, true), ("ecr", "DescribeRepositories", 3, true),
    ("ecr", "DescribeImages", 3, true), ("ecr", "ListImages", 2, true),
    ("ecr", "GetRepositoryPolicy", 1, true),
    ("ecr", "CreateRepository", 1, false), ("ecr", "DeleteRepository", 1, false),
    ("ecr", "PutImage", 2, false), ("ecr", "SetRepositoryPolicy", 1, false),
    ("ecr", "PutLifecyclePolicy", 1, false),
    // ecs
    ("ecs", "DescribeClusters", 3, true), ("ecs", "ListClusters", 2, true),
    ("ecs", "DescribeServices", 4, true), ("ecs", "ListTasks", 3, true),
    ("ecs", "DescribeTasks", 3, true), ("ecs", "DescribeTaskDefinition", 3, true),
    ("ecs", "RegisterTaskDefinition", 1, false), ("ecs", "UpdateService", 2, false),
    ("ecs", "RunTask", 1, false), ("ecs", "CreateService", 1, false),
    ("ecs", "DeleteService", 1, false),
    // eks
    ("eks", "DescribeCluster", 5, true), ("eks", "ListClusters", 2, true),
    ("eks", "ListNodegroups", 2, true), ("eks", "DescribeNodegroup", 2, true),
    ("eks", "CreateCluster", 1, false), ("eks", "UpdateClusterConfig", 1, false),
    ("eks", "DeleteCluster", 1, false), ("eks", "CreateAccessEntry", 1, false),
    // route53
    ("route53", "ListHostedZones", 3, true), ("route53", "GetHostedZone", 2, true),
    ("route53", "ListResourceRecordSets", 3, true), ("route53", "GetChange", 2, true),
    ("route53", "ChangeResourceRecordSets", 2, false), ("route53", "CreateHostedZone", 1, false),
    ("route53", "DeleteHostedZone", 1, false),
    // organizations
    ("organizations", "DescribeOrganization", 3, true), ("organizations", "ListAccounts", 2, true),
    ("organizations", "DescribeAccount", 1, true), ("organizations", "ListPolicies", 1, true),
    ("organizations", "CreateAccount", 1, false), ("organizations", "LeaveOrganization", 1, false),
    ("organizations", "AttachPolicy", 1, false),
    // guardduty
    ("guardduty", "ListDetectors", 3, true), ("guardduty", "GetDetector", 2, true),
    ("guardduty", "ListFindings", 3, true), ("guardduty", "GetFindings", 2, true),
    ("guardduty", "DeleteDetector", 1, false), ("guardduty", "UpdateDetector", 1, false),
    ("guardduty", "CreateIPSet", 1, false), ("guardduty", "ArchiveFindings", 1, false),
    // config
    ("config", "DescribeConfigurationRecorders", 2, true), ("config", "DescribeConfigRules", 2, true),
    ("config", "DescribeConfigurationRecorderStatus", 2, true),
    ("config", "GetComplianceDetailsByConfigRule", 1, true),
    ("config", "PutEvaluations", 3, false), ("config", "StopConfigurationRecorder", 1, false),
    ("config", "DeleteConfigurationRecorder", 1, false), ("config", "PutConfigRule", 1, false),
    ("config", "DeleteDeliveryChannel", 1, false),
    // cloudwatch
    ("monitoring", "DescribeAlarms", 6, true), ("monitoring", "GetMetricData", 6, true),
    ("monitoring", "ListMetrics", 3, true), ("monitoring", "DescribeAlarmHistory", 1, true),
    ("monitoring", "PutMetricAlarm", 2, false), ("monitoring", "DeleteAlarms", 1, false),
    ("monitoring", "SetAlarmState", 1, false), ("monitoring", "DisableAlarmActions", 1, false),
    // elb
    ("elasticloadbalancing", "DescribeLoadBalancers", 5, true),
    ("elasticloadbalancing", "DescribeTargetGroups", 4, true),
    ("elasticloadbalancing", "DescribeTargetHealth", 5, true),
    ("elasticloadbalancing", "DescribeListeners", 2, true),
    ("elasticloadbalancing", "RegisterTargets", 2, false),
    ("elasticloadbalancing", "DeregisterTargets", 2, false),
    ("elasticloadbalancing", "CreateLoadBalancer", 1, false),
    ("elasticloadbalancing", "ModifyListener", 1, false),
    // autoscaling
    ("autoscaling", "DescribeAutoScalingGroups", 6, true),
    ("autoscaling", "DescribeScalingActivities", 2, true),
    ("autoscaling", "DescribeLaunchConfigurations", 1, true),
    ("autoscaling", "UpdateAutoScalingGroup", 1, false),
    ("autoscaling", "SetDesiredCapacity", 1, false),
    ("autoscaling", "CompleteLifecycleAction", 1, false),
    // signin
    ("signin", "ConsoleLogin", 8, false),
    // sso
    ("sso", "ListInstances", 1, true), ("sso", "ListPermissionSets", 1, true),
    ("sso", "DescribePermissionSet", 1, true), ("sso", "CreateAccountAssignment", 1, false),
    // apigateway
    ("apigateway", "GetRestApis", 2, true), ("apigateway", "GetStages", 1, true),
    ("apigateway", "GetResources", 1, true),
    ("apigateway", "CreateDeployment", 1, false), ("apigateway", "UpdateStage", 1, false),
    // eventbridge
    ("events", "ListRules", 2, true), ("events", "DescribeRule", 2, true),
    ("events", "ListTargetsByRule", 1, true),
    ("events", "PutRule", 1, false), ("events", "PutTargets", 1, false),
    ("events", "DeleteRule", 1, false), ("events", "DisableRule", 1, false),
    // step functions
    ("states", "ListStateMachines", 1, true), ("states", "DescribeStateMachine", 1, true),
    ("states", "DescribeExecution", 2, true), ("states", "StartExecution", 2, false),
    // athena
    ("athena", "GetQueryExecution", 4, true), ("athena", "GetQueryResults", 3, true),
    ("athena", "ListWorkGroups", 1, true), ("athena", "StartQueryExecution", 3, false),
    // glue
    ("glue", "GetTables", 3, true), ("glue", "GetDatabases", 2, true),
    ("glue", "GetTable", 3, true), ("glue", "GetPartitions", 2, true),
    ("glue", "CreateTable", 1, false), ("glue", "StartCrawler", 1, false),
    ("glue", "BatchCreatePartition", 1, false),
    // kinesis
    ("kinesis", "DescribeStream", 2, true), ("kinesis", "ListStreams", 1, true),
    ("kinesis", "DescribeStreamSummary", 1, true),
    ("kinesis", "CreateStream", 1, false), ("kinesis", "DeleteStream", 1, false),
    // elasticache
    ("elasticache", "DescribeCacheClusters", 2, true),
    ("elasticache", "DescribeReplicationGroups", 2, true),
    ("elasticache", "ModifyReplicationGroup", 1, false),
    // acm
    ("acm", "ListCertificates", 2, true), ("acm", "DescribeCertificate", 2, true),
    ("acm", "RequestCertificate", 1, false), ("acm", "DeleteCertificate", 1, false),
    // wafv2
    ("wafv2", "ListWebACLs", 1, true), ("wafv2", "GetWebACL", 1, true),
    ("wafv2", "UpdateWebACL", 1, false),
    // securityhub
    ("securityhub", "GetFindings", 2, true), ("securityhub", "DescribeHub", 1, true),
    ("securityhub", "BatchImportFindings", 3, false), ("securityhub", "BatchUpdateFindings", 1, false),
    ("securityhub", "DisableSecurityHub", 1, false),
    // access analyzer
    ("access-analyzer", "ListAnalyzers", 1, true), ("access-analyzer", "ListFindings", 1, true),
    ("access-analyzer", "CreateAnalyzer", 1, false),
    // backup
    ("backup", "ListBackupJobs", 1, true), ("backup", "ListBackupPlans", 1, true),
    ("backup", "StartBackupJob", 1, false),
    // cloudfront
    ("cloudfront", "ListDistributions", 1, true), ("cloudfront", "GetDistribution", 1, true),
    ("cloudfront", "UpdateDistribution", 1, false), ("cloudfront", "CreateInvalidation", 1, false),
    // health, tagging, service quotas
    ("health", "DescribeEvents", 2, true), ("health", "DescribeEventAggregates", 1, true),
    ("tagging", "GetResources", 3, true),
    ("servicequotas", "ListServiceQuotas", 1, true), ("servicequotas", "GetServiceQuota", 1, true),
];

/// `AwsServiceEvent` records: `(service, eventName)`.
const SERVICE_EVENTS: [(&str, &str); 5] = [
    ("kms", "RotateKey"),
    ("kms", "DeleteExpiredKeyMaterial"),
    ("ec2", "SharedSnapshotCopyInitiated"),
    ("backup", "BackupJobCompleted"),
    ("cloudtrail", "InsightsDeliveryFailure"),
];

const HOSTILE: [&str; 16] = [
    "\u{1b}]0;pwned\u{7}",
    "aws-cli/2.15.30 \u{1b}[2J\u{1b}[H",
    "\u{1b}[31mCRITICAL\u{1b}[0m admin",
    "\u{1b}]52;c;cm0gLXJmIH4vKg==\u{7}",
    "\u{9b}31mC1-CSI\u{9b}0m",
    "\u{9d}0;c1-title\u{9c}",
    "bell\u{7}\u{7}back\u{8}\u{8}\u{8}\rOVERWRITE\u{0}nul",
    "admin\u{202e}gpj.exe",
    "\u{2066}isolated\u{2069}user",
    "ro\u{200b}ot",
    "管理者ユーザー・本番環境のバケット",
    "deploy-🚀🔥👩\u{200d}💻-星",
    "line1\nline2\r\nline3\ttab",
    "\u{1b}[?1049h\u{1b}[?25l",
    "\u{85}next-line\u{2028}ls\u{2029}ps",
    "%s%n%x\u{1b}P+q\u{1b}\\",
];

// ---------------------------------------------------------------------------
// Pools (deterministic from the seed)
// ---------------------------------------------------------------------------

struct CallTable {
    calls: Vec<(Call, u32)>,
}

impl CallTable {
    fn new(read: bool, global_ok: bool) -> Self {
        CallTable {
            calls: CALLS.iter().filter(|c| c.3 == read && (global_ok || !is_global(c.0))).map(|c| (*c, c.2)).collect(),
        }
    }
}

struct Pools {
    accounts: Vec<String>,
    external_accounts: Vec<String>,
    user_ids: Vec<Vec<String>>,
    role_ids: Vec<Vec<String>>,
    akia: Vec<String>,
    asia: Vec<String>,
    ips: Vec<String>,
    sessions: Vec<String>,
    instances: Vec<String>,
    sgs: Vec<String>,
    vpcs: Vec<String>,
    subnets: Vec<String>,
    amis: Vec<String>,
    volumes: Vec<String>,
    kms_keys: Vec<String>,
    bucket_suffix: String,
    trail_bucket: String,
    fingerprint: String,
    detector: String,
    zones: Vec<String>,
    /// [read|write][us-east-1|other]
    tables: [[CallTable; 2]; 2],
    regions: Vec<(&'static str, u32)>,
}

impl Pools {
    fn new(seed: u64, opts: &GenOptions) -> Self {
        let mut r = Rng::new(mix(seed, SALT_POOL));
        let n_acct = opts.accounts.max(1);
        let acct = |r: &mut Rng| format!("{}{}", r.range(1, 9), r.chars(11, b"0123456789"));
        let accounts: Vec<String> = (0..n_acct).map(|_| acct(&mut r)).collect();
        let external_accounts = (0..5).map(|_| acct(&mut r)).collect();
        let user_ids = (0..n_acct)
            .map(|_| (0..USER_NAMES.len()).map(|_| format!("{}{}", "AIDA", r.chars(17, UPPER_DIGITS))).collect())
            .collect();
        let role_ids = (0..n_acct)
            .map(|_| (0..ROLE_NAMES.len()).map(|_| format!("{}{}", "AROA", r.chars(17, UPPER_DIGITS))).collect())
            .collect();
        let akia = (0..100).map(|_| format!("{}{}", "AKIA", r.chars(16, B32))).collect();
        let asia = (0..100).map(|_| format!("{}{}", "ASIA", r.chars(16, B32))).collect();
        let first_octets: [u64; 20] =
            [3, 13, 18, 23, 34, 35, 44, 52, 54, 63, 72, 81, 98, 104, 136, 142, 151, 185, 203, 212];
        let mut ips = Vec::with_capacity(300);
        for i in 0..300 {
            let ip = match i % 30 {
                0..=1 => "AWS Internal".to_string(),
                2 => SERVICE_PRINCIPALS[r.idx(SERVICE_PRINCIPALS.len())].to_string(),
                3 => format!(
                    "2600:1f18:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}",
                    r.below(0x10000),
                    r.below(0x10000),
                    r.below(0x10000),
                    r.below(0x10000),
                    r.below(0x10000),
                    r.below(0x10000)
                ),
                _ => format!(
                    "{}.{}.{}.{}",
                    first_octets[r.idx(first_octets.len())],
                    r.below(256),
                    r.below(256),
                    r.range(1, 254)
                ),
            };
            ips.push(ip);
        }
        let hex17 = |r: &mut Rng, p: &str| format!("{p}{}", r.chars(17, HEX));
        let instances: Vec<String> = (0..60).map(|_| hex17(&mut r, "i-0")).collect();
        let mut sessions: Vec<String> = Vec::new();
        for u in USER_NAMES.iter().take(19) {
            sessions.push(format!("{u}@example.com"));
        }
        for i in instances.iter().take(8) {
            sessions.push(i.clone());
        }
        for _ in 0..5 {
            sessions.push(format!("botocore-session-{}", r.range(1_735_000_000, 1_767_000_000)));
        }
        for _ in 0..3 {
            sessions.push(format!("aws-go-sdk-{}", r.range(1_735_000_000_000, 1_767_000_000_000)));
        }
        sessions.push("GitHubActions".into());
        sessions.push(format!("terraform-run-{}", r.chars(8, HEX)));
        sessions.push("AWSConfig-Describe".into());
        sessions.push("GuardDutySession".into());
        sessions.push("AutoScaling".into());
        for f in FUNCTION_NAMES.iter().take(4) {
            sessions.push((*f).to_string());
        }
        let sgs = (0..20).map(|_| hex17(&mut r, "sg-0")).collect();
        let vpcs = (0..6).map(|_| hex17(&mut r, "vpc-0")).collect();
        let subnets = (0..18).map(|_| hex17(&mut r, "subnet-0")).collect();
        let amis = (0..8).map(|_| hex17(&mut r, "ami-0")).collect();
        let volumes = (0..40).map(|_| hex17(&mut r, "vol-0")).collect();
        let kms_keys = (0..12).map(|_| r.uuid()).collect();
        let bucket_suffix = r.chars(8, HEX);
        let trail_bucket = format!("aws-cloudtrail-logs-{}-{}", accounts[0], r.chars(8, HEX));
        let fingerprint = r.chars(32, HEX);
        let detector = r.chars(32, HEX);
        let zones = (0..6).map(|_| format!("Z{}", r.chars(20, UPPER_DIGITS))).collect();
        let n_reg = opts.regions.clamp(1, 10);
        let regions = (0..n_reg).map(|i| (REGIONS[i], REGION_WEIGHTS[i])).collect();
        Pools {
            accounts,
            external_accounts,
            user_ids,
            role_ids,
            akia,
            asia,
            ips,
            sessions,
            instances,
            sgs,
            vpcs,
            subnets,
            amis,
            volumes,
            kms_keys,
            bucket_suffix,
            trail_bucket,
            fingerprint,
            detector,
            zones,
            tables: [
                [CallTable::new(true, true), CallTable::new(true, false)],
                [CallTable::new(false, true), CallTable::new(false, false)],
            ],
            regions,
        }
    }
}

// ---------------------------------------------------------------------------
// File context
// ---------------------------------------------------------------------------

const WINDOW: i64 = 300;

struct FileCtx {
    acct: usize,
    region: usize,
    /// Window start; records get times in `[win_start, win_start + 300)`.
    win_start: i64,
    suffix: String,
}

fn window_base(opts: &GenOptions) -> (i64, i64) {
    let lo = opts.end_time - opts.span_secs.max(0);
    let base = lo.div_euclid(WINDOW) * WINDOW;
    // Windows that start before the end time; one starting at it would hold nothing.
    let slots = ((opts.end_time - base + WINDOW - 1) / WINDOW).max(1);
    (base, slots)
}

impl FileCtx {
    fn new(seed: u64, file: u64, opts: &GenOptions, pools: &Pools) -> Self {
        let mut r = Rng::new(mix(seed ^ SALT_FILE, file));
        let acct = r.idx(pools.accounts.len());
        let region = {
            let idx: Vec<(usize, u32)> = pools.regions.iter().enumerate().map(|(i, x)| (i, x.1)).collect();
            *weighted(&mut r, &idx)
        };
        let (base, slots) = window_base(opts);
        let win_start = base + r.below(slots as u64) as i64 * WINDOW;
        let suffix = r.chars(16, ALNUM);
        FileCtx { acct, region, win_start, suffix }
    }

    /// Time carried by the file name (end of the delivery window).
    fn name_time(&self) -> i64 {
        self.win_start + WINDOW
    }
}

fn log_key(pools: &Pools, ctx: &FileCtx) -> String {
    let acct = &pools.accounts[ctx.acct];
    let region = pools.regions[ctx.region].0;
    let (y, mo, d, h, mi, _) = civil(ctx.name_time());
    format!(
        "AWSLogs/{acct}/CloudTrail/{region}/{y:04}/{mo:02}/{d:02}/{acct}_CloudTrail_{region}_{y:04}{mo:02}{d:02}T{h:02}{mi:02}Z_{}.json.gz",
        ctx.suffix
    )
}

// ---------------------------------------------------------------------------
// Record builder
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum IdKind {
    IamUser,
    AssumedRole,
    Root,
    AwsService,
    Federated,
    AwsAccount,
    WebIdentity,
    Saml,
}

struct Builder<'a> {
    r: Rng,
    p: &'a Pools,
    acct: &'a str,
    region: &'static str,
    time: i64,
}

fn s(v: impl Into<String>) -> Value {
    Value::String(v.into())
}

fn kebab(name: &str) -> String {
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
    fn ip(&mut self) -> String {
        self.r.pick(&self.p.ips).clone()
    }
    fn instance(&mut self) -> String {
        self.r.pick(&self.p.instances).clone()
    }
    fn sg(&mut self) -> String {
        self.r.pick(&self.p.sgs).clone()
    }
    fn vpc(&mut self) -> String {
        self.r.pick(&self.p.vpcs).clone()
    }
    fn subnet(&mut self) -> String {
        self.r.pick(&self.p.subnets).clone()
    }
    fn bucket(&mut self) -> String {
        let stem = self.r.pick(&BUCKET_STEMS);
        format!("{stem}-{}", self.p.bucket_suffix)
    }
    fn user(&mut self) -> &'static str {
        USER_NAMES[self.r.idx(USER_NAMES.len())]
    }
    fn role(&mut self) -> &'static str {
        ROLE_NAMES[self.r.idx(ROLE_NAMES.len())]
    }
    fn role_arn(&mut self) -> String {
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
    fn key_arn(&mut self) -> String {
        let k = self.r.pick(&self.p.kms_keys);
        format!("arn:aws:kms:{}:{}:key/{k}", self.region, self.acct)
    }
    fn function(&mut self) -> &'static str {
        FUNCTION_NAMES[self.r.idx(FUNCTION_NAMES.len())]
    }
    fn az(&mut self) -> String {
        format!("{}{}", self.region, self.r.pick(&["a", "b", "c"]))
    }

    fn user_agent(&mut self, kind: IdKind, svc: &str, name: &str) -> (String, bool) {
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

    fn service_principal_for(&mut self, svc: &str) -> String {
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

    fn session_context(&mut self, issuer: Value, mfa: bool) -> Value {
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

    fn identity_kind(&mut self, svc: &str, name: &str) -> IdKind {
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
    fn identity(&mut self, kind: IdKind, console: bool) -> (Value, String, Option<String>) {
        let acct = self.acct.to_string();
        let ai = self.p.accounts.iter().position(|a| *a == acct).unwrap_or(0);
        match kind {
            IdKind::IamUser => {
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
            IdKind::AssumedRole => {
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
            IdKind::Federated => {
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
            IdKind::AwsAccount => {
                let other = self.r.pick(&self.p.external_accounts).clone();
                let pid = format!("{}{}", "AIDA", self.r.chars(17, UPPER_DIGITS));
                let v = json!({"type": "AWSAccount", "principalId": pid, "accountId": other});
                (v, format!("arn:aws:iam::{other}:root"), None)
            }
            IdKind::WebIdentity => {
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

    fn sts_response(&mut self, role_arn: &str, session: &str) -> Value {
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

    /// requestParameters, responseElements, resources, additionalEventData.
    fn params(&mut self, svc: &str, name: &str) -> (Value, Value, Option<Value>, Option<Value>) {
        let acct = self.acct.to_string();
        let region = self.region;
        let mut resp = Value::Null;
        let mut resources = None;
        let mut extra = None;
        let rid = self.r.uuid();
        let req = match (svc, name) {
            ("ec2", "DescribeInstances") => {
                if self.r.chance(0.5) {
                    json!({"instancesSet": {"items": [{"instanceId": self.instance()}]}, "filterSet": {}})
                } else {
                    json!({"instancesSet": {}, "filterSet": {"items": [{"name": "instance-state-name", "valueSet": {"items": [{"value": "running"}]}}]}})
                }
            }
            ("ec2", "DescribeSecurityGroups") => {
                json!({"securityGroupSet": {}, "securityGroupIdSet": {"items": [{"groupId": self.sg()}]}, "filterSet": {}})
            }
            ("ec2", "DescribeSubnets") => {
                json!({"subnetSet": {}, "filterSet": {"items": [{"name": "vpc-id", "valueSet": {"items": [{"value": self.vpc()}]}}]}})
            }
            ("ec2", "DescribeRegions") => json!({"regionSet": {}, "allRegions": false}),
            ("ec2", "DescribeInstanceStatus") => {
                json!({"instancesSet": {"items": [{"instanceId": self.instance()}]}, "filterSet": {}, "includeAllInstances": true})
            }
            ("ec2", "DescribeImages") => {
                json!({"executableBySet": {}, "imagesSet": {"items": [{"imageId": self.r.pick(&self.p.amis)}]}, "ownersSet": {}, "includeDeprecated": false})
            }
            ("ec2", "RunInstances") => {
                let inst = self.instance();
                let ami = self.r.pick(&self.p.amis).clone();
                let it = *self.r.pick(&INSTANCE_TYPES);
                let subnet = self.subnet();
                let sg = self.sg();
                resp = json!({
                    "requestId": rid,
                    "reservationId": format!("r-0{}", self.r.chars(16, HEX)),
                    "ownerId": acct,
                    "groupSet": {},
                    "instancesSet": {"items": [{
                        "instanceId": inst, "imageId": ami,
                        "instanceState": {"code": 0, "name": "pending"},
                        "privateDnsName": format!("ip-10-0-{}-{}.ec2.internal", self.r.below(256), self.r.below(256)),
                        "amiLaunchIndex": 0, "productCodes": {}, "instanceType": it,
                        "launchTime": self.time * 1000,
                        "placement": {"availabilityZone": self.az(), "tenancy": "default"},
                        "monitoring": {"state": "disabled"}, "subnetId": subnet,
                        "groupSet": {"items": [{"groupId": sg, "groupName": "default"}]},
                        "architecture": "x86_64", "rootDeviceType": "ebs", "rootDeviceName": "/dev/xvda"
                    }]}
                });
                json!({
                    "instancesSet": {"items": [{"imageId": ami, "minCount": 1, "maxCount": 1, "keyName": "deploy-key"}]},
                    "instanceType": it,
                    "blockDeviceMapping": {},
                    "monitoring": {"enabled": false},
                    "subnetId": subnet,
                    "disableApiTermination": false,
                    "disableApiStop": false,
                    "clientToken": self.r.uuid(),
                    "tagSpecificationSet": {"items": [{"resourceType": "instance", "tags": [{"key": "Name", "value": "app-server"}]}]}
                })
            }
            ("ec2", "TerminateInstances" | "StartInstances" | "StopInstances") => {
                let inst = self.instance();
                resp = json!({"requestId": rid, "instancesSet": {"items": [{"instanceId": inst, "currentState": {"code": 32, "name": "shutting-down"}, "previousState": {"code": 16, "name": "running"}}]}});
                json!({"instancesSet": {"items": [{"instanceId": inst}]}})
            }
            ("ec2", "CreateTags") => {
                let target = if self.r.chance(0.6) { self.instance() } else { self.r.pick(&self.p.volumes).clone() };
                resp = json!({"requestId": rid, "_return": true});
                json!({"resourcesSet": {"items": [{"resourceId": target}]}, "tagSet": {"items": [{"key": self.r.pick(&["Name", "env", "owner", "cost-center"]), "value": self.r.pick(&["prod", "staging", "platform-team", "orders"])}]}})
            }
            ("ec2", "AuthorizeSecurityGroupIngress" | "RevokeSecurityGroupIngress") => {
                let port = *self.r.pick(&[22u64, 3389, 443, 80, 5432, 6379, 8080]);
                let cidr = if self.r.chance(0.3) {
                    "0.0.0.0/0".to_string()
                } else {
                    format!("10.{}.0.0/16", self.r.below(256))
                };
                let sg = self.sg();
                resp = json!({"requestId": rid, "_return": true, "securityGroupRuleSet": {"items": [{"groupOwnerId": acct, "groupId": sg, "securityGroupRuleId": format!("sgr-0{}", self.r.chars(16, HEX)), "isEgress": false, "ipProtocol": "tcp", "fromPort": port, "toPort": port, "cidrIpv4": cidr}]}});
                json!({"groupId": sg, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": port, "toPort": port, "groups": {}, "ipRanges": {"items": [{"cidrIp": cidr}]}, "ipv6Ranges": {}, "prefixListIds": {}}]}})
            }
            ("ec2", "CreateSecurityGroup") => {
                let g = self.r.pick(&["web-sg", "db-sg", "bastion", "lambda-sg", "temp-debug"]);
                resp = json!({"requestId": rid, "_return": true, "groupId": self.sg()});
                json!({"groupName": g, "groupDescription": format!("{g} managed by terraform"), "vpcId": self.vpc()})
            }
            ("ec2", "DeleteSecurityGroup") => {
                resp = json!({"requestId": rid, "_return": true});
                json!({"groupId": self.sg()})
            }
            ("ec2", "CreateSnapshot") => {
                json!({"volumeId": self.r.pick(&self.p.volumes), "description": "Created by AWS Backup"})
            }
            ("ec2", "CreateVolume") => {
                json!({"size": self.r.pick(&[8u64, 20, 100, 500]), "zone": self.az(), "volumeType": "gp3", "encrypted": true})
            }
            ("ec2", "AttachVolume") => {
                json!({"volumeId": self.r.pick(&self.p.volumes), "instanceId": self.instance(), "device": "/dev/sdf"})
            }
            ("ec2", "ModifyInstanceAttribute") => {
                json!({"instanceId": self.instance(), "disableApiTermination": {"value": false}})
            }
            ("ec2", "CreateKeyPair") => json!({"keyName": "deploy-key", "keyType": "ed25519"}),
            ("ec2", "AllocateAddress") => json!({"domain": "vpc"}),
            ("ec2", _) => {
                if self.r.chance(0.5) {
                    json!({"filterSet": {}})
                } else {
                    json!({"maxResults": 1000, "filterSet": {"items": [{"name": "vpc-id", "valueSet": {"items": [{"value": self.vpc()}]}}]}})
                }
            }
            ("s3", _) => {
                let b = self.bucket();
                let host = format!("{b}.s3.{region}.amazonaws.com");
                resources =
                    Some(json!([{"accountId": acct, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{b}")}]));
                extra = Some(json!({
                    "SignatureVersion": "SigV4",
                    "CipherSuite": "TLS_AES_128_GCM_SHA256",
                    "bytesTransferredIn": 0,
                    "AuthenticationMethod": "AuthHeader",
                    "x-amz-id-2": self.r.chars(76, B64),
                    "bytesTransferredOut": self.r.range(0, 4000)
                }));
                match name {
                    "ListBuckets" => {
                        resources = None;
                        json!({"Host": format!("s3.{region}.amazonaws.com")})
                    }
                    "PutBucketPolicy" => {
                        let principal = if self.r.chance(0.3) {
                            json!("*")
                        } else {
                            json!({"AWS": format!("arn:aws:iam::{}:root", self.r.pick(&self.p.external_accounts))})
                        };
                        json!({"bucketPolicy": {"Version": "2012-10-17", "Statement": [{"Sid": "AllowRead", "Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{b}/*")}]}, "bucketName": b, "Host": host, "policy": ""})
                    }
                    "CreateBucket" => {
                        json!({"CreateBucketConfiguration": {"LocationConstraint": region, "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}, "bucketName": b, "Host": host, "x-amz-acl": "private"})
                    }
                    "DeleteBucket" | "HeadBucket" => json!({"bucketName": b, "Host": host}),
                    _ => {
                        let sub = name
                            .trim_start_matches("Get")
                            .trim_start_matches("Put")
                            .trim_start_matches("Delete")
                            .trim_start_matches("Bucket");
                        let mut sub = sub.to_string();
                        if let Some(c) = sub.get(0..1) {
                            let lc = c.to_ascii_lowercase();
                            sub.replace_range(0..1, &lc);
                        }
                        let mut m = Map::new();
                        m.insert("bucketName".into(), s(b));
                        m.insert("Host".into(), s(host));
                        m.insert(sub, s(""));
                        Value::Object(m)
                    }
                }
            }
            ("iam", n) => {
                let user = self.user();
                let role = self.role();
                match n {
                    "GetUser" | "DeleteUser" | "ListAccessKeys" | "ListMFADevices" | "ListGroupsForUser" => {
                        json!({"userName": user})
                    }
                    "CreateUser" => {
                        resp = json!({"user": {"path": "/", "userName": user, "userId": format!("{}{}", "AIDA", self.r.chars(17, UPPER_DIGITS)), "arn": format!("arn:aws:iam::{acct}:user/{user}"), "createDate": iam_date(self.time)}});
                        json!({"userName": user, "tags": [{"key": "team", "value": "platform"}]})
                    }
                    "CreateAccessKey" => {
                        resp = json!({"accessKey": {"userName": user, "accessKeyId": self.r.pick(&self.p.akia), "status": "Active", "createDate": iam_date(self.time)}});
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
                        if n == "CreateRole" {
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
            ("sts", n) => match n {
                "AssumeRole" | "AssumeRoleWithWebIdentity" | "AssumeRoleWithSAML" => {
                    let role_arn = self.role_arn();
                    let session = self.r.pick(&self.p.sessions).clone();
                    resp = self.sts_response(&role_arn, &session);
                    let ra = role_arn.split(':').nth(4).unwrap_or("").to_string();
                    resources = Some(json!([
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
            },
            ("kms", n) => {
                let key = self.key_arn();
                resources = Some(json!([{"accountId": acct, "type": "AWS::KMS::Key", "ARN": key}]));
                match n {
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
                        resp = json!({"keyMetadata": {"aWSAccountId": acct, "keyId": self.r.uuid(), "arn": key, "creationDate": iam_date(self.time), "enabled": true, "keyUsage": "ENCRYPT_DECRYPT", "keyState": "Enabled", "origin": "AWS_KMS", "keyManager": "CUSTOMER", "keySpec": "SYMMETRIC_DEFAULT", "multiRegion": false}});
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
            ("lambda", n) => {
                let f = self.function();
                if n.starts_with("List") {
                    json!({"maxItems": 50})
                } else if n.starts_with("UpdateFunctionCode") {
                    json!({"functionName": f, "s3Bucket": self.bucket(), "s3Key": format!("{f}/{}.zip", self.r.chars(40, HEX)), "publish": true, "dryRun": false})
                } else if n.starts_with("AddPermission") {
                    json!({"functionName": f, "statementId": format!("s3-invoke-{}", self.r.chars(8, HEX)), "action": "lambda:InvokeFunction", "principal": "s3.amazonaws.com", "sourceArn": format!("arn:aws:s3:::{}", self.bucket())})
                } else {
                    json!({"functionName": f})
                }
            }
            ("cloudtrail", n) => {
                let trail = format!("arn:aws:cloudtrail:us-east-1:{acct}:trail/management-events");
                match n {
                    "LookupEvents" => {
                        json!({"lookupAttributes": [{"attributeKey": "EventName", "attributeValue": self.r.pick(&["ConsoleLogin", "RunInstances", "CreateUser", "DeleteTrail"])}], "startTime": iam_date(self.time - 86400), "endTime": iam_date(self.time), "maxResults": 50})
                    }
                    "DescribeTrails" => {
                        json!({"trailNameList": [], "includeShadowTrails": true})
                    }
                    "ListTrails" => Value::Null,
                    "UpdateTrail" => {
                        json!({"name": trail, "s3BucketName": self.p.trail_bucket, "isMultiRegionTrail": false})
                    }
                    "CreateTrail" => {
                        json!({"name": "management-events", "s3BucketName": self.p.trail_bucket, "isMultiRegionTrail": true, "enableLogFileValidation": true})
                    }
                    _ => json!({"name": trail}),
                }
            }
            ("logs", n) => {
                let lg = *self.r.pick(&LOG_GROUPS);
                match n {
                    "DescribeLogGroups" => {
                        if self.r.chance(0.5) {
                            json!({"logGroupNamePrefix": lg})
                        } else {
                            json!({"limit": 50})
                        }
                    }
                    "CreateLogStream" | "GetLogEvents" => {
                        let (y, mo, d, ..) = civil(self.time);
                        json!({"logGroupName": lg, "logStreamName": format!("{y:04}/{mo:02}/{d:02}/[$LATEST]{}", self.r.chars(32, HEX))})
                    }
                    "FilterLogEvents" => {
                        json!({"logGroupName": lg, "startTime": (self.time - 3600) * 1000, "filterPattern": "ERROR"})
                    }
                    "PutRetentionPolicy" => {
                        json!({"logGroupName": lg, "retentionInDays": self.r.pick(&[7u64, 30, 90, 365])})
                    }
                    _ => json!({"logGroupName": lg}),
                }
            }
            ("ssm", n) => {
                let pname = *self.r.pick(&PARAM_NAMES);
                match n {
                    "GetParameter" => json!({"name": pname, "withDecryption": true}),
                    "GetParameters" => {
                        json!({"names": [pname, self.r.pick(&PARAM_NAMES)], "withDecryption": true})
                    }
                    "GetParametersByPath" => {
                        json!({"path": self.r.pick(&["/prod/", "/staging/", "/shared/"]), "recursive": true, "withDecryption": true})
                    }
                    "SendCommand" => {
                        resp = json!({"command": {"commandId": self.r.uuid(), "documentName": "AWS-RunShellScript", "status": "Pending"}});
                        json!({"instanceIds": [self.instance()], "documentName": "AWS-RunShellScript", "parameters": "HIDDEN_DUE_TO_SECURITY_REASONS", "interactive": false})
                    }
                    "PutParameter" => {
                        json!({"name": pname, "type": "SecureString", "overwrite": true, "value": "HIDDEN_DUE_TO_SECURITY_REASONS"})
                    }
                    "DeleteParameter" => json!({"name": pname}),
                    "StartSession" => {
                        resp = json!({"sessionId": format!("{}-{}", self.user(), self.r.chars(17, HEX)), "tokenValue": "Value hidden due to security reasons.", "streamUrl": format!("wss://ssmmessages.{region}.amazonaws.com/v1/data-channel/{}", self.r.chars(17, HEX))});
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
            ("secretsmanager", n) => {
                let sn = *self.r.pick(&SECRET_NAMES);
                let arn = format!("arn:aws:secretsmanager:{region}:{acct}:secret:{sn}-{}", self.r.chars(6, ALNUM));
                match n {
                    "ListSecrets" => json!({"maxResults": 100}),
                    "CreateSecret" => {
                        resp = json!({"aRN": arn, "name": sn, "versionId": self.r.uuid()});
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
            ("rds", n) => {
                let db = *self.r.pick(&DB_NAMES);
                if n.starts_with("Describe") && self.r.chance(0.6) {
                    json!({"maxRecords": 100})
                } else if n == "CreateDBSnapshot" {
                    json!({"dBSnapshotIdentifier": format!("{db}-manual-{}", self.r.chars(6, HEX)), "dBInstanceIdentifier": db})
                } else if n == "ListTagsForResource" {
                    json!({"resourceName": format!("arn:aws:rds:{region}:{acct}:db:{db}")})
                } else if n == "DeleteDBInstance" {
                    json!({"dBInstanceIdentifier": db, "skipFinalSnapshot": true, "deleteAutomatedBackups": false})
                } else {
                    json!({"dBInstanceIdentifier": db})
                }
            }
            ("dynamodb", n) => {
                if n == "ListTables" {
                    json!({"limit": 100})
                } else if n == "ListTagsOfResource" {
                    json!({"resourceArn": format!("arn:aws:dynamodb:{region}:{acct}:table/{}", self.r.pick(&TABLES))})
                } else {
                    json!({"tableName": self.r.pick(&TABLES)})
                }
            }
            ("sns", n) => {
                let t = self.r.pick(&["alerts", "orders-events", "billing-alarms", "deploy-notify"]);
                let arn = format!("arn:aws:sns:{region}:{acct}:{t}");
                match n {
                    "ListTopics" => Value::Null,
                    "CreateTopic" => {
                        resp = json!({"topicArn": arn});
                        json!({"name": t})
                    }
                    "Subscribe" => {
                        json!({"topicArn": arn, "protocol": "email", "endpoint": "ops@example.com", "returnSubscriptionArn": false})
                    }
                    "SetTopicAttributes" => {
                        json!({"topicArn": arn, "attributeName": "Policy", "attributeValue": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"SNS:Publish\"}]}"})
                    }
                    _ => json!({"topicArn": arn}),
                }
            }
            ("sqs", n) => {
                let q = self.r.pick(&["orders-queue", "orders-dlq", "email-jobs", "image-jobs.fifo"]);
                let url = format!("https://sqs.{region}.amazonaws.com/{acct}/{q}");
                match n {
                    "ListQueues" => json!({"queueNamePrefix": ""}),
                    "CreateQueue" => {
                        resp = json!({"queueUrl": url});
                        json!({"queueName": q, "attributes": {"VisibilityTimeout": "30", "MessageRetentionPeriod": "345600"}})
                    }
                    "GetQueueAttributes" => json!({"queueUrl": url, "attributeNames": ["All"]}),
                    _ => json!({"queueUrl": url}),
                }
            }
            ("cloudformation", n) => {
                let st = *self.r.pick(&STACKS);
                match n {
                    "ListStacks" => {
                        json!({"stackStatusFilter": ["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"]})
                    }
                    "CreateStack" | "UpdateStack" => {
                        resp = json!({"stackId": format!("arn:aws:cloudformation:{region}:{acct}:stack/{st}/{}", self.r.uuid())});
                        json!({"stackName": st, "templateURL": format!("https://s3.{region}.amazonaws.com/{}/{st}.yaml", self.bucket()), "capabilities": ["CAPABILITY_NAMED_IAM"], "parameters": [{"parameterKey": "Environment", "parameterValue": "prod"}]})
                    }
                    "CreateChangeSet" | "ExecuteChangeSet" => {
                        json!({"stackName": st, "changeSetName": format!("cdk-deploy-change-set-{}", self.r.chars(8, HEX))})
                    }
                    _ => json!({"stackName": st}),
                }
            }
            ("ecr", n) => {
                let repo = self.r.pick(&["orders-api", "payments", "base-images/python", "nginx", "worker"]);
                match n {
                    "GetAuthorizationToken" => json!({"registryIds": [acct]}),
                    "DescribeRepositories" => json!({"maxResults": 100}),
                    "PutImage" => {
                        json!({"repositoryName": repo, "imageTag": format!("sha-{}", self.r.chars(7, HEX)), "imageManifestMediaType": "application/vnd.docker.distribution.manifest.v2+json", "registryId": acct})
                    }
                    "DescribeImages" | "ListImages" => {
                        json!({"repositoryName": repo, "registryId": acct, "filter": {"tagStatus": "TAGGED"}})
                    }
                    _ => json!({"repositoryName": repo, "registryId": acct}),
                }
            }
            ("ecs", n) => {
                let c = *self.r.pick(&CLUSTERS);
                let svc_name = self.r.pick(&["orders-service", "payments-service", "web", "worker"]);
                match n {
                    "ListClusters" => json!({"maxResults": 100}),
                    "DescribeClusters" => json!({"clusters": [c], "include": ["SETTINGS"]}),
                    "DescribeServices" | "UpdateService" | "CreateService" | "DeleteService" => {
                        json!({"cluster": c, "services": [svc_name], "service": svc_name, "forceNewDeployment": n == "UpdateService"})
                    }
                    "DescribeTaskDefinition" | "RegisterTaskDefinition" => {
                        json!({"taskDefinition": format!("{svc_name}:{}", self.r.range(1, 300)), "family": svc_name})
                    }
                    _ => json!({"cluster": c}),
                }
            }
            ("eks", n) => {
                let c = *self.r.pick(&CLUSTERS);
                match n {
                    "ListClusters" => json!({"maxResults": 100}),
                    "ListNodegroups" => json!({"name": c}),
                    "DescribeNodegroup" => {
                        json!({"name": c, "nodegroupName": format!("{c}-ng-{}", self.r.pick(&["general", "spot", "gpu"]))})
                    }
                    "CreateAccessEntry" => {
                        json!({"name": c, "principalArn": format!("arn:aws:iam::{acct}:role/{}", self.role()), "type": "STANDARD"})
                    }
                    _ => json!({"name": c}),
                }
            }
            ("route53", n) => {
                let z = self.r.pick(&self.p.zones).clone();
                match n {
                    "ListHostedZones" => Value::Null,
                    "GetChange" => json!({"id": format!("C{}", self.r.chars(20, UPPER_DIGITS))}),
                    "ChangeResourceRecordSets" => {
                        let sub = self.r.pick(&["api", "www", "internal", "mail", "vpn"]);
                        json!({"hostedZoneId": z, "changeBatch": {"changes": [{"action": "UPSERT", "resourceRecordSet": {"name": format!("{sub}.example.com"), "type": "A", "tTL": 300, "resourceRecords": [{"value": self.r.pick(&self.p.ips)}]}}]}})
                    }
                    "CreateHostedZone" => {
                        json!({"name": "example.com", "callerReference": self.r.uuid()})
                    }
                    _ => json!({"hostedZoneId": z}),
                }
            }
            ("organizations", n) => match n {
                "DescribeAccount" => json!({"accountId": self.r.pick(&self.p.accounts)}),
                "CreateAccount" => {
                    json!({"email": "new-account@example.com", "accountName": "sandbox"})
                }
                "AttachPolicy" => {
                    json!({"policyId": format!("p-{}", self.r.chars(8, b"abcdefghijklmnopqrstuvwxyz0123456789")), "targetId": acct})
                }
                "ListPolicies" => json!({"filter": "SERVICE_CONTROL_POLICY"}),
                _ => Value::Null,
            },
            ("guardduty", n) => {
                let det = self.p.detector.clone();
                match n {
                    "ListDetectors" => Value::Null,
                    "ListFindings" => {
                        json!({"detectorId": det, "findingCriteria": {"criterion": {"service.archived": {"eq": ["false"]}}}, "maxResults": 50})
                    }
                    "GetFindings" | "ArchiveFindings" => {
                        json!({"detectorId": det, "findingIds": [self.r.chars(32, HEX)]})
                    }
                    "CreateIPSet" => {
                        json!({"detectorId": det, "name": "trusted-ips", "format": "TXT", "location": format!("https://s3.amazonaws.com/{}/ips.txt", self.bucket()), "activate": true})
                    }
                    _ => json!({"detectorId": det}),
                }
            }
            ("config", n) => match n {
                "PutEvaluations" => {
                    json!({"evaluations": [{"complianceResourceType": "AWS::EC2::SecurityGroup", "complianceResourceId": self.sg(), "complianceType": self.r.pick(&["COMPLIANT", "NON_COMPLIANT"]), "orderingTimestamp": iam_date(self.time - 60)}], "resultToken": "HIDDEN_DUE_TO_SECURITY_REASONS", "testMode": false})
                }
                "GetComplianceDetailsByConfigRule" | "PutConfigRule" => {
                    json!({"configRuleName": self.r.pick(&["restricted-ssh", "s3-bucket-public-read-prohibited", "iam-root-access-key-check", "encrypted-volumes"])})
                }
                "StopConfigurationRecorder" | "DeleteConfigurationRecorder" => {
                    json!({"configurationRecorderName": "default"})
                }
                "DeleteDeliveryChannel" => json!({"deliveryChannelName": "default"}),
                _ => Value::Null,
            },
            ("monitoring", n) => {
                let alarm = self.r.pick(&["orders-5xx", "cpu-high", "billing-over-budget", "rds-storage-low"]);
                match n {
                    "GetMetricData" => {
                        json!({"metricDataQueries": [{"id": "m1", "metricStat": {"metric": {"namespace": "AWS/EC2", "metricName": "CPUUtilization", "dimensions": [{"name": "InstanceId", "value": self.instance()}]}, "period": 300, "stat": "Average"}, "returnData": true}], "startTime": iam_date(self.time - 3600), "endTime": iam_date(self.time)})
                    }
                    "ListMetrics" => json!({"namespace": "AWS/Lambda"}),
                    "DescribeAlarms" => json!({"maxRecords": 100}),
                    "PutMetricAlarm" => {
                        json!({"alarmName": alarm, "metricName": "CPUUtilization", "namespace": "AWS/EC2", "statistic": "Average", "period": 300, "evaluationPeriods": 2, "threshold": 80.0, "comparisonOperator": "GreaterThanThreshold"})
                    }
                    "SetAlarmState" => {
                        json!({"alarmName": alarm, "stateValue": "OK", "stateReason": "manual reset"})
                    }
                    _ => json!({"alarmNames": [alarm]}),
                }
            }
            ("elasticloadbalancing", n) => {
                let tg = format!(
                    "arn:aws:elasticloadbalancing:{region}:{acct}:targetgroup/{}/{}",
                    self.r.pick(&["orders-tg", "web-tg", "api-tg"]),
                    self.r.chars(16, HEX)
                );
                match n {
                    "DescribeLoadBalancers" | "DescribeTargetGroups" => {
                        json!({"pageSize": 400})
                    }
                    "RegisterTargets" | "DeregisterTargets" => {
                        json!({"targetGroupArn": tg, "targets": [{"id": self.instance(), "port": 8080}]})
                    }
                    _ => json!({"targetGroupArn": tg}),
                }
            }
            ("autoscaling", n) => {
                let asg = self.r.pick(&["eks-prod-general", "web-asg", "batch-workers"]);
                match n {
                    "DescribeAutoScalingGroups" => {
                        json!({"autoScalingGroupNames": [asg], "maxRecords": 50})
                    }
                    "SetDesiredCapacity" | "UpdateAutoScalingGroup" => {
                        json!({"autoScalingGroupName": asg, "desiredCapacity": self.r.range(1, 12)})
                    }
                    "CompleteLifecycleAction" => {
                        json!({"lifecycleHookName": "drain", "autoScalingGroupName": asg, "lifecycleActionResult": "CONTINUE", "instanceId": self.instance()})
                    }
                    _ => json!({"autoScalingGroupName": asg}),
                }
            }
            ("athena", "StartQueryExecution") => {
                resp = json!({"queryExecutionId": self.r.uuid()});
                json!({"queryString": "SELECT eventname, count(*) FROM cloudtrail_logs WHERE eventtime > '2025-12-01' GROUP BY 1 ORDER BY 2 DESC LIMIT 50", "clientRequestToken": self.r.uuid(), "queryExecutionContext": {"database": "security"}, "workGroup": "primary"})
            }
            ("athena", "ListWorkGroups") => json!({"maxResults": 50}),
            ("athena", _) => json!({"queryExecutionId": self.r.uuid()}),
            ("glue", _) => {
                json!({"databaseName": self.r.pick(&["raw", "curated", "security"]), "name": self.r.pick(&TABLES)})
            }
            ("states", n) => {
                let sm = format!(
                    "arn:aws:states:{region}:{acct}:stateMachine:{}",
                    self.r.pick(&["order-fulfilment", "nightly-etl"])
                );
                match n {
                    "StartExecution" => {
                        resp = json!({"executionArn": format!("{}:{}", sm.replace("stateMachine", "execution"), self.r.uuid()), "startDate": iam_date(self.time)});
                        json!({"stateMachineArn": sm, "input": "HIDDEN_DUE_TO_SECURITY_REASONS"})
                    }
                    "ListStateMachines" => Value::Null,
                    _ => json!({"stateMachineArn": sm}),
                }
            }
            ("events", n) => {
                let rule = self.r.pick(&["nightly-report", "guardduty-to-slack", "ecr-scan-findings"]);
                if n == "ListRules" {
                    json!({"limit": 100})
                } else {
                    json!({"name": rule, "eventBusName": "default"})
                }
            }
            ("signin", _) => Value::Null,
            (_, n) => {
                if n.starts_with("List") || n.starts_with("Describe") || n.starts_with("Get") {
                    match self.r.below(3) {
                        0 => Value::Null,
                        1 => json!({"maxResults": 100}),
                        _ => json!({}),
                    }
                } else {
                    json!({"resourceArn": format!("arn:aws:{svc}:{region}:{acct}:resource/{}", self.r.chars(12, HEX))})
                }
            }
        };
        if resp.is_null() && svc == "ec2" && !name.starts_with("Describe") && self.r.chance(0.7) {
            resp = json!({"requestId": rid, "_return": true});
        }
        (req, resp, resources, extra)
    }

    fn error(&mut self, svc: &str, name: &str, arn: &str, req: &Value) -> (String, String) {
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

    fn build(&mut self, opts: &GenOptions) -> Value {
        let service_event = self.r.chance(0.008);
        let (svc, name, read_only) = if service_event {
            let (s, n) = *self.r.pick(&SERVICE_EVENTS);
            (s, n, false)
        } else {
            let read = self.r.chance(0.75);
            let local = usize::from(self.region != "us-east-1");
            let t = &self.p.tables[usize::from(!read)][local];
            let c = *weighted(&mut self.r, &t.calls);
            (c.0, c.1, c.3)
        };
        let console_login = name == "ConsoleLogin";
        let region = self.region;
        let event_version = *weighted(&mut self.r, &[("1.08", 20), ("1.09", 30), ("1.10", 25), ("1.11", 25)]);

        let mut m = Map::new();
        m.insert("eventVersion".into(), s(event_version));

        if service_event {
            let invoked = format!("{svc}.amazonaws.com");
            m.insert("userIdentity".into(), json!({"accountId": self.acct, "invokedBy": invoked}));
            m.insert("eventTime".into(), s(iso(self.time)));
            m.insert("eventSource".into(), s(format!("{svc}.amazonaws.com")));
            m.insert("eventName".into(), s(name));
            m.insert("awsRegion".into(), s(region));
            m.insert("sourceIPAddress".into(), s(invoked.clone()));
            m.insert("userAgent".into(), s(invoked));
            m.insert("requestParameters".into(), Value::Null);
            m.insert("responseElements".into(), Value::Null);
            m.insert("eventID".into(), s(self.r.uuid()));
            m.insert("readOnly".into(), Value::Bool(false));
            if svc == "kms" {
                let key = self.key_arn();
                m.insert("resources".into(), json!([{"accountId": self.acct, "type": "AWS::KMS::Key", "ARN": key}]));
            }
            m.insert("eventType".into(), s("AwsServiceEvent"));
            m.insert("managementEvent".into(), Value::Bool(true));
            m.insert("recipientAccountId".into(), s(self.acct));
            m.insert(
                "serviceEventDetails".into(),
                match name {
                    "RotateKey" | "DeleteExpiredKeyMaterial" => {
                        json!({"keyId": self.r.pick(&self.p.kms_keys)})
                    }
                    "SharedSnapshotCopyInitiated" => json!({
                        "snapshotId": format!("snap-0{}", self.r.chars(16, HEX)),
                        "sourceAccountId": self.r.pick(&self.p.external_accounts)
                    }),
                    "BackupJobCompleted" => json!({
                        "backupJobId": self.r.uuid(),
                        "state": "COMPLETED",
                        "resourceType": "EBS"
                    }),
                    _ => json!({"status": "FAILED", "reason": "S3 bucket policy denied write"}),
                },
            );
            m.insert("eventCategory".into(), s("Management"));
            return self.maybe_hostile(Value::Object(m), opts);
        }

        let kind = self.identity_kind(svc, name);
        let (mut ua, mut console) = self.user_agent(kind, svc, name);
        if console_login {
            ua = self.r.pick(&BROWSERS).to_string();
            console = true;
        }
        let (identity, arn, invoked_by) = self.identity(kind, console);
        let source_ip = match (&invoked_by, kind) {
            (Some(svcp), _) => svcp.clone(),
            _ if console_login => {
                let mut ip = self.ip();
                while !ip.contains('.') || ip.ends_with(".com") {
                    ip = self.ip();
                }
                ip
            }
            _ => self.ip(),
        };
        if kind == IdKind::AwsService {
            if let Some(p) = &invoked_by {
                ua = p.clone();
            }
        }

        m.insert("userIdentity".into(), identity);
        m.insert("eventTime".into(), s(iso(self.time)));
        m.insert("eventSource".into(), s(format!("{svc}.amazonaws.com")));
        m.insert("eventName".into(), s(name));
        m.insert("awsRegion".into(), s(region));
        m.insert("sourceIPAddress".into(), s(source_ip));
        m.insert("userAgent".into(), s(ua));

        if console_login {
            let failed = self.r.chance(0.12);
            if failed {
                m.insert("errorMessage".into(), s("Failed authentication"));
            }
            m.insert("requestParameters".into(), Value::Null);
            m.insert("responseElements".into(), json!({"ConsoleLogin": if failed { "Failure" } else { "Success" }}));
            let mfa = if failed || self.r.chance(0.25) { "No" } else { "Yes" };
            m.insert(
                "additionalEventData".into(),
                json!({
                    "LoginTo": "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_",
                    "MobileVersion": "No",
                    "MFAUsed": mfa
                }),
            );
            m.insert("eventID".into(), s(self.r.uuid()));
            m.insert("readOnly".into(), Value::Bool(false));
            m.insert("eventType".into(), s("AwsConsoleSignIn"));
            m.insert("managementEvent".into(), Value::Bool(true));
            m.insert("recipientAccountId".into(), s(self.acct));
            m.insert("eventCategory".into(), s("Management"));
            return self.maybe_hostile(Value::Object(m), opts);
        }

        let (req, resp, resources, extra) = self.params(svc, name);
        let failed = self.r.chance(0.05);
        let resp = if failed {
            let (code, msg) = self.error(svc, name, &arn, &req);
            m.insert("errorCode".into(), s(code));
            if !msg.is_empty() {
                m.insert("errorMessage".into(), s(msg));
            }
            Value::Null
        } else {
            resp
        };
        let s3_host = req.get("Host").and_then(Value::as_str).map(str::to_string);
        m.insert("requestParameters".into(), req);
        m.insert("responseElements".into(), resp);
        if let Some(e) = extra {
            m.insert("additionalEventData".into(), e);
        }
        let request_id = if svc == "s3" { self.r.chars(16, UPPER_DIGITS) } else { self.r.uuid() };
        m.insert("requestID".into(), s(request_id));
        m.insert("eventID".into(), s(self.r.uuid()));
        m.insert("readOnly".into(), Value::Bool(read_only));
        if let Some(res) = resources {
            m.insert("resources".into(), res);
        }
        m.insert("eventType".into(), s("AwsApiCall"));
        if svc == "s3" || svc == "route53" || svc == "cloudfront" {
            m.insert(
                "apiVersion".into(),
                s(match svc {
                    "s3" => "2006-03-01",
                    "route53" => "2013-04-01",
                    _ => "2020-05-31",
                }),
            );
        }
        m.insert("managementEvent".into(), Value::Bool(true));
        m.insert("recipientAccountId".into(), s(self.acct));
        if kind == IdKind::AwsAccount {
            m.insert("sharedEventID".into(), s(self.r.uuid()));
        }
        if kind != IdKind::AwsService && self.r.chance(0.04) {
            m.insert("vpcEndpointId".into(), s(format!("vpce-0{}", self.r.chars(16, HEX))));
        }
        m.insert("eventCategory".into(), s("Management"));
        if kind != IdKind::AwsService && invoked_by.is_none() && self.r.chance(0.8) {
            let (v, c, _) = *weighted(&mut self.r, &CIPHERS.map(|(v, c, w)| ((v, c, w), w)));
            let host = if is_global(svc) {
                format!("{svc}.amazonaws.com")
            } else if svc == "s3" {
                s3_host.unwrap_or_else(|| format!("s3.{region}.amazonaws.com"))
            } else {
                format!("{svc}.{region}.amazonaws.com")
            };
            m.insert("tlsDetails".into(), json!({"tlsVersion": v, "cipherSuite": c, "clientProvidedHostHeader": host}));
        }
        if console && matches!(kind, IdKind::AssumedRole | IdKind::IamUser | IdKind::Root) {
            m.insert("sessionCredentialFromConsole".into(), s("true"));
        }
        self.maybe_hostile(Value::Object(m), opts)
    }

    fn maybe_hostile(&mut self, mut v: Value, opts: &GenOptions) -> Value {
        if !opts.hostile || self.r.below(300) != 0 {
            return v;
        }
        let evil = match self.r.below(HOSTILE.len() as u64 + 2) {
            n if (n as usize) < HOSTILE.len() => HOSTILE[n as usize].to_string(),
            n if n as usize == HOSTILE.len() => {
                // 5,000 characters
                let unit = "A\u{1b}[1mB";
                let mut out = String::with_capacity(5000);
                while out.chars().count() + unit.chars().count() <= 5000 {
                    out.push_str(unit);
                }
                while out.chars().count() < 5000 {
                    out.push('x');
                }
                out
            }
            _ => format!("{}{}", self.r.pick(&HOSTILE[..4]), self.r.pick(&HOSTILE[7..12])),
        };
        let Some(m) = v.as_object_mut() else {
            return v;
        };
        match self.r.below(4) {
            0 => {
                m.insert("userAgent".into(), s(evil));
            }
            1 => {
                let rp = m.entry("requestParameters").or_insert_with(|| Value::Object(Map::new()));
                if !rp.is_object() {
                    *rp = Value::Object(Map::new());
                }
                if let Some(o) = rp.as_object_mut() {
                    let key = o
                        .iter()
                        .find(|(_, v)| v.is_string())
                        .map(|(k, _)| k.clone())
                        .unwrap_or_else(|| "description".into());
                    o.insert(key, s(evil));
                }
            }
            2 => {
                // errorCode must precede errorMessage; rebuild in place
                let mut out = Map::new();
                let had_code = m.contains_key("errorCode");
                for (k, val) in std::mem::take(m) {
                    if k == "errorMessage" {
                        continue;
                    }
                    let is_ua = k == "userAgent";
                    let is_code = k == "errorCode";
                    out.insert(k, val);
                    if (is_ua && !had_code) || is_code {
                        if !had_code {
                            out.insert("errorCode".into(), s("AccessDenied"));
                        }
                        out.insert("errorMessage".into(), s(evil.clone()));
                    }
                }
                if out.get("eventType").and_then(Value::as_str) == Some("AwsApiCall") {
                    out.insert("responseElements".into(), Value::Null);
                }
                *m = out;
            }
            _ => {
                let rp = m.entry("requestParameters").or_insert_with(|| Value::Object(Map::new()));
                if !rp.is_object() {
                    *rp = Value::Object(Map::new());
                }
                if let Some(o) = rp.as_object_mut() {
                    o.insert("userName".into(), s(evil));
                }
            }
        }
        v
    }
}

fn make_record(pools: &Pools, ctx: &FileCtx, seed: u64, index: u64, opts: &GenOptions) -> Value {
    let mut r = Rng::new(mix(seed ^ SALT_REC, index));
    let lo = opts.end_time - opts.span_secs.max(0);
    // Within the file's window, and never past the end time (the last window may be cut short).
    let hi = (ctx.win_start + WINDOW).min(opts.end_time + 1).max(ctx.win_start + 1);
    let time = (ctx.win_start + r.below((hi - ctx.win_start) as u64) as i64).clamp(lo, opts.end_time);
    let mut b = Builder { r, p: pools, acct: &pools.accounts[ctx.acct], region: pools.regions[ctx.region].0, time };
    b.build(opts)
}

/// One record as a serde_json::Value (for tests that want single records).
///
/// Identical to the record with the same global `index` in the archive
/// [`generate`] writes for the same options and `seed`.
pub fn record(seed: u64, index: u64, opts: &GenOptions) -> Value {
    let pools = Pools::new(seed, opts);
    let per_file = opts.per_file.max(1) as u64;
    let ctx = FileCtx::new(seed, index / per_file, opts, &pools);
    make_record(&pools, &ctx, seed, index, opts)
}

// ---------------------------------------------------------------------------
// Archive writer
// ---------------------------------------------------------------------------

struct FileInfo {
    acct: usize,
    region: usize,
    key: String,
    name_time: i64,
    oldest: i64,
    newest: i64,
    hash: String,
    json_bytes: u64,
    gz_bytes: u64,
    events: usize,
}

/// 64 hex chars standing in for a SHA-256 of `bytes` (deterministic, not cryptographic).
fn pseudo_sha256(bytes: &[u8]) -> String {
    let a = xxhash_rust::xxh3::xxh3_128(bytes);
    let b = xxhash_rust::xxh3::xxh3_128_with_seed(bytes, 0x5348_4132_3536);
    format!("{a:032x}{b:032x}")
}

fn gzip(bytes: &[u8], level: u32) -> io::Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::with_capacity(bytes.len() / 8 + 64), Compression::new(level.min(9)));
    enc.write_all(bytes)?;
    enc.finish()
}

fn write_file(
    pools: &Pools,
    opts: &GenOptions,
    out_dir: &Path,
    file: u64,
    first: u64,
    count: usize,
) -> io::Result<FileInfo> {
    let ctx = FileCtx::new(opts.seed, file, opts, pools);
    let mut order: Vec<u64> = (first..first + count as u64).collect();
    Rng::new(mix(opts.seed ^ SALT_FILE ^ 0xABCD, file)).shuffle(&mut order);
    let mut json = Vec::with_capacity(count * 1100 + 16);
    json.extend_from_slice(b"{\"Records\":[");
    let mut oldest = i64::MAX;
    let mut newest = i64::MIN;
    for (i, idx) in order.iter().enumerate() {
        if i > 0 {
            json.push(b',');
        }
        let rec = make_record(pools, &ctx, opts.seed, *idx, opts);
        if let Some(t) = rec.get("eventTime").and_then(Value::as_str) {
            let t = parse_iso(t);
            oldest = oldest.min(t);
            newest = newest.max(t);
        }
        serde_json::to_writer(&mut json, &rec).map_err(io::Error::other)?;
    }
    json.extend_from_slice(b"]}");
    let gz = gzip(&json, opts.gzip_level)?;
    let key = log_key(pools, &ctx);
    let path = out_dir.join(&key);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    fs::write(&path, &gz)?;
    Ok(FileInfo {
        acct: ctx.acct,
        region: ctx.region,
        key,
        name_time: ctx.name_time(),
        oldest,
        newest,
        hash: pseudo_sha256(&gz),
        json_bytes: json.len() as u64,
        gz_bytes: gz.len() as u64,
        events: count,
    })
}

/// Inverse of [`iso`] for the exact `YYYY-MM-DDTHH:MM:SSZ` shape.
fn parse_iso(t: &str) -> i64 {
    let b = t.as_bytes();
    let n = |r: std::ops::Range<usize>| -> i64 {
        b.get(r).map(|d| d.iter().fold(0i64, |a, c| a * 10 + (c.wrapping_sub(b'0')) as i64)).unwrap_or(0)
    };
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    // days_from_civil
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + n(11..13) * 3600 + n(14..16) * 60 + n(17..19)
}

fn write_digests(pools: &Pools, opts: &GenOptions, out_dir: &Path, files: &[FileInfo]) -> io::Result<usize> {
    // (acct, region) -> day -> files
    let mut groups: BTreeMap<(usize, usize), BTreeMap<i64, Vec<&FileInfo>>> = BTreeMap::new();
    for f in files {
        groups.entry((f.acct, f.region)).or_default().entry(f.name_time.div_euclid(86_400)).or_default().push(f);
    }
    let trail = "management-events";
    let mut written = 0;
    for ((ai, ri), days) in groups {
        let acct = &pools.accounts[ai];
        let region = pools.regions[ri].0;
        let mut r = Rng::new(mix(opts.seed ^ SALT_DIGEST, (ai * 16 + ri) as u64));
        let mut prev: Option<(String, String, String)> = None; // (key, hash, signature)
        for (day, mut day_files) in days {
            day_files.sort_by(|a, b| a.key.cmp(&b.key));
            let start = day * 86_400;
            let end = start + 86_400;
            let (y, mo, d, h, mi, sec) = civil(end);
            let key = format!(
                "AWSLogs/{acct}/CloudTrail-Digest/{region}/{y:04}/{mo:02}/{d:02}/{acct}_CloudTrail-Digest_{region}_{trail}_{region}_{y:04}{mo:02}{d:02}T{h:02}{mi:02}{sec:02}Z.json.gz"
            );
            let oldest = day_files.iter().map(|f| f.oldest).min();
            let newest = day_files.iter().map(|f| f.newest).max();
            let log_files: Vec<Value> = day_files
                .iter()
                .map(|f| {
                    json!({
                        "s3Bucket": pools.trail_bucket,
                        "s3Object": f.key,
                        "hashValue": f.hash,
                        "hashAlgorithm": "SHA-256",
                        "newestEventTime": iso(f.newest),
                        "oldestEventTime": iso(f.oldest)
                    })
                })
                .collect();
            let (pb, pk, ph, pa, ps) = match &prev {
                Some((k, h, sig)) => {
                    (s(pools.trail_bucket.clone()), s(k.clone()), s(h.clone()), s("SHA-256"), s(sig.clone()))
                }
                None => (Value::Null, Value::Null, Value::Null, Value::Null, Value::Null),
            };
            let digest = json!({
                "awsAccountId": acct,
                "digestStartTime": iso(start),
                "digestEndTime": iso(end),
                "digestS3Bucket": pools.trail_bucket,
                "digestS3Object": key,
                "digestPublicKeyFingerprint": pools.fingerprint,
                "digestSignatureAlgorithm": "SHA256withRSA",
                "newestEventTime": newest.map(iso),
                "oldestEventTime": oldest.map(iso),
                "previousDigestS3Bucket": pb,
                "previousDigestS3Object": pk,
                "previousDigestHashValue": ph,
                "previousDigestHashAlgorithm": pa,
                "previousDigestSignature": ps,
                "logFiles": log_files
            });
            let bytes = serde_json::to_vec(&digest).map_err(io::Error::other)?;
            let gz = gzip(&bytes, opts.gzip_level)?;
            let path = out_dir.join(&key);
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir)?;
            }
            fs::write(&path, &gz)?;
            written += 1;
            prev = Some((key, pseudo_sha256(&bytes), r.chars(512, HEX)));
        }
    }
    Ok(written)
}

/// Write a trail archive under `out_dir` (created if needed).
pub fn generate(opts: &GenOptions, out_dir: &Path) -> io::Result<GenSummary> {
    fs::create_dir_all(out_dir)?;
    let pools = Pools::new(opts.seed, opts);
    let per_file = opts.per_file.max(1);
    let nfiles = opts.events.div_ceil(per_file);
    let infos: Vec<FileInfo> = (0..nfiles)
        .into_par_iter()
        .map(|fi| {
            let first = (fi * per_file) as u64;
            let count = per_file.min(opts.events - fi * per_file);
            write_file(&pools, opts, out_dir, fi as u64, first, count)
        })
        .collect::<io::Result<_>>()?;
    let digest_files = if opts.digests { write_digests(&pools, opts, out_dir, &infos)? } else { 0 };
    Ok(GenSummary {
        files: infos.len(),
        digest_files,
        events: infos.iter().map(|f| f.events).sum(),
        json_bytes: infos.iter().map(|f| f.json_bytes).sum(),
        gz_bytes: infos.iter().map(|f| f.gz_bytes).sum(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use std::collections::HashSet;
    use std::io::Read;
    use std::path::PathBuf;

    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }

    fn files(dir: &Path) -> Vec<PathBuf> {
        let mut v = Vec::new();
        walk(dir, &mut v);
        v.sort();
        v
    }

    fn gunzip(p: &Path) -> Vec<u8> {
        let mut s = Vec::new();
        GzDecoder::new(fs::File::open(p).unwrap()).read_to_end(&mut s).unwrap();
        s
    }

    fn small() -> GenOptions {
        GenOptions { events: 1234, per_file: 100, hostile: true, ..GenOptions::default() }
    }

    #[test]
    fn deterministic_bytes() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let sa = generate(&small(), a.path()).unwrap();
        let sb = generate(&small(), b.path()).unwrap();
        assert_eq!(sa, sb);
        let fa = files(a.path());
        let fb = files(b.path());
        assert_eq!(fa.len(), fb.len());
        for (x, y) in fa.iter().zip(&fb) {
            assert_eq!(x.strip_prefix(a.path()).unwrap(), y.strip_prefix(b.path()).unwrap());
            assert_eq!(fs::read(x).unwrap(), fs::read(y).unwrap(), "{x:?}");
        }
        // a different seed gives different output
        let c = tempfile::tempdir().unwrap();
        generate(&GenOptions { seed: 7, ..small() }, c.path()).unwrap();
        assert_ne!(
            files(c.path()).iter().map(|p| p.strip_prefix(c.path()).unwrap().to_path_buf()).collect::<Vec<_>>(),
            fa.iter().map(|p| p.strip_prefix(a.path()).unwrap().to_path_buf()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn decodes_counts_unique_ids_layout_unsorted() {
        let d = tempfile::tempdir().unwrap();
        let opts = small();
        let sum = generate(&opts, d.path()).unwrap();
        assert_eq!(sum.events, 1234);
        assert_eq!(sum.files, 13);
        assert!(sum.digest_files > 0);
        let mut ids = HashSet::new();
        let mut total = 0;
        let mut logs = 0;
        let mut digests = 0;
        let mut unsorted_files = 0;
        let lo = opts.end_time - opts.span_secs;
        for p in files(d.path()) {
            let rel = p.strip_prefix(d.path()).unwrap().to_str().unwrap().to_string();
            let parts: Vec<&str> = rel.split('/').collect();
            assert_eq!(parts.len(), 8, "{rel}");
            assert_eq!(parts[0], "AWSLogs");
            let acct = parts[1];
            assert!(acct.len() == 12 && acct.bytes().all(|c| c.is_ascii_digit()));
            let region = parts[3];
            assert!(REGIONS[..3].contains(&region), "{rel}");
            let (y, m, dd) = (parts[4], parts[5], parts[6]);
            assert!(y.len() == 4 && m.len() == 2 && dd.len() == 2);
            let fname = parts[7];
            assert!(fname.ends_with(".json.gz"));
            let text = gunzip(&p);
            let v: Value = serde_json::from_slice(&text).unwrap();
            if parts[2] == "CloudTrail-Digest" {
                digests += 1;
                let prefix = format!("{acct}_CloudTrail-Digest_{region}_management-events_{region}_{y}{m}{dd}T");
                assert!(fname.starts_with(&prefix), "{fname}");
                for k in ["awsAccountId", "digestStartTime", "digestEndTime", "logFiles", "previousDigestSignature"] {
                    assert!(v.get(k).is_some(), "{k}");
                }
                assert!(v.get("Records").is_none());
                continue;
            }
            assert_eq!(parts[2], "CloudTrail");
            logs += 1;
            let prefix = format!("{acct}_CloudTrail_{region}_{y}{m}{dd}T");
            assert!(fname.starts_with(&prefix), "{fname}");
            let stem = fname.trim_end_matches(".json.gz");
            let tail: Vec<&str> = stem.rsplitn(2, '_').collect();
            assert_eq!(tail[0].len(), 16);
            assert!(tail[0].bytes().all(|c| c.is_ascii_alphanumeric()));
            assert_eq!(text.iter().filter(|&&c| c == b'\n').count(), 0);
            let obj = v.as_object().unwrap();
            assert_eq!(obj.len(), 1);
            let recs = obj["Records"].as_array().unwrap();
            total += recs.len();
            let mut times = Vec::new();
            for r in recs {
                let id = r["eventID"].as_str().unwrap();
                assert_eq!(id.len(), 36);
                assert_eq!(&id[14..15], "4");
                assert!(ids.insert(id.to_string()), "duplicate {id}");
                assert_eq!(r["recipientAccountId"], acct);
                assert_eq!(r["awsRegion"], region);
                assert_eq!(r["managementEvent"], true);
                let t = parse_iso(r["eventTime"].as_str().unwrap());
                assert_eq!(iso(t), r["eventTime"].as_str().unwrap());
                assert!(t >= lo && t <= opts.end_time);
                times.push(t);
            }
            let (mn, mx) = (times.iter().min().unwrap(), times.iter().max().unwrap());
            assert!(mx - mn < WINDOW);
            if times.windows(2).any(|w| w[0] > w[1]) {
                unsorted_files += 1;
            }
        }
        assert_eq!(total, 1234);
        assert_eq!(logs, 13);
        assert_eq!(digests, sum.digest_files);
        assert!(unsorted_files >= 12, "records should be shuffled");
    }

    #[test]
    fn record_fn_equals_archived_record() {
        let opts = GenOptions { events: 250, per_file: 40, digests: false, ..GenOptions::default() };
        let d = tempfile::tempdir().unwrap();
        generate(&opts, d.path()).unwrap();
        let mut by_id = std::collections::HashMap::new();
        for p in files(d.path()) {
            let v: Value = serde_json::from_slice(&gunzip(&p)).unwrap();
            for r in v["Records"].as_array().unwrap() {
                by_id.insert(r["eventID"].as_str().unwrap().to_string(), r.clone());
            }
        }
        assert_eq!(by_id.len(), 250);
        for i in [0u64, 39, 40, 133, 249] {
            let r = record(opts.seed, i, &opts);
            assert_eq!(by_id.get(r["eventID"].as_str().unwrap()), Some(&r), "index {i}");
        }
    }

    #[test]
    fn record_matches_archive_and_shapes() {
        let opts = GenOptions { events: 3000, per_file: 500, ..GenOptions::default() };
        let a = record(opts.seed, 17, &opts);
        assert_eq!(a, record(opts.seed, 17, &opts));
        assert_ne!(a["eventID"], record(opts.seed, 18, &opts)["eventID"]);
        let mut reads = 0;
        let mut errors = 0;
        let mut kinds = HashSet::new();
        let mut services = HashSet::new();
        let mut total_len = 0;
        let n = 3000;
        for i in 0..n {
            let r = record(opts.seed, i, &opts);
            for k in [
                "eventVersion",
                "userIdentity",
                "eventTime",
                "eventSource",
                "eventName",
                "awsRegion",
                "sourceIPAddress",
                "userAgent",
                "requestParameters",
                "responseElements",
                "eventID",
                "readOnly",
                "eventType",
                "managementEvent",
                "recipientAccountId",
                "eventCategory",
            ] {
                assert!(r.get(k).is_some(), "{k} missing in {r}");
            }
            if r["readOnly"] == true {
                reads += 1;
            }
            if r.get("errorCode").is_some() {
                errors += 1;
            }
            let ty = r["userIdentity"].get("type").and_then(Value::as_str).unwrap_or("");
            kinds.insert(ty.to_string());
            services.insert(r["eventSource"].as_str().unwrap().to_string());
            if r["eventName"] == "ConsoleLogin" {
                assert_eq!(r["eventType"], "AwsConsoleSignIn");
                assert_eq!(r["awsRegion"], "us-east-1");
            }
            if ty == "AWSService" {
                assert_eq!(r["sourceIPAddress"], r["userIdentity"]["invokedBy"]);
                assert!(r["userIdentity"].get("arn").is_none());
            }
            if let Some(k) = r["userIdentity"].get("accessKeyId").and_then(Value::as_str) {
                assert_eq!(k.len(), 20);
                assert!(k.starts_with("AKIA") || k.starts_with("ASIA"));
            }
            total_len += serde_json::to_vec(&r).unwrap().len();
        }
        let avg = total_len / n as usize;
        assert!((800..=1300).contains(&avg), "avg record size {avg}");
        assert!((0.65..0.85).contains(&(reads as f64 / n as f64)), "reads {reads}");
        assert!((0.02..0.10).contains(&(errors as f64 / n as f64)), "errors {errors}");
        for k in ["IAMUser", "AssumedRole", "Root", "AWSService", "FederatedUser", "AWSAccount"] {
            assert!(kinds.contains(k), "{k}");
        }
        assert!(services.len() >= 35, "{}", services.len());
    }

    #[test]
    fn hostile_strings_present_only_when_enabled() {
        let has_control = |v: &Value| {
            let s = v.to_string();
            s.contains("\\u001b") || s.contains('\u{9b}') || s.contains('\u{202e}') || s.contains("\\u0000")
        };
        let on = GenOptions::default();
        let off = GenOptions { hostile: false, ..GenOptions::default() };
        let hits = (0..6000).filter(|i| has_control(&record(1, *i, &on))).count();
        assert!(hits > 3, "hits {hits}");
        assert!((0..3000).all(|i| !has_control(&record(1, i, &off))));
    }

    #[test]
    fn civil_roundtrip() {
        for t in [0i64, 951_782_400, 1_767_225_599, 1_767_225_600, 4_102_444_800] {
            assert_eq!(parse_iso(&iso(t)), t);
        }
        assert_eq!(iso(1_767_225_600), "2026-01-01T00:00:00Z");
        assert_eq!(iam_date(1_767_225_600), "Jan 1, 2026, 12:00:00 AM");
    }
}
