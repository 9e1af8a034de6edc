//! Request parameters of compute and container services.

use serde_json::{json, Value};

use super::CallDetails;
use crate::builder::Builder;
use crate::catalogue::{CLUSTERS, INSTANCE_TYPES};
use crate::rng::HEX;

impl Builder<'_> {
    pub(super) fn ec2_request(&mut self, name: &str, rid: &str, out: &mut CallDetails) -> Value {
        let acct = self.acct.to_string();
        match name {
            "DescribeInstances" => {
                if self.r.chance(0.5) {
                    json!({"instancesSet": {"items": [{"instanceId": self.instance()}]}, "filterSet": {}})
                } else {
                    json!({"instancesSet": {}, "filterSet": {"items": [{"name": "instance-state-name", "valueSet": {"items": [{"value": "running"}]}}]}})
                }
            }
            "DescribeSecurityGroups" => {
                json!({"securityGroupSet": {}, "securityGroupIdSet": {"items": [{"groupId": self.sg()}]}, "filterSet": {}})
            }
            "DescribeSubnets" => {
                json!({"subnetSet": {}, "filterSet": {"items": [{"name": "vpc-id", "valueSet": {"items": [{"value": self.vpc()}]}}]}})
            }
            "DescribeRegions" => json!({"regionSet": {}, "allRegions": false}),
            "DescribeInstanceStatus" => {
                json!({"instancesSet": {"items": [{"instanceId": self.instance()}]}, "filterSet": {}, "includeAllInstances": true})
            }
            "DescribeImages" => {
                json!({"executableBySet": {}, "imagesSet": {"items": [{"imageId": self.r.pick(&self.p.amis)}]}, "ownersSet": {}, "includeDeprecated": false})
            }
            "RunInstances" => self.run_instances(rid, out),
            "TerminateInstances" | "StartInstances" | "StopInstances" => {
                let inst = self.instance();
                out.response = json!({"requestId": rid, "instancesSet": {"items": [{"instanceId": inst, "currentState": {"code": 32, "name": "shutting-down"}, "previousState": {"code": 16, "name": "running"}}]}});
                json!({"instancesSet": {"items": [{"instanceId": inst}]}})
            }
            "CreateTags" => {
                let target = if self.r.chance(0.6) { self.instance() } else { self.r.pick(&self.p.volumes).clone() };
                out.response = json!({"requestId": rid, "_return": true});
                json!({"resourcesSet": {"items": [{"resourceId": target}]}, "tagSet": {"items": [{"key": self.r.pick(&["Name", "env", "owner", "cost-center"]), "value": self.r.pick(&["prod", "staging", "platform-team", "orders"])}]}})
            }
            "AuthorizeSecurityGroupIngress" | "RevokeSecurityGroupIngress" => {
                let port = *self.r.pick(&[22u64, 3389, 443, 80, 5432, 6379, 8080]);
                let cidr = if self.r.chance(0.3) {
                    "0.0.0.0/0".to_string()
                } else {
                    format!("10.{}.0.0/16", self.r.below(256))
                };
                let sg = self.sg();
                out.response = json!({"requestId": rid, "_return": true, "securityGroupRuleSet": {"items": [{"groupOwnerId": acct, "groupId": sg, "securityGroupRuleId": format!("sgr-0{}", self.r.chars(16, HEX)), "isEgress": false, "ipProtocol": "tcp", "fromPort": port, "toPort": port, "cidrIpv4": cidr}]}});
                json!({"groupId": sg, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": port, "toPort": port, "groups": {}, "ipRanges": {"items": [{"cidrIp": cidr}]}, "ipv6Ranges": {}, "prefixListIds": {}}]}})
            }
            "CreateSecurityGroup" => {
                let g = self.r.pick(&["web-sg", "db-sg", "bastion", "lambda-sg", "temp-debug"]);
                out.response = json!({"requestId": rid, "_return": true, "groupId": self.sg()});
                json!({"groupName": g, "groupDescription": format!("{g} managed by terraform"), "vpcId": self.vpc()})
            }
            "DeleteSecurityGroup" => {
                out.response = json!({"requestId": rid, "_return": true});
                json!({"groupId": self.sg()})
            }
            "CreateSnapshot" => {
                json!({"volumeId": self.r.pick(&self.p.volumes), "description": "Created by AWS Backup"})
            }
            "CreateVolume" => {
                json!({"size": self.r.pick(&[8u64, 20, 100, 500]), "zone": self.az(), "volumeType": "gp3", "encrypted": true})
            }
            "AttachVolume" => {
                json!({"volumeId": self.r.pick(&self.p.volumes), "instanceId": self.instance(), "device": "/dev/sdf"})
            }
            "ModifyInstanceAttribute" => {
                json!({"instanceId": self.instance(), "disableApiTermination": {"value": false}})
            }
            "CreateKeyPair" => json!({"keyName": "deploy-key", "keyType": "ed25519"}),
            "AllocateAddress" => json!({"domain": "vpc"}),
            _ => {
                if self.r.chance(0.5) {
                    json!({"filterSet": {}})
                } else {
                    json!({"maxResults": 1000, "filterSet": {"items": [{"name": "vpc-id", "valueSet": {"items": [{"value": self.vpc()}]}}]}})
                }
            }
        }
    }

    /// RunInstances: one instance launched, described in full in the response.
    fn run_instances(&mut self, rid: &str, out: &mut CallDetails) -> Value {
        let acct = self.acct.to_string();
        let inst = self.instance();
        let ami = self.r.pick(&self.p.amis).clone();
        let it = *self.r.pick(&INSTANCE_TYPES);
        let subnet = self.subnet();
        let sg = self.sg();
        out.response = json!({
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

    pub(super) fn lambda_request(&mut self, name: &str) -> Value {
        let f = self.function();
        if name.starts_with("List") {
            json!({"maxItems": 50})
        } else if name.starts_with("UpdateFunctionCode") {
            json!({"functionName": f, "s3Bucket": self.bucket(), "s3Key": format!("{f}/{}.zip", self.r.chars(40, HEX)), "publish": true, "dryRun": false})
        } else if name.starts_with("AddPermission") {
            json!({"functionName": f, "statementId": format!("s3-invoke-{}", self.r.chars(8, HEX)), "action": "lambda:InvokeFunction", "principal": "s3.amazonaws.com", "sourceArn": format!("arn:aws:s3:::{}", self.bucket())})
        } else {
            json!({"functionName": f})
        }
    }

    pub(super) fn ecs_request(&mut self, name: &str) -> Value {
        let c = *self.r.pick(&CLUSTERS);
        let svc_name = self.r.pick(&["orders-service", "payments-service", "web", "worker"]);
        match name {
            "ListClusters" => json!({"maxResults": 100}),
            "DescribeClusters" => json!({"clusters": [c], "include": ["SETTINGS"]}),
            "DescribeServices" | "UpdateService" | "CreateService" | "DeleteService" => {
                json!({"cluster": c, "services": [svc_name], "service": svc_name, "forceNewDeployment": name == "UpdateService"})
            }
            "DescribeTaskDefinition" | "RegisterTaskDefinition" => {
                json!({"taskDefinition": format!("{svc_name}:{}", self.r.range(1, 300)), "family": svc_name})
            }
            _ => json!({"cluster": c}),
        }
    }

    pub(super) fn eks_request(&mut self, name: &str) -> Value {
        let acct = self.acct.to_string();
        let c = *self.r.pick(&CLUSTERS);
        match name {
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

    pub(super) fn ecr_request(&mut self, name: &str) -> Value {
        let acct = self.acct.to_string();
        let repo = self.r.pick(&["orders-api", "payments", "base-images/python", "nginx", "worker"]);
        match name {
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

    pub(super) fn autoscaling_request(&mut self, name: &str) -> Value {
        let asg = self.r.pick(&["eks-prod-general", "web-asg", "batch-workers"]);
        match name {
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

    pub(super) fn elasticloadbalancing_request(&mut self, name: &str) -> Value {
        let acct = self.acct.to_string();
        let region = self.region;
        let tg = format!(
            "arn:aws:elasticloadbalancing:{region}:{acct}:targetgroup/{}/{}",
            self.r.pick(&["orders-tg", "web-tg", "api-tg"]),
            self.r.chars(16, HEX)
        );
        match name {
            "DescribeLoadBalancers" | "DescribeTargetGroups" => {
                json!({"pageSize": 400})
            }
            "RegisterTargets" | "DeregisterTargets" => {
                json!({"targetGroupArn": tg, "targets": [{"id": self.instance(), "port": 8080}]})
            }
            _ => json!({"targetGroupArn": tg}),
        }
    }
}
