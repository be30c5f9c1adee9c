//! Oracle Clusterware: 11.2.0.4 and 10.2 alert<host>.log, 11.2 crsd.log/ocssd.log, 19c ADR.

use super::*;

const CRS11_ROUTINE: &[&str] = &[
    "{ts}\n[crsd(5120)]CRS-2772:Server 'rac1' has been assigned to pool 'ora.orcl'.",
    "{ts}\n[crsd(5120)]CRS-2672:Attempting to start 'ora.orcl.db' on 'rac1'",
    "{ts}\n[crsd(5120)]CRS-2676:Start of 'ora.orcl.db' on 'rac1' succeeded",
    "{ts}\n[cssd(4410)]CRS-1601:CSSD Reconfiguration complete. Active nodes are rac1 rac2 .",
    "{ts}\n[ctssd(5238)]CRS-2408:The clock on host rac1 has been updated by the Cluster Time Synchronization Service to be synchronous with the mean cluster time.",
    "{ts}\n[client(2{n})]CRS-10051:CVU found following errors with Clusterware setup : PRVF-4657 : Name resolution setup check for \"rac-scan\" (IP address: 10.0.2.20) failed",
];

const CRS10_ROUTINE: &[&str] = &[
    "{ts}\n[cssd(9822)]CRS-1601:CSSD Reconfiguration complete. Active nodes are rac3 rac4 .",
    "{ts}\n[crsd(7012)]CRS-1012:The OCR service started on node rac3.",
    "{ts}\n[evmd(7001)]CRS-1401:EVMD started on node rac3.",
    "{ts}\n[crsd(7012)]CRS-1201:CRSD started on node rac3.",
];

const CRS19_ROUTINE: &[&str] = &[
    "{ts} [CRSD(31102)]CRS-2772: Server 'rac2' has been assigned to pool 'ora.orcl'.",
    "{ts} [CRSD(31102)]CRS-2672: Attempting to start 'ora.LISTENER.lsnr' on 'rac2'",
    "{ts} [CRSD(31102)]CRS-2676: Start of 'ora.LISTENER.lsnr' on 'rac2' succeeded",
    "{ts} [OCSSD(4410)]CRS-1601: CSSD Reconfiguration complete. Active nodes are rac1 rac2 .",
    "{ts} [OCTSSD(5530)]CRS-2408: The clock on host rac2 has been updated by the Cluster Time Synchronization Service to be synchronous with the mean cluster time.",
    "{ts} [OHASD(2081)]CRS-8500: Oracle Clusterware OHASD process is starting with operating system process ID 2081",
    "{ts} [OCSSD(4410)]CRS-1707: Lease acquisition for node rac2 number 2 completed",
];

const CRSD_ROUTINE: &[&str] = &[
    "{ts} [   CRSPE][1158707520]{1:30416:{n}} State change received from rac1 for ora.orcl.db 1 1",
    "{ts} [    AGFW][1149225280]{0:0:2} Agfw Proxy Server received the message: RESOURCE_STATUS[Proxy] ID 20481:{n}",
    "{ts} [  OCRAPI][1137219904]procr_open_key: Key [SYSTEM.crs.e2eport] not found. Return [4]",
    "{ts} [   CRSPE][1158707520]{1:30416:{n}} CRS-2672: Attempting to start 'ora.orcl.db' on 'rac1'",
];

const OCSSD_ROUTINE: &[&str] = &[
    "{ts} [    CSSD][1113200960]clssnmSendingThread: sending status msg to all nodes",
    "{ts} [    CSSD][1113200960]clssnmSendingThread: sent 5 status msgs to all nodes",
    "{ts} [    CSSD][1097599296]clssgmExecuteClientRequest: Received data update request from client (0x{n}), type 1",
    "{ts} [    CSSD][1097599296]clssgmFreeRPCIndex: freeing rpc {n}",
];

