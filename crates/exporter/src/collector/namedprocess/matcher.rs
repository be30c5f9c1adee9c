//! Which group a process belongs to: the `collectors.process_names` YAML entries (the format
//! of process-exporter's `process_names`, see its README "Using a config file"), compiled once,
//! and the built-in set for OceanBase, OBProxy and Oracle Clusterware/RAC.

use regex::Regex;
use serde::Deserialize;

/// One `process_names` entry as written in YAML. Every matcher kind given must match (AND);
/// within `comm` and `exe` any listed name matches (OR); every `cmdline` regex must match.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameConfig {
    /// Group name template: text with `{{.Comm}}`, `{{.ExeBase}}`, `{{.ExeFull}}` and
    /// `{{.Matches.NAME}}` (a named capture of a `cmdline` regex).
    pub name: String,
    /// Exact `comm` values (/proc/PID/stat). A name longer than 15 bytes is compared on its
    /// first 15, as the kernel truncates comm (TASK_COMM_LEN is 16 with the NUL).
    #[serde(default)]
    pub comm: Vec<String>,
    /// argv\[0\]: a name without `/` is compared with its basename, a path with all of it.
    /// Processes with an empty cmdline (kernel threads) use comm instead.
    #[serde(default)]
    pub exe: Vec<String>,
    /// Regexes (unanchored) matched against the arguments joined by spaces.
    #[serde(default)]
    pub cmdline: Vec<String>,
}

/// What is known about a process when it is classified.
#[derive(Clone, Copy, Debug)]
pub struct ProcView<'a> {
    /// comm from /proc/PID/stat.
    pub comm: &'a str,
    /// argv\[0\], or comm when the cmdline is empty.
    pub exe_full: &'a str,
    /// The basename of `exe_full`.
    pub exe_base: &'a str,
    /// The arguments joined by spaces.
    pub cmdline: &'a str,
}

#[derive(Clone, Debug)]
enum Segment {
    Text(String),
    Comm,
    ExeBase,
    ExeFull,
    /// (index of the cmdline regex that has the group, group name)
    Capture(usize, String),
}

/// A compiled `process_names` entry.
#[derive(Clone, Debug)]
pub struct NameMatcher {
    name: Vec<Segment>,
    comm: Vec<String>,
    exe: Vec<String>,
    cmdline: Vec<Regex>,
    captures: bool,
}

/// A bad entry: the field (relative to the entry, e.g. `cmdline[1]`) and what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{field}: {message}")]
pub struct CompileError {
    /// Field within the entry.
    pub field: String,
    /// What was expected.
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> CompileError {
    CompileError { field: field.into(), message: message.into() }
}

impl NameMatcher {
    /// Compiles an entry: regexes, the name template, and that it has at least one matcher.
    pub fn compile(c: &NameConfig) -> Result<Self, CompileError> {
        if c.comm.is_empty() && c.exe.is_empty() && c.cmdline.is_empty() {
            return Err(err("name", "an entry needs at least one of comm, exe, cmdline"));
        }
        let mut cmdline = Vec::with_capacity(c.cmdline.len());
        for (i, re) in c.cmdline.iter().enumerate() {
            cmdline.push(Regex::new(re).map_err(|e| {
                err(format!("cmdline[{i}]"), format!("expected a regular expression: {e}"))
            })?);
        }
        let name = template(&c.name, &cmdline).map_err(|m| err("name", m))?;
        let captures = name.iter().any(|s| matches!(s, Segment::Capture(..)));
        let comm = c.comm.iter().map(|s| truncate_comm(s).to_string()).collect();
        Ok(NameMatcher { name, comm, exe: c.exe.clone(), cmdline, captures })
    }

