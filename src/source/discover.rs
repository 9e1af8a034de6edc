//! Finding the inputs: files named, directories searched recursively, streams last.

use super::Problem;
use crate::model::raw::{io_reason, SourceFile, Stream};
use std::path::{Path, PathBuf};

/// Finds the files named by `inputs` (files, directories searched recursively, `-` for
/// standard input). Problems are reported, never fatal.
pub fn discover(inputs: &[String], problems: &mut Vec<Problem>) -> Vec<SourceFile> {
    let mut out = Vec::new();
    discover_into(inputs, &mut |found| match found {
        Found::File(f) => out.push(f),
        Found::Problem(p) => problems.push(p),
    });
    out
}

/// What discovery finds, in order: a file (numbered in the order found), or a problem.
pub enum Found {
    /// An input, numbered in the order found.
    File(SourceFile),
    /// An input that cannot be read (it does not exist, a directory cannot be listed…).
    Problem(Problem),
}

/// [`discover`], handing each input to `sink` as soon as it is found, so that reading can
/// start before a large tree has been searched. Streams (pipes, standard input) come last,
/// so that a slow pipe does not hold back the files.
pub fn discover_into(inputs: &[String], sink: &mut dyn FnMut(Found)) {
    let mut seen_dirs = std::collections::HashSet::new();
    let mut next_id = 0u32;
    let mut numbered = |found: Found| match found {
        Found::File(mut f) => {
            f.id = next_id;
            next_id += 1;
            sink(Found::File(f));
        }
        problem => sink(problem),
    };
    let mut streams = Vec::new();
    for input in inputs {
        if input == "-" {
            streams.push(SourceFile::stream(0, PathBuf::from("-"), Stream::Stdin));
            continue;
        }
        let path = PathBuf::from(input);
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => walk(&path, &mut numbered, &mut seen_dirs),
            Ok(m) if m.is_file() => numbered(Found::File(SourceFile::on_disk(0, path, &m))),
            // A pipe or a device named explicitly: `trailscope <(zcat ...)` is a FIFO. It is
            // read by a worker like any file, so it does not hold up the others.
            Ok(_) => streams.push(SourceFile::stream(0, path, Stream::Pipe)),
            Err(e) => numbered(Found::Problem(Problem {
                input: crate::sanitize::sanitize(input).into_owned(),
                reason: io_reason(&e),
                skipped: true,
            })),
        }
    }
    for f in streams {
        numbered(Found::File(f));
    }
}

fn walk(dir: &Path, sink: &mut dyn FnMut(Found), seen: &mut std::collections::HashSet<(u64, u64)>) {
    let display = || crate::sanitize::sanitize(&dir.to_string_lossy()).into_owned();
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(m) = std::fs::metadata(dir) {
            if !seen.insert((m.dev(), m.ino())) {
                sink(Found::Problem(Problem {
                    input: display(),
                    reason: "directory already visited (a symlink loop?); not read again".into(),
                    skipped: false,
                }));
                return;
            }
        }
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            sink(Found::Problem(Problem { input: display(), reason: io_reason(&e), skipped: true }));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let name = || crate::sanitize::sanitize(&p.to_string_lossy()).into_owned();
        match std::fs::metadata(&p) {
            Ok(m) if m.is_dir() => walk(&p, sink, seen),
            Ok(m) if m.is_file() => sink(Found::File(SourceFile::on_disk(0, p, &m))),
            Ok(_) => sink(Found::Problem(Problem {
                input: name(),
                reason: "not a regular file (FIFO, socket or device); skipped inside a directory".into(),
                skipped: true,
            })),
            Err(e) => sink(Found::Problem(Problem { input: name(), reason: io_reason(&e), skipped: true })),
        }
    }
}
