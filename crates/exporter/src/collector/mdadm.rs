//! `node_md_*`: software RAID state from `/proc/mdstat` (format described in
//! Documentation/admin-guide/md.rst and printed by md_seq_show() in drivers/md/md.c).

use std::path::PathBuf;

use obwatch_common::metrics::{MetricSet, MetricType};

use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec, with_file};

/// Registry entry.
pub const SPEC: CollectorSpec = CollectorSpec { name: "mdadm", default_enabled: true, build };

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    Ok(Box::new(Mdadm { path: cx.root.proc("mdstat") }))
}

/// Reads `/proc/mdstat` once per scrape.
#[derive(Debug)]
pub struct Mdadm {
    path: PathBuf,
}

/// What an array is doing, as node_exporter's `node_md_state{state}` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Running, in sync.
    Active,
    /// Assembled but not started.
    Inactive,
    /// Rebuilding onto a replacement disk.
    Recovering,
    /// Resynchronising (also while the resync is DELAYED or PENDING).
    Resync,
    /// Running a data check (`echo check > md/sync_action`).
    Check,
}

const STATES: [(State, &str); 5] = [
    (State::Active, "active"),
    (State::Inactive, "inactive"),
    (State::Recovering, "recovering"),
    (State::Resync, "resync"),
    (State::Check, "check"),
];

/// One array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Md<'a> {
    /// `md0`.
    pub name: &'a str,
    /// Its state.
    pub state: State,
    /// Working member disks (`M` of `[N/M]`; all members for raid0/linear).
    pub disks_active: u64,
    /// Members the array needs (`N` of `[N/M]`).
    pub disks_required: u64,
    /// Members marked `(F)`.
    pub disks_failed: u64,
    /// Members marked `(S)`.
    pub disks_spare: u64,
    /// Size in 1 KiB blocks.
    pub blocks: u64,
    /// Blocks already synced: `blocks` unless a sync is running (0 while it is pending).
    pub blocks_synced: u64,
}

impl Collector for Mdadm {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        with_file(&self.path, |text| {
            let mds = parse(text)?;
            emit(&mds, out);
            Ok(())
        })
    }
}