    /// When `p` matches, writes its group name to `out` (cleared first) and returns true.
    /// A name that renders empty (an optional capture that did not participate) is no match.
    pub fn group_name(&self, p: &ProcView, out: &mut String) -> bool {
        out.clear();
        if !self.comm.is_empty() && !self.comm.iter().any(|c| c == p.comm) {
            return false;
        }
        let exe_ok = |e: &String| if e.contains('/') { e == p.exe_full } else { e == p.exe_base };
        if !self.exe.is_empty() && !self.exe.iter().any(exe_ok) {
            return false;
        }
        if !self.cmdline.iter().all(|r| r.is_match(p.cmdline)) {
            return false;
        }
        let caps: Vec<_> = if self.captures {
            self.cmdline.iter().map(|r| r.captures(p.cmdline)).collect()
        } else {
            Vec::new()
        };
        for seg in &self.name {
            match seg {
                Segment::Text(t) => out.push_str(t),
                Segment::Comm => out.push_str(p.comm),
                Segment::ExeBase => out.push_str(p.exe_base),
                Segment::ExeFull => out.push_str(p.exe_full),
                Segment::Capture(i, g) => {
                    if let Some(m) = caps.get(*i).and_then(|c| c.as_ref()?.name(g)) {
                        out.push_str(m.as_str());
                    }
                }
            }
        }
        !out.is_empty()
    }
}

fn truncate_comm(s: &str) -> &str {
    let mut end = s.len().min(15);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn template(text: &str, cmdline: &[Regex]) -> Result<Vec<Segment>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            out.push(Segment::Text(rest[..start].to_string()));
        }
        let end = rest[start..].find("}}").ok_or_else(|| format!("unclosed `{{{{` in {text:?}"))?;
        let field = rest[start + 2..start + end].trim();
        out.push(match field {
            ".Comm" => Segment::Comm,
            ".ExeBase" => Segment::ExeBase,
            ".ExeFull" => Segment::ExeFull,
            f => {
                let g = f.strip_prefix(".Matches.").ok_or_else(|| {
                    format!(
                        "unknown template field {{{{{f}}}}}; expected .Comm, .ExeBase, .ExeFull \
                         or .Matches.NAME"
                    )
                })?;
                let i = cmdline
                    .iter()
                    .position(|r| r.capture_names().flatten().any(|n| n == g))
                    .ok_or_else(|| format!("no cmdline regex has a capture group named {g:?}"))?;
                Segment::Capture(i, g.to_string())
            }
        });
        rest = &rest[start + end + 2..];
    }
    if !rest.is_empty() {
        out.push(Segment::Text(rest.to_string()));
    }
    if out.is_empty() {
        return Err("expected a non-empty name".into());
    }
    Ok(out)
}

/// Clusterware daemons of 10g/11.1 and 11gR2+ (Grid Infrastructure), grouped by argv\[0\]'s
/// basename; see `../shared/reference/node-exporter-and-clusterware.md` B.1.
const CLUSTERWARE: &[&str] = &[
    // 10g / 11.1
    "ocssd.bin",
    "crsd.bin",
    "evmd.bin",
    "oprocd",
    "oprocd.bin",
    "oclsomon",
    "oclsomon.bin",
    // 11gR2+
    "ohasd.bin",
    "cssdagent",
    "cssdmonitor",
    "orarootagent.bin",
    "oraagent.bin",
    "mdnsd.bin",
    "gpnpd.bin",
    "gipcd.bin",
    "octssd.bin",
    "osysmond.bin",
    "ologgerd",
    "diskmon.bin",
    "tnslsnr",
];

