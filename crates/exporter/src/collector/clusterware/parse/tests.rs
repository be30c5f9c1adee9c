//! Tests of the Clusterware output parsers on the documented formats and on garbage.

use super::*;

#[test]
fn check_crs_11g_up_and_down() {
    // Oracle 12.1 docs, `crsctl check crs`, and a node whose CRSD is down.
    let up = "CRS-4638: Oracle High Availability Services is online\nCRS-4537: Cluster Ready Services is online\nCRS-4529: Cluster Synchronization Services is online\nCRS-4533: Event Manager is online\n";
    let c = check_crs(up).unwrap();
    assert_eq!(c.len(), 4);
    assert!(c.iter().all(|c| c.up));
    let down = "CRS-4638: Oracle High Availability Services is online\nCRS-4535: Cannot communicate with Cluster Ready Services\nCRS-4529: Cluster Synchronization Services is online\nCRS-4534: Cannot communicate with Event Manager\n";
    let c = check_crs(down).unwrap();
    let up_of = |n: &str| c.iter().find(|c| c.name == n).unwrap().up;
    assert!(up_of("ohas") && !up_of("crs") && up_of("css") && !up_of("evm"));
    // OHAS itself unreachable: one line.
    let c = check_crs("CRS-4639: Could not contact Oracle High Availability Services\n").unwrap();
    assert_eq!(c, vec![Component { name: "ohas", up: false }]);
}

#[test]
fn check_crs_10g_wording() {
    let c = check_crs("CSS appears healthy\nCRS appears healthy\nEVM appears healthy\n").unwrap();
    assert_eq!(c.iter().filter(|c| c.up).count(), 3);
    let c = check_crs("Failure 1 contacting Cluster Synchronization Services daemon\nCannot communicate with Cluster Ready Services\nCannot communicate with Event Manager\n").unwrap();
    assert_eq!(c.len(), 3);
    assert!(c.iter().all(|c| !c.up));
}

#[test]
fn check_crs_garbage_is_an_error() {
    assert!(check_crs("").is_err());
    let e = check_crs("Segmentation fault\n").unwrap_err();
    assert!(e.contains("Segmentation fault"), "{e}");
}

const STAT_RES: &str = "NAME=ora.LISTENER.lsnr
TYPE=ora.listener.type
LAST_SERVER=rac1
STATE=ONLINE on rac1
TARGET=ONLINE
CARDINALITY_ID=rac1
CREATION_SEED=7
RESTART_COUNT=0
FAILURE_COUNT=0
FAILURE_HISTORY=
ID=ora.LISTENER.lsnr rac1 1
INCARNATION=2
LAST_RESTART=11/23/2026 08:01:12
LAST_STATE_CHANGE=11/23/2026 08:01:12
STATE_DETAILS=
INTERNAL_STATE=STABLE

LAST_SERVER=rac2
STATE=OFFLINE
TARGET=ONLINE
CARDINALITY_ID=rac2
CREATION_SEED=7
RESTART_COUNT=3
FAILURE_COUNT=1
FAILURE_HISTORY=1763884800:rac2
ID=ora.LISTENER.lsnr rac2 1
INCARNATION=5
STATE_DETAILS=
INTERNAL_STATE=STABLE

NAME=ora.orcl.db
TYPE=ora.database.type
LAST_SERVER=rac1
STATE=INTERMEDIATE on rac1
TARGET=ONLINE
CARDINALITY_ID=1
RESTART_COUNT=0
FAILURE_COUNT=0
STATE_DETAILS=Mounted (Closed)
INTERNAL_STATE=STABLE

NAME=ora.gsd
TYPE=ora.gsd.type
LAST_SERVER=
STATE=OFFLINE
TARGET=OFFLINE
CARDINALITY_ID=1
RESTART_COUNT=0
FAILURE_COUNT=0
";

#[test]
fn stat_res_blocks_and_instances() {
    let r = stat_res(STAT_RES).unwrap();
    assert_eq!(r.len(), 4);
    assert_eq!(
        r[1],
        Resource {
            name: "ora.LISTENER.lsnr".into(),
            kind: "ora.listener.type".into(),
            server: "rac2".into(),
            state: "OFFLINE".into(),
            target: "ONLINE".into(),
            restart_count: Some(3),
            failure_count: Some(1),
        }
    );
    assert_eq!((r[0].server.as_str(), r[0].state.as_str()), ("rac1", "ONLINE"));
    assert_eq!((r[2].name.as_str(), r[2].state.as_str()), ("ora.orcl.db", "INTERMEDIATE"));
    assert_eq!((r[3].server.as_str(), r[3].target.as_str()), ("", "OFFLINE"));
}

#[test]
fn stat_res_garbage_is_an_error() {
    assert!(stat_res("CRS-4535: Cannot communicate with Cluster Ready Services\nCRS-4000: Command Status failed, or completed with errors.\n").is_err());
    assert!(stat_res("STATE=ONLINE on rac1\n").is_err(), "a state without a name");
    assert_eq!(stat_res("").unwrap(), vec![]);
}

#[test]
fn votedisks_11g_and_10g() {
    let text = "##  STATE    File Universal Id                File Name Disk group
--  -----    -----------------                --------- ---------
 1. ONLINE   4f7d2d1c1a2b4f6fbf0a3b8f6d2e1c0a (/dev/oracleasm/disks/OCR1) [OCR]
 2. ONLINE   9a8b7c6d5e4f40312a1b2c3d4e5f6a7b (/dev/oracleasm/disks/OCR2) [OCR]
 3. OFFLINE  0123456789abcdef0123456789abcdef (/dev/oracleasm/disks/OCR3) [OCR]
Located 3 voting disk(s).
";
    let (d, n) = votedisks(text).unwrap();
    assert_eq!(n, 3);
    assert_eq!(d.len(), 3);
    assert_eq!(
        d[0],
        VoteDisk {
            path: "/dev/oracleasm/disks/OCR1".into(),
            diskgroup: "OCR".into(),
            online: true
        }
    );
    assert!(!d[2].online);
    let (d, n) = votedisks(" 0.     0    /dev/raw/raw2\n 1.     0    /dev/raw/raw3\n 2.     0    /dev/raw/raw4\n\nlocated 3 votedisk(s).\n").unwrap();
    assert_eq!((d.len(), n), (3, 3));
    assert_eq!(d[1].path, "/dev/raw/raw3");
    assert!(
        votedisks("Unable to communicate with the Cluster Synchronization Services daemon.\n")
            .is_err()
    );
}

#[test]
fn olsnodes_status() {
    assert_eq!(
        olsnodes("rac1    Active\nrac2    Inactive\n").unwrap(),
        vec![("rac1".to_string(), true), ("rac2".to_string(), false)]
    );
    assert_eq!(olsnodes("rac1 1 Active Unpinned\n").unwrap(), vec![("rac1".to_string(), true)]);
    assert!(olsnodes("PRCO-19: Failure retrieving list of nodes in the cluster\n").is_err());
}
