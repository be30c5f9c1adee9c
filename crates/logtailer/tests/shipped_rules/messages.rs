//! var/log/messages.

use super::*;

const MESSAGES_ROUTINE: &[&str] = &[
    "{ts} db1 systemd[1]: Started Session {n} of user admin.",
    "{ts} db1 systemd-logind[1021]: New session {n} of user admin.",
    "{ts} db1 CROND[{tid}]: (root) CMD (/usr/lib64/sa/sa1 1 1)",
    "{ts} db1 chronyd[902]: Selected source 10.0.0.2",
    "{ts} db1 rsyslogd[1188]: imjournal: journal files changed, reloading...  [v8.2102.0-10.el8 try https://www.rsyslog.com/e/0 ]",
    "{ts} db1 kernel: ixgbe 0000:3b:00.1 eth1: NIC Link is Up 10 Gbps, Flow Control: RX/TX",
    "{ts} db1 kernel: IPv6: ADDRCONF(NETDEV_UP): eth2: link is not ready",
    "{ts} db1 kernel: ata3: SATA link down (SStatus 0 SControl 300)",
    "{ts} db1 kernel: blk_update_request: I/O error, dev fd0, sector 0",
    "{ts} db1 kernel: Buffer I/O error on dev fd0, logical block 0, async page read",
    "{ts} db1 kernel: EXT4-fs (dm-0): mounted filesystem with ordered data mode. Opts: (null)",
    "{ts} db1 kernel: NMI watchdog: Shutting down hard lockup detector on all cpus",
    "{ts} db1 kernel: NMI watchdog: Enabled. Permanently consumes one hw-PMU counter.",
    "{ts} db1 multipathd[811]: sdc: add path (uevent)",
    "{ts} db1 kernel: bond0: link status definitely up for interface eth1, 10000 Mbps full duplex",
    "{ts} db1 kernel: EDAC MC: Ver: 3.0.0",
    "{ts} db1 kernel: oom_reaper: reaped process {tid} (python3), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB",
];

#[allow(clippy::too_many_lines)] // a table of incidents, one entry per rule
pub(super) fn messages_spec() -> Spec {
    let incidents = vec![
        (
            DAY + 2 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} db1 kernel: observer invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0",
                    &["OsOomKillerInvoked"],
                    &[("invoker", "observer")],
                ),
                ev(
                    1,
                    "{ts} db1 kernel: Out of memory: Killed process 4242 (observer) total-vm:66125828kB, anon-rss:62914560kB, file-rss:0kB, shmem-rss:0kB",
                    &["OsOomKill"],
                    &[("process", "observer"), ("pid", "4242")],
                ),
            ],
        ),
        (
            DAY + 20 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} db1 kernel: INFO: task ocssd.bin:1602 blocked for more than 120 seconds.",
                    &["OsHungTask"],
                    &[("process", "ocssd.bin")],
                ),
                ev(
                    0,
                    "{ts} db1 kernel: \"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message.",
                    &[],
                    &[],
                ),
                ev(
                    1,
                    "{ts} db1 kernel: INFO: task kworker/u16:2:2716 blocked for more than 120 seconds.",
                    &["OsHungTask"],
                    &[("process", "kworker/u16:2")],
                ),
            ],
        ),
        burst(
            2 * DAY + 7 * HOUR,
            4,
            1,
            "{ts} db1 kernel: blk_update_request: I/O error, dev sdb, sector {big} op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0",
            &["OsDiskIoError"],
            &[("device", "sdb")],
        ),
        (
            2 * DAY + 7 * HOUR + 10,
            vec![ev(
                0,
                "{ts} db1 kernel: EXT4-fs (sdb1): Remounting filesystem read-only",
                &["OsFilesystemReadOnly"],
                &[],
            )],
        ),
        (
            3 * DAY + 13 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} db1 kernel: ixgbe 0000:3b:00.1 eth1: NIC Link is Down",
                    &["OsNicLinkDown"],
                    &[("interface", "eth1")],
                ),
                ev(
                    0,
                    "{ts} db1 kernel: bond0: link status definitely down for interface eth1, disabling it",
                    &["OsBondingFailover"],
                    &[("bond", "bond0"), ("interface", "eth1")],
                ),
                ev(
                    0,
                    "{ts} db1 kernel: bond0: making interface eth2 the new active one",
                    &["OsBondingFailover"],
                    &[("bond", "bond0")],
                ),
                ev(
                    40,
                    "{ts} db1 kernel: ixgbe 0000:3b:00.1 eth1: NIC Link is Up 10 Gbps, Flow Control: RX/TX",
                    &[],
                    &[],
                ),
            ],
        ),
        (
            4 * DAY + 2 * HOUR,
            vec![ev(
                0,
                "{ts} db1 kernel: watchdog: BUG: soft lockup - CPU#3 stuck for 22s! [observer:4242]",
                &["OsCpuLockup"],
                &[("kind", "soft")],
            )],
        ),
        (
            4 * DAY + 15 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} db1 kernel: mce: [Hardware Error]: Machine check events logged",
                    &["OsMachineCheck"],
                    &[],
                ),
                ev(
                    1,
                    "{ts} db1 kernel: EDAC MC0: 1 CE memory read error on CPU_SrcID#0_Ha#0_Chan#1_DIMM#0 (channel:1 slot:0 page:0x5a2c9c offset:0x0 grain:32 syndrome:0x0)",
                    &["OsMachineCheck"],
                    &[],
                ),
            ],
        ),
        (
            5 * DAY + 9 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} db1 kernel: Uhhuh. NMI received for unknown reason 3d on CPU 12.",
                    &["OsNmiUnknown"],
                    &[("reason", "3d")],
                ),
                ev(
                    0,
                    "{ts} db1 kernel: Do you have a strange power saving mode enabled?",
                    &[],
                    &[],
                ),
                ev(0, "{ts} db1 kernel: Dazed and confused, but trying to continue", &[], &[]),
            ],
        ),
        (
            5 * DAY + 17 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} db1 kernel: NMI: PCI system error (SERR) for reason a1 on CPU 0.",
                    &["OsNmiHardwareError"],
                    &[("kind", "PCI system error"), ("reason", "a1")],
                ),
                ev(0, "{ts} db1 kernel: Dazed and confused, but trying to continue", &[], &[]),
                ev(
                    30,
                    "{ts} db1 kernel: NMI: IOCK error (debug interrupt?) for reason 71 on CPU 0.",
                    &["OsNmiHardwareError"],
                    &[("kind", "IOCK error")],
                ),
            ],
        ),
        (
            6 * DAY + HOUR,
            vec![
                ev(
                    0,
                    "{ts} db1 kernel: Hangcheck: hangcheck value past margin!",
                    &["OsHangcheckPastMargin"],
                    &[],
                ),
                ev(2, "{ts} db1 kernel: sysrq: SysRq : Resetting", &["OsSysrqReset"], &[]),
            ],
        ),
    ];
    Spec {
        path: "var/log/messages",
        stamp: Stamp::Syslog,
        step: 30,
        routine: MESSAGES_ROUTINE,
        incidents,
    }
}