/// The built-in set, tried after the user's entries. RAC/ASM background processes name
/// themselves `ora_<kind><n>_<SID>` (argv is overwritten; comm may be cut at 15 bytes), and
/// are grouped per kind and instance: all `ora_lms0_ORCL1`, `ora_lms1_ORCL1`, ... form
/// `ora_lms_ORCL1`, so both "an LMS died" and "LMS is spinning" show per instance.
pub fn builtin() -> Vec<NameConfig> {
    let entry = |name: &str, exe: &[&str], cmdline: &[&str]| NameConfig {
        name: name.into(),
        comm: Vec::new(),
        exe: exe.iter().map(|s| s.to_string()).collect(),
        cmdline: cmdline.iter().map(|s| s.to_string()).collect(),
    };
    vec![
        entry("{{.ExeBase}}", &["observer", "obproxy"], &[]),
        // obproxyd is a shell script: `obproxyd.sh`, or `bash ./obproxyd.sh -c daemon ...`.
        entry(
            "obproxyd",
            &[],
            &[r"^(\S*/)?(obproxyd(\.sh)?|(ba)?sh( -\S+)* (\S*/)?obproxyd\.sh)( |$)"],
        ),
        entry("{{.ExeBase}}", CLUSTERWARE, &[]),
        entry(
            "ora_{{.Matches.kind}}_{{.Matches.sid}}",
            &[],
            &[r"^ora_(?P<kind>lmon|lmd|lms|lck|diag)[0-9a-z]?_(?P<sid>\S+)"],
        ),
        // Every ASM background process (pmon, rbal, gmon, dbw0, ...): an ASM instance is small
        // and each of them matters to the disk groups the databases sit on. The kind drops
        // its trailing number, as for the RAC processes above (dbw0 and dbw1 form dbw).
        entry(
            "asm_{{.Matches.kind}}_{{.Matches.sid}}",
            &[],
            &[r"^asm_(?P<kind>[a-z]+?)[0-9]*_(?P<sid>\+ASM[0-9]*)(?:\s|$)"],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view<'a>(comm: &'a str, exe_full: &'a str, cmdline: &'a str) -> ProcView<'a> {
        let exe_base = exe_full.rsplit('/').next().unwrap();
        ProcView { comm, exe_full, exe_base, cmdline }
    }

    fn classify(ms: &[NameMatcher], p: ProcView) -> Option<String> {
        let mut s = String::new();
        ms.iter().any(|m| m.group_name(&p, &mut s)).then_some(s)
    }

    #[test]
    fn builtin_set_groups_database_daemons() {
        let ms: Vec<_> = builtin().iter().map(|c| NameMatcher::compile(c).unwrap()).collect();
        let g = |comm: &str, exe: &str, cmd: &str| classify(&ms, view(comm, exe, cmd));
        let grid = "/u01/app/19.0.0/grid/bin/";
        assert_eq!(
            g("orarootagent.bi", &format!("{grid}orarootagent.bin"), "").unwrap(),
            "orarootagent.bin"
        );
        assert_eq!(g("ocssd.bin", &format!("{grid}ocssd.bin"), "").unwrap(), "ocssd.bin");
        assert_eq!(
            g("tnslsnr", &format!("{grid}tnslsnr"), "x LISTENER -inherit").unwrap(),
            "tnslsnr"
        );
        assert_eq!(g("observer", "/home/admin/oceanbase/bin/observer", "").unwrap(), "observer");
        assert_eq!(
            g("bash", "/bin/bash", "/bin/bash ./obproxyd.sh -c daemon").unwrap(),
            "obproxyd"
        );
        assert_eq!(
            g("obproxyd.sh", "./obproxyd.sh", "./obproxyd.sh -c daemon").unwrap(),
            "obproxyd"
        );
        assert_eq!(g("grep", "grep", "grep obproxyd"), None);
        assert_eq!(g("vim", "vim", "vim obproxyd.sh"), None);
        assert_eq!(
            g("ora_lms1_orcl1", "ora_lms1_ORCL1", "ora_lms1_ORCL1").unwrap(),
            "ora_lms_ORCL1"
        );
        assert_eq!(
            g("ora_lmon_orcl1", "ora_lmon_ORCL1", "ora_lmon_ORCL1").unwrap(),
            "ora_lmon_ORCL1"
        );
        assert_eq!(
            g("asm_lmd0_+asm1", "asm_lmd0_+ASM1", "asm_lmd0_+ASM1").unwrap(),
            "asm_lmd_+ASM1"
        );
        assert_eq!(
            g("asm_pmon_+asm1", "asm_pmon_+ASM1", "asm_pmon_+ASM1").unwrap(),
            "asm_pmon_+ASM1"
        );
        assert_eq!(
            g("asm_dbw0_+asm2", "asm_dbw0_+ASM2", "asm_dbw0_+ASM2").unwrap(),
            "asm_dbw_+ASM2"
        );
        assert_eq!(g("asm_rbal_+asm", "asm_rbal_+ASM", "asm_rbal_+ASM").unwrap(), "asm_rbal_+ASM");
        assert_eq!(g("asm_x_notasm", "asm_x_NOTASM", "asm_x_NOTASM"), None);
        assert_eq!(
            g("ora_diag_orcl2", "ora_diag_ORCL2", "ora_diag_ORCL2").unwrap(),
            "ora_diag_ORCL2"
        );
        assert_eq!(g("ora_pmon_orcl1", "ora_pmon_ORCL1", "ora_pmon_ORCL1"), None);
        assert_eq!(g("oracle", "oracleORCL1", "oracleORCL1 (LOCAL=NO)"), None);
        assert_eq!(g("sleep", "/bin/sleep", "/bin/sleep 5"), None);
    }

    #[test]
    fn process_exporter_entries() {
        let c: NameConfig = obwatch_common::config::parse_yaml(
            std::path::Path::new("e.yml"),
            "name: 'pg_{{.Matches.role}}'\ncomm: [postgres]\ncmdline: ['postgres: (?P<role>\\w+)']\n",
        )
        .unwrap();
        let m = NameMatcher::compile(&c).unwrap();
        let p = view("postgres", "postgres: checkpointer", "postgres: checkpointer");
        assert_eq!(classify(std::slice::from_ref(&m), p).unwrap(), "pg_checkpointer");
        assert_eq!(classify(&[m], view("postmaster", "postgres", "postgres: x")), None);
        // A long comm is compared on the 15 bytes the kernel keeps.
        let c = NameConfig {
            name: "{{.Comm}}".into(),
            comm: vec!["orarootagent.bin".into()],
            exe: vec![],
            cmdline: vec![],
        };
        let m = NameMatcher::compile(&c).unwrap();
        assert_eq!(classify(&[m], view("orarootagent.bi", "x", "")).unwrap(), "orarootagent.bi");
        // exe with a slash compares the whole argv[0].
        let c = NameConfig {
            name: "{{.ExeFull}}".into(),
            comm: vec![],
            exe: vec!["/opt/a/run".into()],
            cmdline: vec![],
        };
        let m = NameMatcher::compile(&c).unwrap();
        assert_eq!(
            classify(std::slice::from_ref(&m), view("run", "/opt/a/run", "")).unwrap(),
            "/opt/a/run"
        );
        assert_eq!(classify(&[m], view("run", "/opt/b/run", "")), None);
    }

    #[test]
    fn bad_entries_name_the_field() {
        let c = |name: &str, cmdline: &[&str]| NameConfig {
            name: name.into(),
            comm: vec![],
            exe: vec!["x".into()],
            cmdline: cmdline.iter().map(|s| s.to_string()).collect(),
        };
        let e = NameMatcher::compile(&c("x", &["ok", "("])).unwrap_err().to_string();
        assert!(e.starts_with("cmdline[1]: expected a regular expression"), "{e}");
        let e = NameMatcher::compile(&c("{{.Pid}}", &[])).unwrap_err().to_string();
        assert!(e.contains("unknown template field {{.Pid}}"), "{e}");
        let e = NameMatcher::compile(&c("{{.Matches.x}}", &["(?P<y>a)"])).unwrap_err().to_string();
        assert!(e.contains("capture group named \"x\""), "{e}");
        let e = NameMatcher::compile(&c("a{{.Comm", &[])).unwrap_err().to_string();
        assert!(e.contains("unclosed"), "{e}");
        let none = NameConfig { name: "x".into(), comm: vec![], exe: vec![], cmdline: vec![] };
        assert!(NameMatcher::compile(&none).unwrap_err().to_string().contains("at least one"));
    }
}
