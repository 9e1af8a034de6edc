//! Request parameters of storage and data services.

use serde_json::{json, Map, Value};

use super::CallDetails;
use crate::builder::{s, Builder};
use crate::catalogue::{DB_NAMES, TABLES};
use crate::rng::{B64, HEX};

impl Builder<'_> {
    pub(super) fn s3_request(&mut self, name: &str, out: &mut CallDetails) -> Value {
        let acct = self.acct.to_string();
        let region = self.region;
        let b = self.bucket();
        let host = format!("{b}.s3.{region}.amazonaws.com");
        out.resources =
            Some(json!([{"accountId": acct, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{b}")}]));
        out.additional = Some(json!({
            "SignatureVersion": "SigV4",
            "CipherSuite": "TLS_AES_128_GCM_SHA256",
            "bytesTransferredIn": 0,
            "AuthenticationMethod": "AuthHeader",
            "x-amz-id-2": self.r.chars(76, B64),
            "bytesTransferredOut": self.r.range(0, 4000)
        }));
        match name {
            "ListBuckets" => {
                out.resources = None;
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

    pub(super) fn dynamodb_request(&mut self, name: &str) -> Value {
        let acct = self.acct.to_string();
        let region = self.region;
        if name == "ListTables" {
            json!({"limit": 100})
        } else if name == "ListTagsOfResource" {
            json!({"resourceArn": format!("arn:aws:dynamodb:{region}:{acct}:table/{}", self.r.pick(&TABLES))})
        } else {
            json!({"tableName": self.r.pick(&TABLES)})
        }
    }

    pub(super) fn rds_request(&mut self, name: &str) -> Value {
        let acct = self.acct.to_string();
        let region = self.region;
        let db = *self.r.pick(&DB_NAMES);
        if name.starts_with("Describe") && self.r.chance(0.6) {
            json!({"maxRecords": 100})
        } else if name == "CreateDBSnapshot" {
            json!({"dBSnapshotIdentifier": format!("{db}-manual-{}", self.r.chars(6, HEX)), "dBInstanceIdentifier": db})
        } else if name == "ListTagsForResource" {
            json!({"resourceName": format!("arn:aws:rds:{region}:{acct}:db:{db}")})
        } else if name == "DeleteDBInstance" {
            json!({"dBInstanceIdentifier": db, "skipFinalSnapshot": true, "deleteAutomatedBackups": false})
        } else {
            json!({"dBInstanceIdentifier": db})
        }
    }

    pub(super) fn glue_request(&mut self) -> Value {
        json!({"databaseName": self.r.pick(&["raw", "curated", "security"]), "name": self.r.pick(&TABLES)})
    }

    pub(super) fn athena_request(&mut self, name: &str, out: &mut CallDetails) -> Value {
        match name {
            "StartQueryExecution" => {
                out.response = json!({"queryExecutionId": self.r.uuid()});
                json!({"queryString": "SELECT eventname, count(*) FROM cloudtrail_logs WHERE eventtime > '2025-12-01' GROUP BY 1 ORDER BY 2 DESC LIMIT 50", "clientRequestToken": self.r.uuid(), "queryExecutionContext": {"database": "security"}, "workGroup": "primary"})
            }
            "ListWorkGroups" => json!({"maxResults": 50}),
            _ => json!({"queryExecutionId": self.r.uuid()}),
        }
    }
}
