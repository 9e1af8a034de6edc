//! `CREATE EXTERNAL TABLE` for a trail's archive in S3: the table AWS documents for CloudTrail
//! logs in Athena, with partition projection so that no partition is ever added by hand.

use super::sql::{ident, quote};

/// The documented table's columns (CloudTrail's record format, as Athena reads it).
pub const COLUMNS: &str = "  eventversion STRING,
  useridentity STRUCT<
    type: STRING,
    principalid: STRING,
    arn: STRING,
    accountid: STRING,
    invokedby: STRING,
    accesskeyid: STRING,
    username: STRING,
    onbehalfof: STRUCT<userid: STRING, identitystorearn: STRING>,
    sessioncontext: STRUCT<
      attributes: STRUCT<mfaauthenticated: STRING, creationdate: STRING>,
      sessionissuer: STRUCT<type: STRING, principalid: STRING, arn: STRING, accountid: STRING, username: STRING>,
      sourceidentity: STRING,
      ec2roledelivery: STRING,
      webidfederationdata: STRUCT<federatedprovider: STRING, attributes: MAP<STRING, STRING>>>>,
  eventtime STRING,
  eventsource STRING,
  eventname STRING,
  awsregion STRING,
  sourceipaddress STRING,
  useragent STRING,
  errorcode STRING,
  errormessage STRING,
  requestparameters STRING,
  responseelements STRING,
  additionaleventdata STRING,
  requestid STRING,
  eventid STRING,
  readonly STRING,
  resources ARRAY<STRUCT<arn: STRING, accountid: STRING, type: STRING>>,
  eventtype STRING,
  apiversion STRING,
  recipientaccountid STRING,
  serviceeventdetails STRING,
  sharedeventid STRING,
  vpcendpointid STRING,
  vpcendpointaccountid STRING,
  eventcategory STRING,
  addendum STRUCT<reason: STRING, updatedfields: STRING, originalrequestid: STRING, originaleventid: STRING>,
  sessioncredentialfromconsole STRING,
  edgedevicedetails STRING,
  tlsdetails STRUCT<tlsversion: STRING, ciphersuite: STRING, clientprovidedhostheader: STRING>";

/// Where a trail's archive is and what it holds.
#[derive(Clone, Debug)]
pub struct DdlOptions {
    /// `s3://bucket/prefix`: the folder that holds `AWSLogs/` (or `AWSLogs/` itself, or an
    /// organisation's `AWSLogs/o-…/`).
    pub url: String,
    /// The accounts whose logs are there.
    pub accounts: Vec<String>,
    /// The regions.
    pub regions: Vec<String>,
    /// The table's name.
    pub table: String,
    /// Its database.
    pub database: Option<String>,
    /// The first day projected (`yyyy/MM/dd`).
    pub first_day: String,
}

/// Why no DDL could be written.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DdlError {
    /// Not an `s3://bucket[/prefix]` URL.
    #[error("{0}: not an s3://bucket/prefix URL")]
    NotS3(String),
    /// Nothing to project.
    #[error("name the accounts and regions (--accounts A,B --regions R,S) or a trail (--trail NAME)")]
    NoAccountsOrRegions,
    /// A value that cannot go into a partition's projection.
    #[error("{0:?}: not an account id or a region name")]
    BadValue(String),
}

/// The folder under which `<account>/CloudTrail/<region>/yyyy/MM/dd/` lie.
fn logs_root(url: &str) -> Result<String, DdlError> {
    let rest = url.strip_prefix("s3://").ok_or_else(|| DdlError::NotS3(url.to_string()))?;
    let rest = rest.trim_end_matches('/');
    if rest.is_empty() || rest.starts_with('/') {
        return Err(DdlError::NotS3(url.to_string()));
    }
    let last = rest.rsplit('/').next().unwrap_or("");
    Ok(if last == "AWSLogs" || (last.starts_with("o-") && rest.contains("/AWSLogs/")) {
        format!("s3://{rest}")
    } else {
        format!("s3://{rest}/AWSLogs")
    })
}

