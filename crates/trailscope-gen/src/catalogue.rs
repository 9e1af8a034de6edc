//! Static catalogues: regions, names, resources, the calls each service makes and how
//! often, service events, hostile strings.

pub(crate) const REGIONS: [&str; 10] = [
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
pub(crate) const REGION_WEIGHTS: [u32; 10] = [6, 3, 3, 2, 2, 1, 1, 1, 1, 1];

pub(crate) const USER_NAMES: [&str; 30] = [
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

pub(crate) const ROLE_NAMES: [&str; 15] = [
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
pub(crate) const ROLE_WEIGHTS: [(usize, u32); 15] = [
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

pub(crate) const SERVICE_PRINCIPALS: [&str; 14] = [
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

pub(crate) const BUCKET_STEMS: [&str; 14] = [
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

pub(crate) const FUNCTION_NAMES: [&str; 12] = [
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

pub(crate) const PARAM_NAMES: [&str; 12] = [
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

pub(crate) const SECRET_NAMES: [&str; 8] = [
    "prod/rds/master",
    "prod/orders/api-key",
    "staging/rds/master",
    "shared/github-app",
    "prod/payments/stripe",
    "prod/ldap/bind",
    "datadog/api",
    "prod/jwt",
];

pub(crate) const TABLES: [&str; 8] = [
    "orders",
    "sessions",
    "users",
    "terraform-locks",
    "inventory",
    "audit-events",
    "feature-flags",
    "idempotency-keys",
];

pub(crate) const CLUSTERS: [&str; 4] = ["prod", "staging", "batch", "platform"];
pub(crate) const STACKS: [&str; 8] = [
    "network-baseline",
    "orders-service",
    "payments-service",
    "StackSet-guardrails-1b2c3d",
    "eks-platform",
    "monitoring",
    "CDKToolkit",
    "data-pipeline",
];
pub(crate) const DB_NAMES: [&str; 5] = ["orders-db", "payments-aurora", "legacy-mysql", "analytics-pg", "staging-db"];
pub(crate) const LOG_GROUPS: [&str; 10] = [
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
pub(crate) const INSTANCE_TYPES: [&str; 8] =
    ["t3.micro", "t3.medium", "m5.large", "m6i.xlarge", "c6g.2xlarge", "r6i.large", "t4g.small", "g5.xlarge"];
pub(crate) const MANAGED_POLICIES: [&str; 8] = [
    "arn:aws:iam::aws:policy/AdministratorAccess",
    "arn:aws:iam::aws:policy/ReadOnlyAccess",
    "arn:aws:iam::aws:policy/AmazonS3FullAccess",
    "arn:aws:iam::aws:policy/PowerUserAccess",
    "arn:aws:iam::aws:policy/SecurityAudit",
    "arn:aws:iam::aws:policy/AmazonEC2FullAccess",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/IAMFullAccess",
];

pub(crate) const CIPHERS: [(&str, &str, u32); 4] = [
    ("TLSv1.3", "TLS_AES_128_GCM_SHA256", 60),
    ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", 30),
    ("TLSv1.3", "TLS_AES_256_GCM_SHA384", 8),
    ("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", 2),
];

pub(crate) const BROWSERS: [&str; 4] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
];

/// Services whose events are delivered to us-east-1 only.
pub(crate) fn is_global(svc: &str) -> bool {
    matches!(svc, "iam" | "signin" | "route53" | "organizations" | "cloudfront" | "health")
}

/// `(service, eventName, weight, readOnly)`.
pub(crate) type Call = (&'static str, &'static str, u32, bool);

#[rustfmt::skip]
pub(crate) const CALLS: &[Call] = &[
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
pub(crate) const SERVICE_EVENTS: [(&str, &str); 5] = [
    ("kms", "RotateKey"),
    ("kms", "DeleteExpiredKeyMaterial"),
    ("ec2", "SharedSnapshotCopyInitiated"),
    ("backup", "BackupJobCompleted"),
    ("cloudtrail", "InsightsDeliveryFailure"),
];

pub(crate) const HOSTILE: [&str; 16] = [
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
