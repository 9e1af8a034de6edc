//! The LookupEvents double reads archives with its own small reader, independent of the
//! loader its clients test. It must serve exactly the records it served when it read them
//! through that loader: every record the loader finds that the service could hold (an
//! eventID, a readable eventTime, an awsRegion), exact duplicates once. Checked on a
//! generated archive (log files, digest files, hostile strings) and on the real records in
//! `../shared/data` (JSON arrays, JSON Lines with records that lack an eventID, reused ids,
//! exact copies, and a README that is not JSON).

use std::path::{Path, PathBuf};

use serde_json::Value;
use trailscope::model::raw::RawReader;
use trailscope::print::load_all;
use trailscope_double::{Archive, Record};

/// (eventID, CloudTrailEvent text) of each record served, sorted.
type Served = Vec<(String, String)>;

/// What the double served when it loaded archives with trailscope's loader: each event the
/// loader kept, read back and turned into the double's view of a record.
fn through_loader(path: &Path) -> Served {
    let raw = RawReader::new(usize::MAX / 2);
    let loaded = load_all(&[path.to_string_lossy().into_owned()], &raw, true);
    let mut served: Served = loaded
        .store
        .events
        .iter()
        .filter_map(|ev| {
            let bytes = raw.read(loaded.store.file_of(ev)?, ev.loc).ok()?;
            let value: Value = serde_json::from_slice(&bytes).ok()?;
            Record::from_value(&value)
        })
        .map(|r| (r.event_id, r.json))
        .collect();
    served.sort();
    served
}

/// What the double serves now.
fn through_double(path: &Path) -> Served {
    let (archive, _) =
        Archive::load(path).unwrap_or_else(|e| panic!("the double cannot load {}: {e:#}", path.display()));
    let mut served: Served = archive.records.iter().map(|r| (r.event_id.clone(), r.json.clone())).collect();
    served.sort();
    served
}

fn shared_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data")
}

#[test]
fn generated_archive_serves_the_same_records() {
    let dir = tempfile::tempdir().unwrap();
    let opts = trailscope_gen::GenOptions { events: 3000, per_file: 100, ..Default::default() };
    let summary = trailscope_gen::generate(&opts, dir.path()).unwrap();
    assert!(summary.digest_files > 0, "the archive has digest files to pass over");
    let served = through_double(dir.path());
    assert_eq!(served.len(), 3000);
    assert_eq!(served, through_loader(dir.path()));
}

#[test]
fn real_records_serve_the_same_records() {
    let data = shared_data();
    assert!(data.join("stratus-red-team").is_dir(), "real test data in {}", data.display());
    let stratus = through_double(&data.join("stratus-red-team"));
    assert_eq!(stratus.len(), 310);
    assert_eq!(stratus, through_loader(&data.join("stratus-red-team")));
    let panther = data.join("panther/cloudtrail-test-records.jsonl");
    let (archive, report) = Archive::load(&panther).unwrap();
    // 438 lines: 35 without an eventID are not served; exact copies are served once.
    assert!(report.skipped >= 35, "{report:?}");
    assert!(report.duplicates > 0, "{report:?}");
    assert_eq!(archive.records.len() + report.skipped + report.duplicates, 438);
    assert_eq!(through_double(&panther), through_loader(&panther));
    // The whole folder, README.md included (not JSON: a problem, not a failure).
    let (_, report) = Archive::load(&data).unwrap();
    assert!(report.problems.iter().any(|p| p.contains("README.md")), "{report:?}");
    assert_eq!(through_double(&data), through_loader(&data));
}
