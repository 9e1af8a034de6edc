#!/usr/bin/env python3
"""Validates a local copy of a trail archive with the aws CLI's own validator.

Usage: awscli_validate.py ROOT PUBLIC_KEYS_JSON

Drives `awscli.customizations.cloudtrail.validation` (`DigestProvider`, `DigestTraverser`,
`Sha256RSADigestValidator`, and `CloudTrailValidateLogs._download_log` for log files) over the
files under ROOT (the folder that holds AWSLogs/): its S3 reads go to a fake client that
serves those files, and its key provider returns the keys of PUBLIC_KEYS_JSON (the output of
`aws cloudtrail list-public-keys`). A copy has lost the S3 metadata that holds each digest's
signature; the fake client serves what the digest after it records as
`previousDigestSignature`, so the newest digest of each chain has none (the CLI reports it
invalid: "signature verification failed").

Prints one JSON object per file the CLI reached a verdict on:
{"kind": "digest"|"log", "key": KEY, "status": "valid"|"invalid"|"missing", "message": ...}
"""

import gzip
import io
import json
import os
import sys
from datetime import datetime, timezone

from botocore.exceptions import ClientError

import awscli.customizations.cloudtrail.validation as v


class FakeS3:
    """The subset of an S3 client the validator uses, over files on disk."""

    def __init__(self, root, signatures):
        self.root = root
        self.signatures = signatures
        self.keys = []
        for d, _, files in os.walk(os.path.join(root, "AWSLogs")):
            for f in files:
                self.keys.append(os.path.relpath(os.path.join(d, f), root).replace(os.sep, "/"))
        self.keys.sort()

    def get_paginator(self, name):
        assert name == "list_objects"
        return self

    def paginate(self, Bucket, Marker, Prefix):
        keys = [k for k in self.keys if k > Marker and k.startswith(Prefix)]
        return Pages(keys)

    def get_object(self, Bucket, Key):
        path = os.path.join(self.root, Key)
        if not os.path.isfile(path):
            raise ClientError({"Error": {"Code": "NoSuchKey", "Message": "The specified key does not exist."}}, "GetObject")
        meta = {}
        if Key in self.signatures:
            meta = {"signature": self.signatures[Key], "signature-algorithm": "SHA256withRSA"}
        with open(path, "rb") as f:
            body = f.read()
        return {"Body": io.BytesIO(body), "Metadata": meta}


class Pages:
    def __init__(self, keys):
        self.keys = keys

    def search(self, expression):
        assert expression == "Contents[*].Key"
        return iter(self.keys)


class FakeS3Provider:
    def __init__(self, client):
        self.client = client

    def get_client(self, bucket_name):
        return self.client


class FakeKeyProvider:
    def __init__(self, keys):
        self.keys = keys

    def get_public_keys(self, start_date, end_date):
        return dict((k["Fingerprint"], k) for k in self.keys)


def read_digest(path):
    try:
        with open(path, "rb") as f:
            return json.loads(gzip.decompress(f.read()))
    except Exception:
        return None


def chain_of(key):
    """(org, account, region, trail, home) of a digest key, or None."""
    parts = key.split("/")
    if parts[0] != "AWSLogs":
        return None
    org = None
    if parts[1].startswith("o-") and len(parts) == 9:
        org, parts = parts[1], ["AWSLogs"] + parts[2:]
    if len(parts) != 8 or parts[2] != "CloudTrail-Digest":
        return None
    account, region, name = parts[1], parts[3], parts[7]
    stem = name[: -len(".json.gz")]
    head = f"{account}_CloudTrail-Digest_{region}_"
    if not stem.startswith(head):
        return None
    rest = stem[len(head):]
    trail_home, _stamp = rest.rsplit("_", 1)
    trail, home = trail_home.rsplit("_", 1)
    return (org, account, region, trail, home)


def main():
    root, keys_path = sys.argv[1], sys.argv[2]
    with open(keys_path) as f:
        keys = json.load(f)["PublicKeyList"]
    s3 = FakeS3(root, {})
    chains = {}
    bucket = None
    for key in s3.keys:
        c = chain_of(key)
        if c is None:
            continue
        chains.setdefault(c, []).append(key)
        d = read_digest(os.path.join(root, key))
        if d is None:
            continue
        bucket = bucket or d.get("digestS3Bucket")
        prev = d.get("previousDigestS3Object")
        if prev and d.get("previousDigestSignature"):
            s3.signatures[prev] = d["previousDigestSignature"]
    provider = FakeS3Provider(s3)
    results = []

    def on_invalid(bucket, last_key, message=None, **kw):
        results.append({"kind": "digest", "key": last_key, "status": "invalid", "message": message})

    def on_missing(bucket, last_key, message=None, **kw):
        results.append({"kind": "digest", "key": last_key, "status": "missing", "message": message})

    def on_gap(**kw):
        pass

    cmd = v.CloudTrailValidateLogs(None)
    cmd.s3_client_provider = provider

    def log_result(status):
        return lambda log: results.append({"kind": "log", "key": log["s3Object"], "status": status, "message": None})

    cmd._on_log_invalid = log_result("invalid")
    cmd._on_missing_log = log_result("missing")
    cmd._on_invalid_log_format = log_result("invalid")
    cmd._write_status = lambda message, is_error=False: None

    start = datetime(2000, 1, 1, tzinfo=timezone.utc)
    end = datetime(2100, 1, 1, tzinfo=timezone.utc)
    for (org, account, region, trail, home) in sorted(chains, key=lambda c: tuple(x or "" for x in c)):
        digest_provider = v.DigestProvider(
            s3_client_provider=provider,
            account_id=account,
            trail_name=trail,
            trail_home_region=home,
            trail_source_region=region,
            organization_id=org,
        )
        traverser = v.DigestTraverser(
            digest_provider=digest_provider,
            starting_bucket=bucket,
            starting_prefix=None,
            public_key_provider=FakeKeyProvider(keys),
            on_invalid=on_invalid,
            on_gap=on_gap,
            on_missing=on_missing,
        )
        for digest in traverser.traverse_digests(start, end):
            results.append({"kind": "digest", "key": digest["digestS3Object"], "status": "valid", "message": None})
            before = len(results)
            for log in digest["logFiles"]:
                cmd._valid_logs = 0
                cmd._download_log(log)
                if cmd._valid_logs:
                    results.append({"kind": "log", "key": log["s3Object"], "status": "valid", "message": None})
            assert len(results) >= before
    for r in results:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