/// The `CREATE EXTERNAL TABLE` statement. One account and one region: the documented
/// single-trail table (partitioned by `timestamp`); more: the organisation form, partitioned
/// by `account`, `region` and `timestamp`, all projected.
pub fn ddl(o: &DdlOptions) -> Result<String, DdlError> {
    let root = logs_root(&o.url)?;
    if o.accounts.is_empty() || o.regions.is_empty() {
        return Err(DdlError::NoAccountsOrRegions);
    }
    for v in o.accounts.iter().chain(&o.regions) {
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(DdlError::BadValue(v.clone()));
        }
    }
    let table = match &o.database {
        Some(db) => format!("{}.{}", ident(db), ident(&o.table)),
        None => ident(&o.table),
    };
    let single = o.accounts.len() == 1 && o.regions.len() == 1;
    let (partitions, location, template, extra) = if single {
        let loc = format!("{root}/{}/CloudTrail/{}", o.accounts[0], o.regions[0]);
        ("`timestamp` STRING".to_string(), loc.clone(), format!("{loc}/${{timestamp}}"), String::new())
    } else {
        (
            "`account` STRING, `region` STRING, `timestamp` STRING".to_string(),
            root.clone(),
            format!("{root}/${{account}}/CloudTrail/${{region}}/${{timestamp}}"),
            format!(
                "  'projection.account.type'='enum',\n  'projection.account.values'={},\n  \
                 'projection.region.type'='enum',\n  'projection.region.values'={},\n",
                quote(&o.accounts.join(",")),
                quote(&o.regions.join(","))
            ),
        )
    };
    Ok(format!(
        "CREATE EXTERNAL TABLE {table} (\n{COLUMNS}\n)\nPARTITIONED BY ({partitions})\n\
         ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'\n\
         STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'\n\
         OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'\n\
         LOCATION {}\n\
         TBLPROPERTIES (\n  'projection.enabled'='true',\n{extra}  'projection.timestamp.type'='date',\n  \
         'projection.timestamp.format'='yyyy/MM/dd',\n  'projection.timestamp.interval'='1',\n  \
         'projection.timestamp.interval.unit'='DAYS',\n  'projection.timestamp.range'={},\n  \
         'storage.location.template'={}\n)",
        quote(&location),
        quote(&format!("{},NOW", o.first_day)),
        quote(&template),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(url: &str, accounts: &[&str], regions: &[&str]) -> DdlOptions {
        DdlOptions {
            url: url.into(),
            accounts: accounts.iter().map(|s| s.to_string()).collect(),
            regions: regions.iter().map(|s| s.to_string()).collect(),
            table: "cloudtrail_logs".into(),
            database: None,
            first_day: "2024/01/01".into(),
        }
    }

    #[test]
    fn one_trail_and_an_organisation() {
        let d = ddl(&opts("s3://b/p", &["111122223333"], &["us-east-1"])).unwrap();
        assert!(d.contains("LOCATION 's3://b/p/AWSLogs/111122223333/CloudTrail/us-east-1'"), "{d}");
        assert!(d.contains("PARTITIONED BY (`timestamp` STRING)"), "{d}");
        assert!(
            d.contains("'storage.location.template'='s3://b/p/AWSLogs/111122223333/CloudTrail/us-east-1/${timestamp}'")
        );
        let d = ddl(&opts("s3://b/AWSLogs/o-abc123/", &["1", "2"], &["us-east-1", "eu-west-1"])).unwrap();
        assert!(d.contains("LOCATION 's3://b/AWSLogs/o-abc123'"), "{d}");
        assert!(d.contains("'projection.account.values'='1,2'"), "{d}");
        assert!(d.contains("${account}/CloudTrail/${region}/${timestamp}"), "{d}");
        assert_eq!(ddl(&opts("b/p", &["1"], &["r"])), Err(DdlError::NotS3("b/p".into())));
        assert_eq!(ddl(&opts("s3://b", &[], &["r"])), Err(DdlError::NoAccountsOrRegions));
        assert_eq!(ddl(&opts("s3://b", &["1'x"], &["r"])), Err(DdlError::BadValue("1'x".into())));
    }
}
