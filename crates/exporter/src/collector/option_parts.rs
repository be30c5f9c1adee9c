//! What collector options are made of: [`Filter`] (node_exporter's include/exclude pairs),
//! [`Origin`] (a flag's value over a YAML key's, and errors that name the one given), and the
//! macros that declare a collector's YAML keys ([`yaml_keys!`]) and one-pattern options
//! ([`regex_option!`]). Collectors use these to declare their own options; `options` lists them.

use std::path::Path;

use obwatch_common::config::ConfigError;
use regex::Regex;
use serde::de::MapAccess;

/// An include/exclude pair of anchored regexes, as node_exporter's `*-include`/`*-exclude`
/// flags (mutually exclusive per collector; checked at config time).
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// When set, only names matching it pass.
    pub include: Option<Regex>,
    /// When set, names matching it are dropped.
    pub exclude: Option<Regex>,
}

impl Filter {
    /// An exclude-only filter from a pattern known to be valid.
    pub fn exclude(pattern: &str) -> Self {
        Filter { include: None, exclude: Some(built_in(pattern)) }
    }

    /// True when `name` should be reported.
    pub fn allows(&self, name: &str) -> bool {
        self.include.as_ref().is_none_or(|r| r.is_match(name))
            && self.exclude.as_ref().is_none_or(|r| !r.is_match(name))
    }

    /// node_exporter's `FLAG-include`/`FLAG-exclude` pair over the YAML `KEY: {include,
    /// exclude}`, `default` when neither is given; include and exclude are mutually exclusive.
    pub(crate) fn compile(
        default: Filter,
        at: &Origin,
        (flag, flags): (&'static str, [Option<String>; 2]),
        (key, yaml): (&'static str, Option<IncludeExclude>),
    ) -> Result<Filter, ConfigError> {
        let [flag_include, flag_exclude] = flags;
        let yaml = yaml.unwrap_or_default();
        let side = |part: &str, flag_value, yaml_value| {
            at.pick(
                (format!("{flag}-{part}"), flag_value),
                (format!("collectors.{key}.{part}"), yaml_value),
            )
        };
        let include = side("include", flag_include, yaml.include);
        let exclude = side("exclude", flag_exclude, yaml.exclude);
        match (include, exclude) {
            (Some(_), Some(_)) => Err(ConfigError::invalid(
                at.file,
                format!("collectors.{key}"),
                format!("include and exclude are mutually exclusive ({flag}-include/-exclude)"),
            )),
            (Some(re), None) => Ok(Filter { include: Some(re.regex()?), exclude: None }),
            (None, Some(re)) => Ok(Filter { include: None, exclude: Some(re.regex()?) }),
            (None, None) => Ok(default),
        }
    }
}

/// A regex known to be valid (a default in the source).
pub(crate) fn built_in(pattern: &str) -> Regex {
    Regex::new(pattern).expect("built-in pattern")
}

/// A filter's YAML form: `{include: RE}` or `{exclude: RE}`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IncludeExclude {
    include: Option<String>,
    exclude: Option<String>,
}

/// Where the collectors' settings come from: the flags (errors say "command line" and name
/// the flag) and the YAML file (errors name the file and the key; relative paths in it are
/// relative to `base`, the file's directory).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Origin<'a> {
    /// The YAML file, or "command line" without one.
    pub(crate) file: &'a Path,
    /// The directory relative paths in the file are relative to.
    pub(crate) base: &'a Path,
}

/// One option's value and where it came from.
#[derive(Debug)]
pub(crate) struct Given<'a, T> {
    /// The value.
    pub(crate) value: T,
    /// "command line" or the YAML file.
    pub(crate) path: &'a Path,
    /// The flag or the YAML key.
    pub(crate) field: String,
}

