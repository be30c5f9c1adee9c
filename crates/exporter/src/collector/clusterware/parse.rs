//! Pure parsers for what Oracle Clusterware's tools print, tested on their documented output
//! (Oracle Clusterware Administration Guide 11.2/12.1 `crsctl` reference; CRS message codes
//! from the Oracle Database Error Messages "CRS-" chapter; Checkmk's `mk_oracle_crs` plugin
//! parses the same formats).

/// A stack component's state from `crsctl check crs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// `ohas`, `crs`, `css` or `evm`.
    pub name: &'static str,
    /// Whether the tool said it is online.
    pub up: bool,
}

/// CRS codes of `crsctl check crs` (11.2+): online / cannot be reached, per component.
const CHECK_CODES: [(&str, &str, bool); 8] = [
    ("CRS-4638", "ohas", true),
    ("CRS-4639", "ohas", false),
    ("CRS-4537", "crs", true),
    ("CRS-4535", "crs", false),
    ("CRS-4529", "css", true),
    ("CRS-4530", "css", false),
    ("CRS-4533", "evm", true),
    ("CRS-4534", "evm", false),
];

/// `crsctl check crs`. 11.2+ prints one CRS code per component; 10g prints "CSS appears
/// healthy" or "Failure ... contacting Cluster Synchronization Services daemon" and the like.
pub fn check_crs(text: &str) -> Result<Vec<Component>, String> {
    let mut out: Vec<Component> = Vec::new();
    let mut set = |name: &'static str, up: bool| match out.iter_mut().find(|c| c.name == name) {
        Some(c) => c.up = up,
        None => out.push(Component { name, up }),
    };
    for line in text.lines() {
        if let Some((_, name, up)) = CHECK_CODES.iter().find(|(code, ..)| line.contains(code)) {
            set(name, *up);
            continue;
        }
        // 10g wording.
        let name = if line.contains("CSS") || line.contains("Cluster Synchronization Services") {
            "css"
        } else if line.contains("CRS") || line.contains("Cluster Ready Services") {
            "crs"
        } else if line.contains("EVM") || line.contains("Event Manager") {
            "evm"
        } else {
            continue;
        };
        if line.contains("appears healthy") {
            set(name, true);
        } else if line.contains("Failure") || line.contains("Cannot communicate") {
            set(name, false);
        }
    }
    if out.is_empty() {
        return Err(format!("no CRS-4xxx code or component state in {:?}", first_line(text)));
    }
    Ok(out)
}

/// One resource instance from `crsctl stat res -v`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resource {
    /// `NAME=`, e.g. `ora.LISTENER.lsnr`.
    pub name: String,
    /// `TYPE=`, e.g. `ora.listener.type`.
    pub kind: String,
    /// The server the instance runs on (`STATE=ONLINE on rac1`), else `LAST_SERVER=`.
    pub server: String,
    /// `ONLINE`, `OFFLINE`, `INTERMEDIATE`, `UNKNOWN`.
    pub state: String,
    /// `ONLINE` or `OFFLINE`.
    pub target: String,
    /// `RESTART_COUNT=`, restarts by the agent since the count was last reset.
    pub restart_count: Option<u64>,
    /// `FAILURE_COUNT=`, failures within the failure interval.
    pub failure_count: Option<u64>,
}