/// A per-array family: name, help and the field it reports.
type Column = (&'static str, &'static str, fn(&Md<'_>) -> u64);

fn emit(mds: &[Md<'_>], out: &mut MetricSet) {
    let g = MetricType::Gauge;
    let f = out.family("node_md_state", "Indicates the state of md-device.", g);
    for md in mds {
        for (s, label) in STATES {
            f.sample(
                &[("device", md.name), ("state", label)],
                if md.state == s { 1.0 } else { 0.0 },
            );
        }
    }
    let f = out.family("node_md_disks", "Number of active/failed/spare disks of device.", g);
    for md in mds {
        f.sample(&[("device", md.name), ("state", "active")], md.disks_active as f64);
        f.sample(&[("device", md.name), ("state", "failed")], md.disks_failed as f64);
        f.sample(&[("device", md.name), ("state", "spare")], md.disks_spare as f64);
    }
    let per_md: [Column; 3] = [
        ("node_md_disks_required", "Total number of disks of device.", |m| m.disks_required),
        ("node_md_blocks", "Total number of blocks on device.", |m| m.blocks),
        ("node_md_blocks_synced", "Number of blocks synced on device.", |m| m.blocks_synced),
    ];
    for (name, help, get) in per_md {
        let f = out.family(name, help, g);
        for md in mds {
            f.sample(&[("device", md.name)], get(md) as f64);
        }
    }
}

/// Parses `/proc/mdstat`. Each array is a device line (`md0 : active raid1 sda1[0] sdb1[1]`)
/// followed by indented lines: the status line (`N blocks ... [2/2] [UU]`), optionally a
/// `bitmap:` line, then a progress line while a recovery/resync/check runs. Unlike
/// node_exporter 1.5, which fails the whole file on the kernel's tab-indented
/// `\tresync=DELAYED` line, every indented line is treated as a continuation.
pub fn parse(text: &str) -> Result<Vec<Md<'_>>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut mds = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty()
            || line.starts_with([' ', '\t'])
            || line.starts_with("Personalities")
            || line.starts_with("unused")
        {
            continue;
        }
        let fields: Vec<&str> = line.split_ascii_whitespace().collect();
        if fields.len() < 3 {
            return Err(format!("md line {line:?} has fewer than 3 fields"));
        }
        let name = fields[0];
        let status = lines
            .get(i + 1)
            .filter(|l| l.starts_with([' ', '\t']))
            .ok_or_else(|| format!("{name}: no status line"))?;
        let blocks: u64 =
            status.split_ascii_whitespace().next().and_then(|f| f.parse().ok()).ok_or_else(
                || format!("{name}: status line {status:?} does not start with a block count"),
            )?;
        let inactive = fields[2] == "inactive";
        let members = line.matches('[').count() as u64;
        let (disks_required, disks_active) =
            if fields.iter().any(|f| *f == "raid0" || *f == "linear") {
                // No redundancy, so no [N/M]: every listed member is needed and active.
                (members, members)
            } else if inactive {
                (0, 0)
            } else {
                // Personalities without a [N/M] field (e.g. faulty) fall back to the member count
                // rather than failing the whole file.
                disk_counts(status).unwrap_or((members, members))
            };
        let mut state = if inactive { State::Inactive } else { State::Active };
        let mut blocks_synced = blocks;
        let mut next = i + 2;
        if lines.get(next).is_some_and(|l| l.starts_with([' ', '\t']) && l.contains("bitmap")) {
            next += 1;
        }
        if let Some(sync) = lines.get(next).filter(|l| l.starts_with([' ', '\t'])) {
            let s = if sync.contains("recovery") {
                Some(State::Recovering)
            } else if sync.contains("check") {
                Some(State::Check)
            } else if sync.contains("resync") {
                Some(State::Resync)
            } else {
                None
            };
            if let Some(s) = s {
                state = s;
                blocks_synced = if sync.contains("PENDING") || sync.contains("DELAYED") {
                    0
                } else {
                    synced_blocks(sync)
                        .ok_or_else(|| format!("{name}: no (done/total) in {sync:?}"))?
                };
            }
        }
        mds.push(Md {
            name,
            state,
            disks_active,
            disks_required,
            disks_failed: line.matches("(F)").count() as u64,
            disks_spare: line.matches("(S)").count() as u64,
            blocks,
            blocks_synced,
        });
    }
    Ok(mds)
}

/// Finds `[N/M]` directly followed by ` [UU_]` in a status line: `(N required, M active)`.
fn disk_counts(status: &str) -> Option<(u64, u64)> {
    let mut rest = status;
    while let Some(start) = rest.find('[') {
        let after = &rest[start + 1..];
        let end = after.find(']')?;
        if let Some((n, m)) = after[..end].split_once('/')
            && let (Ok(n), Ok(m)) = (n.parse(), m.parse())
            && after[end + 1..].trim_start().starts_with('[')
        {
            return Some((n, m));
        }
        rest = after;
    }
    None
}

/// `[=>...]  recovery =  8.5% (16775552/195310144) finish=...` -> 16775552.
fn synced_blocks(line: &str) -> Option<u64> {
    let start = line.find('(')?;
    let inner = &line[start + 1..];
    let (done, _) = inner.split_once('/')?;
    done.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Arrays from node_exporter's public fixture collector/fixtures/proc/mdstat (real hosts)
    // plus a check in progress as printed by md.c (kernel 6.1, Debian 12).
    const REAL: &str = "Personalities : [linear] [raid0] [raid1] [raid6] [raid5] [raid4] [raid10]
md3 : active raid6 sda1[8] sdh1[7] sdg1[6] sdf1[5] sde1[11] sdd1[3] sdc1[10] sdb1[9]
      5853468288 blocks super 1.2 level 6, 64k chunk, algorithm 2 [8/8] [UUUUUUUU]

md4 : inactive raid1 sda3[0] sdb3[1]
      4883648 blocks [2/2] [UU]

md6 : active raid1 sdb2[2](F) sdc[1](S) sda2[0]
      195310144 blocks [2/1] [U_]
      [=>...................]  recovery =  8.5% (16775552/195310144) finish=17.0min speed=259783K/sec

md7 : active raid6 sdb1[0] sde1[3] sdd1[2] sdc1[1](F)
      7813735424 blocks super 1.2 level 6, 512k chunk, algorithm 2 [4/3] [U_UU]
      bitmap: 0/30 pages [0KB], 65536KB chunk

md9 : active raid1 sdc2[2] sdd2[3] sdb2[1] sda2[0] sde[4](F) sdf[5](F) sdg[6](S)
      523968 blocks super 1.2 [4/4] [UUUU]
\tresync=DELAYED

md126 : active raid0 sdb[1] sdc[0]
      1855870976 blocks super external:/md127/0 128k chunks

md219 : inactive sdb[2](S) sdc[1](S) sda[0](S)
      7932 blocks super external:imsm

md1 : active raid1 sdb2[0] sda2[1]
      1047488 blocks super 1.2 [2/2] [UU]
      [====>................]  check = 22.4% (235072/1047488) finish=0.1min speed=117536K/sec
      bitmap: 0/1 pages [0KB], 65536KB chunk

unused devices: <none>
";

    #[test]
    fn parses_real_arrays() {
        let mds = parse(REAL).unwrap();
        let names: Vec<&str> = mds.iter().map(|m| m.name).collect();
        assert_eq!(names, ["md3", "md4", "md6", "md7", "md9", "md126", "md219", "md1"]);
        let md = |n: &str| mds.iter().find(|m| m.name == n).unwrap().clone();
        assert_eq!(
            md("md6"),
            Md {
                name: "md6",
                state: State::Recovering,
                disks_active: 1,
                disks_required: 2,
                disks_failed: 1,
                disks_spare: 1,
                blocks: 195310144,
                blocks_synced: 16775552,
            }
        );
        assert_eq!((md("md3").disks_active, md("md3").blocks_synced), (8, 5853468288));
        assert_eq!((md("md4").state, md("md4").disks_required), (State::Inactive, 0));
        assert_eq!(
            (md("md7").disks_active, md("md7").disks_required, md("md7").state),
            (3, 4, State::Active)
        );
        assert_eq!(
            (md("md9").state, md("md9").blocks_synced, md("md9").disks_failed),
            (State::Resync, 0, 2)
        );
        assert_eq!((md("md126").disks_active, md("md126").blocks), (2, 1855870976));
        assert_eq!((md("md219").disks_spare, md("md219").blocks), (3, 7932));
        assert_eq!((md("md1").state, md("md1").blocks_synced), (State::Check, 235072));
    }

    #[test]
    fn emits_node_exporter_families() {
        let mut out = MetricSet::new();
        emit(&parse(REAL).unwrap(), &mut out);
        assert_eq!(
            out.get("node_md_state", &[("device", "md6"), ("state", "recovering")]),
            Some(1.0)
        );
        assert_eq!(out.get("node_md_state", &[("device", "md6"), ("state", "active")]), Some(0.0));
        assert_eq!(out.get("node_md_disks", &[("device", "md9"), ("state", "spare")]), Some(1.0));
        assert_eq!(out.get("node_md_disks_required", &[("device", "md3")]), Some(8.0));
        assert_eq!(out.get("node_md_blocks_synced", &[("device", "md1")]), Some(235072.0));
        assert_eq!(out.find("node_md_state").unwrap().len(), 8 * 5);
    }

    #[test]
    fn odd_input_is_an_error_not_a_panic() {
        assert!(parse("Personalities : \nunused devices: <none>\n").unwrap().is_empty());
        assert!(parse("md0 :\n").unwrap_err().contains("fewer than 3"));
        assert!(parse("md0 : active raid1 sda[0]\n").unwrap_err().contains("no status line"));
        assert!(
            parse("md0 : active raid1 sda[0]\n      x blocks\n")
                .unwrap_err()
                .contains("block count")
        );
        let e =
            parse("md0 : active raid1 a[0]\n      5 blocks [2/2] [UU]\n      [>..] resync = 1%\n");
        assert!(e.unwrap_err().contains("no (done/total)"));
        assert_eq!(disk_counts("5 blocks [2/1] [U_]"), Some((2, 1)));
        assert_eq!(disk_counts("5 blocks super 1.2 [0KB]"), None);
    }
}
