//! The YAML file (`--config.file`): every key optional, unknown keys are errors (with the
//! file, line and column), relative paths relative to the file.

use std::fmt;
use std::path::PathBuf;
use std::sync::OnceLock;

use obwatch_common::config::HumanDuration;
use obwatch_common::logging::{LogFormat, LogLevel};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::collector::options::YamlKeys;
use crate::collector::{clusterware, obproxy, oceanbase};

/// The YAML file: every key optional, unknown keys are errors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileConfig {
    #[serde(default)]
    pub(super) web: WebSection,
    #[serde(default)]
    pub(super) paths: PathsSection,
    pub(super) scrape_timeout: Option<HumanDuration>,
    #[serde(default)]
    pub(super) log: LogSection,
    #[serde(default)]
    pub(super) collectors: CollectorsSection,
    #[serde(default)]
    pub(super) oceanbase: oceanbase::options::Section,
    #[serde(default)]
    pub(super) clusterware: clusterware::Section,
    #[serde(default)]
    pub(super) obproxy: obproxy::Section,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WebSection {
    #[serde(default)]
    pub(super) listen_addresses: Vec<String>,
    pub(super) telemetry_path: Option<String>,
    pub(super) config_file: Option<PathBuf>,
    pub(super) max_requests: Option<usize>,
    pub(super) max_connections: Option<usize>,
    pub(super) read_header_timeout: Option<HumanDuration>,
    pub(super) idle_timeout: Option<HumanDuration>,
    #[serde(default)]
    pub(super) disable_exporter_metrics: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PathsSection {
    pub(super) procfs: Option<PathBuf>,
    pub(super) sysfs: Option<PathBuf>,
    pub(super) rootfs: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LogSection {
    pub(super) level: Option<LogLevel>,
    pub(super) format: Option<LogFormat>,
}

/// `collectors:`: the enabled set, and the keys of the collectors' options, each handed to
/// the collector that owns it ([`YamlKeys`]); an unknown key is an error with the file's line
/// and column, as everywhere else.
#[derive(Debug, Default)]
pub(super) struct CollectorsSection {
    pub(super) disable_defaults: bool,
    pub(super) enable: Vec<String>,
    pub(super) disable: Vec<String>,
    pub(super) keys: YamlKeys,
}

/// The section's own keys; the rest belong to collectors.
const OWN_KEYS: [&str; 3] = ["disable_defaults", "enable", "disable"];

impl<'de> Deserialize<'de> for CollectorsSection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(SectionVisitor)
    }
}

struct SectionVisitor;

impl<'de> Visitor<'de> for SectionVisitor {
    type Value = CollectorsSection;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of collector settings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut s = CollectorsSection::default();
        let mut seen = [false; OWN_KEYS.len()];
        while let Some(key) = map.next_key::<String>()? {
            if let Some(i) = OWN_KEYS.iter().position(|k| *k == key) {
                if std::mem::replace(&mut seen[i], true) {
                    return Err(de::Error::duplicate_field(OWN_KEYS[i]));
                }
                match i {
                    0 => s.disable_defaults = map.next_value()?,
                    1 => s.enable = map.next_value()?,
                    _ => s.disable = map.next_value()?,
                }
            } else if !s.keys.read_key(&key, &mut map)? {
                return Err(de::Error::unknown_field(&key, all_keys()));
            }
        }
        Ok(s)
    }
}

/// Every key `collectors:` accepts, for the "unknown field" message.
fn all_keys() -> &'static [&'static str] {
    static KEYS: OnceLock<Vec<&'static str>> = OnceLock::new();
    KEYS.get_or_init(|| [&OWN_KEYS[..], &YamlKeys::keys()].concat())
}