/// `crsctl stat res -v` (11.2+) or `crs_stat -f` (10g): `KEY=value` lines in blocks separated
/// by blank lines. A block with `NAME=` starts a resource; further blocks without it are more
/// instances of the same resource (a multi-instance resource lists one block per server).
pub fn stat_res(text: &str) -> Result<Vec<Resource>, String> {
    let mut out = Vec::new();
    let (mut name, mut kind) = (String::new(), String::new());
    for block in text.split("\n\n").map(str::trim).filter(|b| !b.is_empty()) {
        let mut r = Resource::default();
        let mut last_server = String::new();
        let mut has_state = false;
        for line in block.lines() {
            let Some((k, v)) = line.trim().split_once('=') else {
                return Err(format!("expected KEY=value, got {:?}", line.trim()));
            };
            let v = v.trim();
            match k {
                "NAME" => {
                    name = v.to_string();
                    kind.clear();
                }
                "TYPE" => kind = v.to_string(),
                "LAST_SERVER" => last_server = v.to_string(),
                "STATE" => {
                    has_state = true;
                    let (state, on) = v.split_once(" on ").unwrap_or((v, ""));
                    r.state = state.trim().to_string();
                    r.server = on.trim().to_string();
                }
                "TARGET" => r.target = v.to_string(),
                "RESTART_COUNT" => r.restart_count = v.parse().ok(),
                "FAILURE_COUNT" => r.failure_count = v.parse().ok(),
                _ => {}
            }
        }
        if !has_state {
            continue;
        }
        if name.is_empty() {
            return Err("a STATE= block before any NAME=".into());
        }
        if r.server.is_empty() {
            r.server = last_server;
        }
        r.name = name.clone();
        r.kind = kind.clone();
        out.push(r);
    }
    if out.is_empty() && !text.trim().is_empty() {
        return Err(format!("no NAME=/STATE= blocks in {:?}", first_line(text)));
    }
    Ok(out)
}

/// One voting disk from `crsctl query css votedisk`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteDisk {
    /// The device or file, e.g. `/dev/oracleasm/disks/OCR1`.
    pub path: String,
    /// The ASM disk group (11.2+ on ASM), else empty.
    pub diskgroup: String,
    /// Whether it is `ONLINE`.
    pub online: bool,
}

/// `crsctl query css votedisk`: 11.2+ rows ` 1. ONLINE   <guid> (<path>) [<dg>]`, ended by
/// `Located N voting disk(s).`; 10g rows ` 0.     0    /dev/raw/raw2`, ended by
/// `located N votedisk(s).` (10g has no state: a listed disk is in use).
pub fn votedisks(text: &str) -> Result<(Vec<VoteDisk>, usize), String> {
    let mut disks = Vec::new();
    let mut located = None;
    for line in text.lines().map(str::trim) {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("located ") {
            located = lower.split_whitespace().nth(1).and_then(|n| n.parse::<usize>().ok());
            continue;
        }
        let Some((num, rest)) = line.split_once(". ") else { continue };
        if num.is_empty() || !num.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let rest = rest.trim();
        // `(path)` in that order; a `)` before the `(` is not a path (and must not panic).
        if let (Some(open), Some(close)) = (rest.find('('), rest.rfind(')'))
            && open < close
        {
            let state = rest.split_whitespace().next().unwrap_or("");
            let diskgroup = rest[close..]
                .split_once('[')
                .and_then(|(_, d)| d.split_once(']'))
                .map_or("", |(d, _)| d);
            disks.push(VoteDisk {
                path: rest[open + 1..close].to_string(),
                diskgroup: diskgroup.to_string(),
                online: state == "ONLINE",
            });
        } else if let Some(path) = rest.split_whitespace().last().filter(|p| p.starts_with('/')) {
            disks.push(VoteDisk { path: path.to_string(), diskgroup: String::new(), online: true });
        }
    }
    let Some(located) = located else {
        return Err(format!("no \"Located N voting disk(s)\" line in {:?}", first_line(text)));
    };
    Ok((disks, located))
}

/// `olsnodes -s`: `<node> Active|Inactive` per line.
pub fn olsnodes(text: &str) -> Result<Vec<(String, bool)>, String> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let mut words = line.split_whitespace();
        let (Some(node), Some(status)) = (words.next(), words.last()) else {
            return Err(format!("expected \"<node> Active|Inactive\", got {line:?}"));
        };
        // With -n the node number sits between: `rac1 1 Active`; -t adds Pinned/Unpinned.
        let status = if status == "Pinned" || status == "Unpinned" {
            line.split_whitespace().rev().nth(1).unwrap_or(status)
        } else {
            status
        };
        match status {
            "Active" => out.push((node.to_string(), true)),
            "Inactive" => out.push((node.to_string(), false)),
            _ => return Err(format!("expected \"<node> Active|Inactive\", got {line:?}")),
        }
    }
    Ok(out)
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

#[cfg(test)]
mod tests;