#[allow(clippy::too_many_lines)] // a table of incidents, one entry per rule
pub(super) fn crs_specs() -> Vec<Spec> {
    let crs11 = vec![
        (
            6 * DAY + 5 * HOUR,
            vec![ev(
                0,
                "{ts}\n[/u01/app/11.2.0/grid/bin/oraagent.bin(6021)]CRS-5011:Check of resource \"orcl\" failed: details at \"(:CLSN00007:)\" in \"/u01/app/11.2.0/grid/log/rac1/agent/crsd/oraagent_oracle/oraagent_oracle.log\"",
                &["CrsResourceCheckFailed"],
                &[("resource", "orcl")],
            )],
        ),
        (
            DAY + 3 * HOUR,
            vec![
                ev(
                    0,
                    "{ts}\n[cssd(4410)]CRS-1612:Network communication with node rac2 (2) missing for 50% of timeout interval.  Removal of this node from cluster in 14.140 seconds",
                    &["CrsNetworkHeartbeatMissing"],
                    &[("node", "rac2"), ("code", "1612")],
                ),
                ev(
                    7,
                    "{ts}\n[cssd(4410)]CRS-1611:Network communication with node rac2 (2) missing for 75% of timeout interval.  Removal of this node from cluster in 6.640 seconds",
                    &["CrsNetworkHeartbeatCritical"],
                    &[("node", "rac2"), ("code", "1611")],
                ),
                ev(
                    12,
                    "{ts}\n[cssd(4410)]CRS-1610:Network communication with node rac2 (2) missing for 90% of timeout interval.  Removal of this node from cluster in 2.630 seconds",
                    &["CrsNetworkHeartbeatCritical"],
                    &[("code", "1610")],
                ),
                ev(
                    15,
                    "{ts}\n[cssd(4410)]CRS-1607:Node rac2 is being evicted in cluster incarnation 472333840; details at (:CSSNM00007:) in /u01/app/11.2.0/grid/log/rac1/cssd/ocssd.log.",
                    &["CrsNodeEvicted"],
                    &[("node", "rac2")],
                ),
                ev(
                    20,
                    "{ts}\n[cssd(4410)]CRS-1601:CSSD Reconfiguration complete. Active nodes are rac1 .",
                    &[],
                    &[],
                ),
                ev(
                    24,
                    "{ts}\n[crsd(5120)]CRS-5504:Node down event reported for node 'rac2'.",
                    &["CrsNodeDownEvent"],
                    &[("node", "rac2")],
                ),
                ev(
                    70,
                    "{ts}\n[crsd(5120)]CRS-2769:Unable to failover resource 'ora.rac2.vip'.",
                    &["CrsResourceFailoverFailed"],
                    &[("resource", "ora.rac2.vip")],
                ),
            ],
        ),
        (
            DAY + 9 * HOUR,
            vec![ev(
                0,
                "{ts}\n[cssd(4410)]CRS-1663:Member kill issued by PID 13543 for 1 members, group DBORCL. Details at (:CSSGM00044:) in /u01/app/11.2.0/grid/log/rac1/cssd/ocssd.log.",
                &["CrsMemberKill"],
                &[("code", "1663"), ("group", "DBORCL")],
            )],
        ),
        (
            2 * DAY + 20 * HOUR,
            vec![
                ev(
                    0,
                    "{ts}\n[/u01/app/11.2.0/grid/bin/oraagent.bin(6021)]CRS-5818:Aborted command 'check' for resource 'ora.asm'. Details at (:CRSAGF00113:) {0:0:2} in /u01/app/11.2.0/grid/log/rac1/agent/ohasd/oraagent_grid/oraagent_grid.log.",
                    &["CrsAgentTrouble"],
                    &[("code", "5818"), ("resource", "ora.asm")],
                ),
                ev(
                    90,
                    "{ts}\n[/u01/app/11.2.0/grid/bin/oraagent.bin(6021)]CRS-5822:Agent '/u01/app/11.2.0/grid/bin/oraagent_grid' disconnected from server. Details at (:CRSAGF00117:) {0:1:4} in /u01/app/11.2.0/grid/log/rac1/agent/ohasd/oraagent_grid/oraagent_grid.log.",
                    &["CrsAgentTrouble"],
                    &[("code", "5822")],
                ),
            ],
        ),
        (
            3 * DAY + 15 * HOUR,
            vec![ev(
                0,
                "{ts}\n[crsd(5120)]CRS-2757:Command 'Start' timed out waiting for response from the resource 'ora.orcl.db'. Details at (:CRSPE00111:) {1:30416:2} in /u01/app/11.2.0/grid/log/rac1/crsd/crsd.log.",
                &["CrsResourceCommandTimeout"],
                &[("command", "Start"), ("resource", "ora.orcl.db")],
            )],
        ),
        (
            2 * DAY + 14 * HOUR,
            vec![
                ev(
                    0,
                    "{ts}\n[crsd(5120)]CRS-2765:Resource 'ora.orcl.db' has failed on server 'rac1'.",
                    &["CrsResourceFailed"],
                    &[("resource", "ora.orcl.db"), ("server", "rac1")],
                ),
                ev(
                    60,
                    "{ts}\n[crsd(5120)]CRS-2771:Maximum restart attempts reached for resource 'ora.orcl.db'; will not restart.",
                    &["CrsResourceRestartLimit"],
                    &[("resource", "ora.orcl.db")],
                ),
            ],
        ),
        (
            3 * DAY + 10 * HOUR,
            vec![
                ev(
                    0,
                    "{ts}\n[ctssd(5238)]CRS-2409:The clock on host rac1 is not synchronous with the mean cluster time. No action has been taken as the Cluster Time Synchronization Service is running in observer mode.",
                    &["CrsClockSyncTrouble"],
                    &[("code", "2409")],
                ),
                ev(
                    1_800,
                    "{ts}\n[ctssd(5238)]CRS-2409:The clock on host rac1 is not synchronous with the mean cluster time. No action has been taken as the Cluster Time Synchronization Service is running in observer mode.",
                    &["CrsClockSyncTrouble"],
                    &[("code", "2409")],
                ),
            ],
        ),
        (
            4 * DAY + 16 * HOUR,
            vec![ev(
                0,
                "{ts}\n[crsd(5120)]CRS-1013:The OCR location in an ASM disk group is inaccessible. Details in /u01/app/11.2.0/grid/log/rac1/crsd/crsd.log.",
                &["CrsOcrOlrInaccessible"],
                &[("code", "1013")],
            )],
        ),
        (
            5 * DAY + 6 * HOUR,
            vec![
                ev(
                    0,
                    "{ts}\n[cssd(4410)]CRS-1606:The number of voting files available, 0, is less than the minimum number of voting files required, 1, resulting in CSSD termination to ensure data integrity; details at (:CSSNM00018:) in /u01/app/11.2.0/grid/log/rac1/cssd/ocssd.log",
                    &["CrsVotingFileTrouble"],
                    &[("code", "1606")],
                ),
                ev(
                    1,
                    "{ts}\n[cssd(4410)]CRS-1656:The CSS daemon is terminating due to a fatal error; Details at (:CSSSC00012:) in /u01/app/11.2.0/grid/log/rac1/cssd/ocssd.log",
                    &["CrsNodeLeavingCluster"],
                    &[("code", "1656")],
                ),
                ev(
                    2,
                    "{ts}\n[cssd(4410)]CRS-1652:Starting clean up of CRSD resources.",
                    &["CrsCrsdCleanup"],
                    &[],
                ),
                ev(
                    9,
                    "{ts}\n[cssd(4410)]CRS-1654:Clean up of CRSD resources finished successfully.",
                    &[],
                    &[],
                ),
            ],
        ),
    ];
    // What the 11.2 daemon logs say during the incidents: crsd.log repeats the alert log's CRS
    // messages and raises nothing; ocssd.log has CSSD's own countdown and diagnosis.
    let crsd = vec![
        (
            2 * DAY + 14 * HOUR,
            vec![ev(
                0,
                "{ts} [   CRSPE][1158707520]{1:30416:2} CRS-2765: Resource 'ora.orcl.db' has failed on server 'rac1'.",
                &[],
                &[],
            )],
        ),
        (
            3 * DAY + 15 * HOUR,
            vec![ev(
                0,
                "{ts} [   CRSPE][1158707520]{1:30416:2} CRS-2757: Command 'Start' timed out waiting for response from the resource 'ora.orcl.db'. Details at (:CRSPE00111:) {1:30416:2} in /u01/app/11.2.0/grid/log/rac1/crsd/crsd.log.",
                &[],
                &[],
            )],
        ),
    ];
    let ocssd = vec![
        (
            DAY + 3 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} [    CSSD][1113200960]clssnmPollingThread: node rac2 (2) at 50% heartbeat fatal, removal in 14.140 seconds",
                    &["CrsCssdHeartbeatFatal"],
                    &[("node", "rac2"), ("percent", "50")],
                ),
                ev(
                    7,
                    "{ts} [    CSSD][1113200960]clssnmPollingThread: node rac2 (2) at 75% heartbeat fatal, removal in 6.640 seconds",
                    &["CrsCssdHeartbeatFatal"],
                    &[("percent", "75")],
                ),
                ev(
                    14,
                    "{ts} [    CSSD][1113200960]clssnmvDHBValidateNCopy: node 2, rac2, has a disk HB, but no network HB, DHB has rcfg 472333840, wrtcnt, 1004011, LATS 4294910570, lastSeqNo 1004008, uniqueness 1381287819, timestamp 1741057214/1380740",
                    &["CrsCssdNoNetworkHeartbeat"],
                    &[("node", "rac2"), ("node_number", "2")],
                ),
                ev(
                    16,
                    "{ts} [    CSSD][1113200960]clssnmPollingThread: node rac2 (2) is impending reconfig, flag 132108, misstime 15360",
                    &["CrsCssdReconfigImpending"],
                    &[("node", "rac2")],
                ),
            ],
        ),
        (
            4 * DAY + 2 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} [    CSSD][1105212352]clssscMonitorThreads clssnmvDiskPingThread not scheduled for 16020 msecs",
                    &["CrsCssdDiskPingStalled"],
                    &[("msecs", "16020")],
                ),
                ev(
                    20,
                    "{ts} [    CSSD][1105212352](:CSSNM00018:)clssnmvDiskCheck: Aborting, 0 of 1 configured voting disks available, need 1",
                    &["CrsCssdAbort"],
                    &[("available", "0")],
                ),
                ev(1, "{ts} [    CSSD][1105212352]###################################", &[], &[]),
                ev(
                    0,
                    "{ts} [    CSSD][1105212352]clssscExit: CSSD aborting from thread clssnmvDiskPingMonitorThread",
                    &["CrsCssdAbort"],
                    &[],
                ),
            ],
        ),
    ];
    let crs10 = vec![(
        3 * DAY + 18 * HOUR,
        vec![
            ev(
                0,
                "{ts}\n[cssd(9822)]CRS-1612:node rac4 (2) at 50% heartbeat fatal, eviction in 29.100 seconds",
                &["CrsNetworkHeartbeatMissing"],
                &[("node", "rac4")],
            ),
            ev(
                30,
                "{ts}\n[cssd(9822)]CRS-1607:Node rac4 is being evicted in cluster incarnation 123456789; details in /u01/crs/log/rac3/cssd/ocssd.log.",
                &["CrsNodeEvicted"],
                &[("node", "rac4")],
            ),
            ev(
                31,
                "{ts}\n[crsd(7012)]CRS-1006:The OCR location /dev/raw/raw1 is inaccessible. Details in /u01/crs/log/rac3/crsd/crsd.log.",
                &["CrsOcrOlrInaccessible"],
                &[("code", "1006")],
            ),
            ev(
                40,
                "{ts}\n[cssd(9822)]CRS-1604:CSSD voting file is offline: /dev/raw/raw3. Details in /u01/crs/log/rac3/cssd/ocssd.log.",
                &["CrsVotingFileTrouble"],
                &[("code", "1604")],
            ),
        ],
    )];
    let crs19 = vec![
        (
            3 * DAY + 2 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} [GIPCD(3042)]CRS-7500: GIPC high availability connection to node rac1 failed",
                    &["CrsGipcTrouble"],
                    &[("code", "7500")],
                ),
                ev(
                    20,
                    "{ts} [ORAAGENT(7781)]CRS-5818: Aborted command 'check' for resource 'ora.LISTENER_SCAN1.lsnr'. Details at (:CRSAGF00113:) {1:38146:2} in /u01/app/grid/diag/crs/rac2/crs/trace/crsd_oraagent_grid.trc.",
                    &["CrsAgentTrouble"],
                    &[("resource", "ora.LISTENER_SCAN1.lsnr")],
                ),
            ],
        ),
        (
            2 * DAY + 4 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} [OCSSD(4410)]CRS-1615: No I/O has completed after 50% of the maximum interval. Voting file /dev/asm-vote1 will be considered not functional in 99760 milliseconds",
                    &["CrsVotingFileIoSlow"],
                    &[("voting_file", "/dev/asm-vote1")],
                ),
                ev(
                    60,
                    "{ts} [OCSSD(4410)]CRS-1605: CSSD voting file is online: /dev/asm-vote1; details in /u01/app/grid/diag/crs/rac2/crs/trace/ocssd.trc.",
                    &[],
                    &[],
                ),
            ],
        ),
        (
            4 * DAY + 4 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} [OHASD(2081)]CRS-8011: reboot advisory message from host: rac1, component: cssagent, with time stamp: L-2025-03-07-04:00:00.120",
                    &["CrsRebootAdvisory"],
                    &[("host", "rac1")],
                ),
                ev(
                    0,
                    "{ts} [OHASD(2081)]CRS-8013: reboot advisory message text: Rebooting after limit 28500 exceeded; disk timeout 28500, network timeout 27030",
                    &[],
                    &[],
                ),
                ev(
                    5,
                    "{ts} [OCSSD(4410)]CRS-1632: Node rac1 is being removed from the cluster in cluster incarnation 600001234",
                    &["CrsNodeLeavingCluster"],
                    &[("code", "1632")],
                ),
            ],
        ),
        (
            5 * DAY + 20 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} [CRSD(31102)]CRS-8503: Oracle Clusterware process CRSD with operating system process ID 31102 experienced fatal signal or exception code 6.",
                    &["CrsProcessFatalSignal"],
                    &[("process", "CRSD")],
                ),
                ev(
                    9,
                    "{ts} [CRSD(31377)]CRS-8500: Oracle Clusterware CRSD process is starting with operating system process ID 31377",
                    &[],
                    &[],
                ),
                ev(
                    30,
                    "{ts} [OCTSSD(5530)]CRS-2402: The Cluster Time Synchronization Service aborted on host rac2. Details at (:ctsselect_msm3:) in /u01/app/grid/diag/crs/rac2/crs/trace/octssd.trc.",
                    &["CrsClockSyncTrouble"],
                    &[("code", "2402")],
                ),
                ev(
                    40,
                    "{ts} [OCSSD(4410)]CRS-1714: Unable to discover any voting files, retrying discovery in 15 seconds; Details at (:CSSNM00070:) in /u01/app/grid/diag/crs/rac2/crs/trace/ocssd.trc",
                    &["CrsVotingFileTrouble"],
                    &[("code", "1714")],
                ),
            ],
        ),
    ];
    vec![
        Spec {
            path: "u01/app/11.2.0/grid/log/rac1/alertrac1.log",
            stamp: Stamp::CrsColon,
            step: 1_800,
            routine: CRS11_ROUTINE,
            incidents: crs11,
        },
        Spec {
            path: "u01/app/11.2.0/grid/log/rac1/crsd/crsd.log",
            stamp: Stamp::CrsColon,
            step: 60,
            routine: CRSD_ROUTINE,
            incidents: crsd,
        },
        Spec {
            path: "u01/app/11.2.0/grid/log/rac1/cssd/ocssd.log",
            stamp: Stamp::CrsColon,
            step: 30,
            routine: OCSSD_ROUTINE,
            incidents: ocssd,
        },
        Spec {
            path: "u01/crs/log/rac3/alertrac3.log",
            stamp: Stamp::Crs,
            step: 3_600,
            routine: CRS10_ROUTINE,
            incidents: crs10,
        },
        Spec {
            path: "u01/app/grid/diag/crs/rac2/crs/trace/alert.log",
            stamp: Stamp::Crs,
            step: 1_800,
            routine: CRS19_ROUTINE,
            incidents: crs19,
        },
    ]
}
