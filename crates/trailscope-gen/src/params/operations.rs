//! Request parameters of management, monitoring and messaging services.

use serde_json::{json, Value};

use super::CallDetails;
use crate::builder::Builder;
use crate::catalogue::{LOG_GROUPS, STACKS};
use crate::rng::{HEX, UPPER_DIGITS};
use crate::time::{civil, iam_date};

impl Builder<'_> {
    pub(super) fn cloudtrail_request(&mut self, name: &str) -> Value {
        let acct = self.acct.to_string();
        let trail = format!("arn:aws:cloudtrail:us-east-1:{acct}:trail/management-events");
        match name {
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

    pub(super) fn logs_request(&mut self, name: &str) -> Value {
        let lg = *self.r.pick(&LOG_GROUPS);
        match name {
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

    pub(super) fn sns_request(&mut self, name: &str, out: &mut CallDetails) -> Value {
        let acct = self.acct.to_string();
        let region = self.region;
        let t = self.r.pick(&["alerts", "orders-events", "billing-alarms", "deploy-notify"]);
        let arn = format!("arn:aws:sns:{region}:{acct}:{t}");
        match name {
            "ListTopics" => Value::Null,
            "CreateTopic" => {
                out.response = json!({"topicArn": arn});
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

    pub(super) fn sqs_request(&mut self, name: &str, out: &mut CallDetails) -> Value {
        let acct = self.acct.to_string();
        let region = self.region;
        let q = self.r.pick(&["orders-queue", "orders-dlq", "email-jobs", "image-jobs.fifo"]);
        let url = format!("https://sqs.{region}.amazonaws.com/{acct}/{q}");
        match name {
            "ListQueues" => json!({"queueNamePrefix": ""}),
            "CreateQueue" => {
                out.response = json!({"queueUrl": url});
                json!({"queueName": q, "attributes": {"VisibilityTimeout": "30", "MessageRetentionPeriod": "345600"}})
            }
            "GetQueueAttributes" => json!({"queueUrl": url, "attributeNames": ["All"]}),
            _ => json!({"queueUrl": url}),
        }
    }

    pub(super) fn cloudformation_request(&mut self, name: &str, out: &mut CallDetails) -> Value {
        let acct = self.acct.to_string();
        let region = self.region;
        let st = *self.r.pick(&STACKS);
        match name {
            "ListStacks" => {
                json!({"stackStatusFilter": ["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"]})
            }
            "CreateStack" | "UpdateStack" => {
                out.response =
                    json!({"stackId": format!("arn:aws:cloudformation:{region}:{acct}:stack/{st}/{}", self.r.uuid())});
                json!({"stackName": st, "templateURL": format!("https://s3.{region}.amazonaws.com/{}/{st}.yaml", self.bucket()), "capabilities": ["CAPABILITY_NAMED_IAM"], "parameters": [{"parameterKey": "Environment", "parameterValue": "prod"}]})
            }
            "CreateChangeSet" | "ExecuteChangeSet" => {
                json!({"stackName": st, "changeSetName": format!("cdk-deploy-change-set-{}", self.r.chars(8, HEX))})
            }
            _ => json!({"stackName": st}),
        }
    }

    pub(super) fn route53_request(&mut self, name: &str) -> Value {
        let z = self.r.pick(&self.p.zones).clone();
        match name {
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

    pub(super) fn guardduty_request(&mut self, name: &str) -> Value {
        let det = self.p.detector.clone();
        match name {
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

    pub(super) fn config_request(&mut self, name: &str) -> Value {
        match name {
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
        }
    }

    pub(super) fn monitoring_request(&mut self, name: &str) -> Value {
        let alarm = self.r.pick(&["orders-5xx", "cpu-high", "billing-over-budget", "rds-storage-low"]);
        match name {
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

    pub(super) fn states_request(&mut self, name: &str, out: &mut CallDetails) -> Value {
        let acct = self.acct.to_string();
        let region = self.region;
        let sm = format!(
            "arn:aws:states:{region}:{acct}:stateMachine:{}",
            self.r.pick(&["order-fulfilment", "nightly-etl"])
        );
        match name {
            "StartExecution" => {
                out.response = json!({"executionArn": format!("{}:{}", sm.replace("stateMachine", "execution"), self.r.uuid()), "startDate": iam_date(self.time)});
                json!({"stateMachineArn": sm, "input": "HIDDEN_DUE_TO_SECURITY_REASONS"})
            }
            "ListStateMachines" => Value::Null,
            _ => json!({"stateMachineArn": sm}),
        }
    }

    pub(super) fn events_request(&mut self, name: &str) -> Value {
        let rule = self.r.pick(&["nightly-report", "guardduty-to-slack", "ecr-scan-findings"]);
        if name == "ListRules" {
            json!({"limit": 100})
        } else {
            json!({"name": rule, "eventBusName": "default"})
        }
    }
}