impl<'a> Origin<'a> {
    /// The flag's value, which wins, or else the YAML key's; `None` when neither is given.
    pub(crate) fn pick<T>(
        &self,
        (flag, flag_value): (impl Into<String>, Option<T>),
        (key, yaml_value): (impl Into<String>, Option<T>),
    ) -> Option<Given<'a, T>> {
        match (flag_value, yaml_value) {
            (Some(value), _) => {
                Some(Given { value, path: Path::new("command line"), field: flag.into() })
            }
            (None, Some(value)) => Some(Given { value, path: self.file, field: key.into() }),
            (None, None) => None,
        }
    }

    /// A regex option: the flag's pattern, or else the key's, or else `default`.
    pub(crate) fn regex(
        &self,
        flag: (&'static str, Option<String>),
        key: (&'static str, Option<String>),
        default: &str,
    ) -> Result<Regex, ConfigError> {
        self.pick(flag, key).map_or_else(|| Ok(built_in(default)), |g| g.regex())
    }
}

impl<T> Given<'_, T> {
    /// An error about this value.
    pub(crate) fn invalid(&self, message: impl Into<String>) -> ConfigError {
        ConfigError::invalid(self.path, self.field.as_str(), message)
    }
}

impl Given<'_, String> {
    /// The value as a regular expression.
    pub(crate) fn regex(&self) -> Result<Regex, ConfigError> {
        Regex::new(&self.value)
            .map_err(|e| self.invalid(format!("expected a regular expression: {e}")))
    }
}

/// A collector's keys of the YAML `collectors:` section, which is flat
/// (`filesystem_mount_timeout`, `timer_tick`, ...): the section's reader hands each key to the
/// collector that owns it, so errors keep the file's line and column and unknown keys still
/// fail. Declared with [`yaml_keys!`].
pub(crate) trait CollectorKeys {
    /// The keys it owns.
    const KEYS: &'static [&'static str];
    /// Reads the value of `key` from `map` when it is one of [`Self::KEYS`]; false otherwise.
    fn read_key<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
    ) -> Result<bool, A::Error>;
}

/// Declares a collector's [`CollectorKeys`]: a struct of one `Option` per key (a key given
/// twice is an error).
macro_rules! yaml_keys {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $key:ident: $ty:ty,)* }) => {
        $(#[$m])*
        #[derive(Debug, Default)]
        pub(crate) struct $name { $($(#[$fm])* pub(crate) $key: Option<$ty>,)* }

        impl $crate::collector::option_parts::CollectorKeys for $name {
            const KEYS: &'static [&'static str] = &[$(stringify!($key)),*];
            fn read_key<'de, A: serde::de::MapAccess<'de>>(
                &mut self,
                key: &str,
                map: &mut A,
            ) -> Result<bool, A::Error> {
                $(if key == stringify!($key) {
                    if self.$key.is_some() {
                        return Err(serde::de::Error::duplicate_field(stringify!($key)));
                    }
                    self.$key = Some(map.next_value()?);
                    return Ok(true);
                })*
                Ok(false)
            }
        }
    };
}
pub(crate) use yaml_keys;

/// Declares the options of a collector whose one option is a regular expression (netclass,
/// netstat, vmstat): `Options { pattern }` with the default `$default`, the flag `--$flag`
/// (documented by the doc comment given) over the key `collectors.$key`, and `compile`.
macro_rules! regex_option {
    ($(#[$doc:meta])* flag: $flag:literal, key: $key:ident, default: $default:expr $(,)?) => {
        /// The collector's options: one pattern.
        #[derive(Clone, Debug)]
        pub struct Options {
            /// The compiled pattern.
            pub pattern: regex::Regex,
        }

        impl Default for Options {
            fn default() -> Self {
                Options { pattern: $crate::collector::option_parts::built_in($default) }
            }
        }

        /// Its flag.
        #[derive(Debug, Default, clap::Args)]
        #[group(skip)]
        pub(crate) struct Flags {
            $(#[$doc])*
            #[arg(long = $flag, value_name = "RE")]
            $key: Option<String>,
        }

        $crate::collector::option_parts::yaml_keys! {
            /// Its key of the YAML `collectors:` section.
            Yaml { $key: String, }
        }

        /// Its options from the flag over the YAML key.
        pub(crate) fn compile(
            flags: Flags,
            yaml: Yaml,
            at: &$crate::collector::option_parts::Origin,
        ) -> Result<Options, obwatch_common::config::ConfigError> {
            let flag = (concat!("--", $flag), flags.$key);
            let key = (concat!("collectors.", stringify!($key)), yaml.$key);
            Ok(Options { pattern: at.regex(flag, key, $default)? })
        }
    };
}
pub(crate) use regex_option;
