//! Which AWS profiles are defined: the section names of the shared config and credentials
//! files, found where the SDK looks for them (`AWS_CONFIG_FILE`, else `~/.aws/config`;
//! `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`). Only the names: what a profile
//! holds is the SDK's to read.

use std::path::PathBuf;

/// The profiles defined in the two files, sorted; `None` when a file exists but cannot be
/// read (the SDK explains that better, when it reads it).
pub(super) fn defined_profiles() -> Option<Vec<String>> {
    let mut names = Vec::new();
    for (var, default, config) in
        [("AWS_CONFIG_FILE", ".aws/config", true), ("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials", false)]
    {
        let Some(path) = file_path(var, default) else { continue };
        match std::fs::read(&path) {
            Ok(bytes) => names.extend(section_profiles(&String::from_utf8_lossy(&bytes), config)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(_) => return None,
        }
    }
    names.sort_unstable();
    names.dedup();
    Some(names)
}

/// Where a file is: the variable's value (a leading `~/` is the home directory), else the
/// default under the home directory.
fn file_path(var: &str, default: &str) -> Option<PathBuf> {
    let home = || std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
    match std::env::var(var).ok().filter(|v| !v.is_empty()) {
        Some(v) => match v.strip_prefix("~/") {
            Some(rest) => home().map(|h| h.join(rest)),
            None => Some(PathBuf::from(v)),
        },
        None => home().map(|h| h.join(default)),
    }
}

/// The profile names of a file's `[section]` headers. In the config file a profile is
/// `[default]` or `[profile NAME]` (other sections, such as `[sso-session NAME]`, are not
/// profiles); in the credentials file every section is one.
fn section_profiles(text: &str, config: bool) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            let inner = line.strip_prefix('[')?;
            let inner = inner[..inner.find(']')?].trim();
            if !config || inner == "default" {
                return Some(inner.to_string());
            }
            let rest = inner.strip_prefix("profile")?;
            rest.starts_with([' ', '\t']).then(|| rest.trim().to_string())
        })
        .filter(|name| !name.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_the_sections_the_sdk_reads_as_profiles() {
        let config = "# comment\n[profile prod]\nregion = us-east-1\n[default]\n[sso-session corp]\n\
                      [ profile  dev ]\n[profilex]\n[services s]\n";
        assert_eq!(section_profiles(config, true), ["prod", "default", "dev"]);
        assert_eq!(section_profiles("[default]\naws_access_key_id = x\n[ci]\n", false), ["default", "ci"]);
        assert!(section_profiles("region = x\n[]\n", true).is_empty());
    }
}
