#!/usr/bin/env python3
"""Writes a fake procfs/sysfs tree of a host with N CPUs, N NVMe namespaces and N NICs, for
scripts/bench-exporter-bighost.sh: both exporters read it through --path.procfs/--path.sysfs,
so the cost of a scrape can be measured on a database host's size (128 CPUs, 48 NVMe
namespaces, 32 NICs) on a 2-vCPU machine.

Per-CPU files: /proc/stat and /proc/schedstat lines, topology, thermal_throttle and a cpufreq
policy each. Per NVMe controller: /sys/class/nvme/nvmeN with its attributes, namespace nvmeNn1
with three partitions in /proc/diskstats and /sys/block. Per NIC: /proc/net/dev, and
/sys/class/net/ethN -> its PCI device's attributes and statistics. Files with no per-device part
(meminfo, vmstat, netstat, snmp, sockstat, pressure, loadavg, file-nr, entropy) are copied from
this host's /proc, so their size is a real kernel's. Formats follow the kernels'
(Documentation/admin-guide/iostats.rst, scheduler/sched-stats.rst, ABI/testing/sysfs-class-net).

Usage: gen-host-tree.py OUT_DIR CPUS NVME NICS
"""
import os
import shutil
import sys


def write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def link(root, rel, target):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.symlink(target, path)


def copy_host(root, rel):
    """Copies /<rel> (a /proc file) if this host has it."""
    try:
        with open("/" + rel) as f:
            text = f.read()
    except OSError:
        return
    write(root, rel, text)


def cpus(root, n):
    lines = ["cpu  %d 0 %d %d 900 0 1200 0 0 0\n" % (n * 400000, n * 100000, n * 9000000)]
    sched = ["version 15\n", "timestamp 4300000000\n"]
    mask = format((1 << n) - 1, "x")
    for c in range(n):
        lines.append("cpu%d 400000 10 100000 9000000 900 0 1200 0 0 0\n" % c)
        sched.append("cpu%d 0 0 0 0 0 0 %d %d %d\n" % (c, 2045936778163 + c, 343796328169 + c, 4767485 + c))
        sched.append("domain0 %s %s\n" % (mask, " ".join(["1000"] * 36)))
        cpu = "sys/devices/system/cpu/cpu%d" % c
        write(root, cpu + "/topology/physical_package_id", "%d\n" % (c * 2 // n))
        write(root, cpu + "/topology/core_id", "%d\n" % (c % (n // 2 or 1)))
        write(root, cpu + "/thermal_throttle/core_throttle_count", "0\n")
        write(root, cpu + "/thermal_throttle/package_throttle_count", "%d\n" % (c % 3))
        link(root, cpu + "/cpufreq", "../cpufreq/policy%d" % c)
        pol = "sys/devices/system/cpu/cpufreq/policy%d/" % c
        for name, value in [
            ("affected_cpus", str(c)), ("related_cpus", str(c)),
            ("cpuinfo_cur_freq", "2100000"), ("cpuinfo_max_freq", "3500000"),
            ("cpuinfo_min_freq", "800000"), ("cpuinfo_transition_latency", "0"),
            ("scaling_cur_freq", str(2000000 + c)), ("scaling_driver", "intel_pstate"),
            ("scaling_governor", "performance"), ("scaling_max_freq", "3500000"),
            ("scaling_min_freq", "800000"), ("scaling_setspeed", "<unsupported>"),
            ("scaling_available_governors", "performance powersave"),
        ]:
            write(root, pol + name, value + "\n")
    lines += [
        "intr 123456789 0 9 0\n", "ctxt 987654321\n", "btime 1733500000\n",
        "processes 1234567\n", "procs_running 3\n", "procs_blocked 0\n",
        "softirq 555 1 2 3 4 5 6 7 8 9 10\n",
    ]
    write(root, "proc/stat", "".join(lines))
    write(root, "proc/schedstat", "".join(sched))
    write(root, "sys/devices/system/cpu/online", "0-%d\n" % (n - 1))
    write(root, "sys/devices/system/cpu/possible", "0-%d\n" % (n - 1))
    write(root, "sys/devices/system/cpu/present", "0-%d\n" % (n - 1))
    write(root, "sys/devices/system/cpu/isolated", "\n")


def nvmes(root, n):
    disk = []
    for i in range(n):
        pci = "devices/pci0000:%02x/0000:%02x:00.0/0000:%02x:00.0" % (i // 8, i // 8, 0x10 + i)
        ctrl = "sys/%s/nvme/nvme%d" % (pci, i)
        link(root, "sys/class/nvme/nvme%d" % i, "../../%s/nvme/nvme%d" % (pci, i))
        for name, value in [
            ("cntlid", str(i)), ("firmware_rev", "GDC5602Q"),
            ("model", "INTEL SSDPE2KX040T8                     "),
            ("serial", "PHLJ9123%04dP0DGN  " % i), ("state", "live"), ("transport", "pcie"),
        ]:
            write(root, "%s/%s" % (ctrl, name), value + "\n")
        for j, dev in enumerate(["nvme%dn1" % i] + ["nvme%dn1p%d" % (i, p) for p in (1, 2, 3)]):
            disk.append(
                "%4d %7d %s 8812345 120 701234567 3456789 19123456 4567 912345678 8765432 0 "
                "6543210 12345678 0 0 0 0 120 4567\n" % (259, i * 4 + j, dev))
        link(root, "sys/block/nvme%dn1" % i, "../%s/nvme/nvme%d/nvme%dn1" % (pci, i, i))
        write(root, "%s/nvme%dn1/size" % (ctrl, i), "7501476528\n")
    disk.append("   7       0 loop0 12 0 24 1 0 0 0 0 0 4 1 0 0 0 0 0 0\n")
    write(root, "proc/diskstats", "".join(disk))


NIC_ATTRS = [
    ("addr_assign_type", "0"), ("broadcast", "ff:ff:ff:ff:ff:ff"), ("carrier", "1"),
    ("carrier_changes", "4"), ("carrier_down_count", "2"), ("carrier_up_count", "2"),
    ("dev_id", "0x0"), ("dormant", "0"), ("duplex", "full"), ("flags", "0x1003"),
    ("ifalias", ""), ("iflink", None), ("link_mode", "0"), ("mtu", "9000"),
    ("name_assign_type", "4"), ("netdev_group", "0"), ("operstate", "up"),
    ("speed", "25000"), ("tx_queue_len", "1000"), ("type", "1"),
]
NIC_STATS = ["rx_bytes", "rx_packets", "rx_errors", "rx_dropped", "rx_nohandler",
             "tx_bytes", "tx_packets", "tx_errors", "tx_dropped", "collisions"]


def nics(root, n):
    dev = [
        "Inter-|   Receive                                                |  Transmit\n",
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets "
        "errs drop fifo colls carrier compressed\n",
        "    lo: 1234567 8901 0 0 0 0 0 0 1234567 8901 0 0 0 0 0 0\n",
    ]
    for i in range(n):
        name = "eth%d" % i
        dev.append("%6s: %d 987654321 0 12 0 0 0 3456 %d 876543210 0 0 0 0 0 0\n"
                   % (name, 123456789012 + i, 98765432109 + i))
        pci = "devices/pci0000:%02x/0000:%02x:01.%d/net/%s" % (0x80 + i // 8, 0x80 + i // 8, i % 8, name)
        link(root, "sys/class/net/" + name, "../../" + pci)
        base = "sys/" + pci + "/"
        for attr, value in NIC_ATTRS:
            write(root, base + attr, (str(i + 2) if value is None else value) + "\n")
        write(root, base + "address", "0c:42:a1:%02x:%02x:%02x\n" % (i // 256, i % 256, 7))
        write(root, base + "ifindex", "%d\n" % (i + 2))
        for stat in NIC_STATS:
            write(root, base + "statistics/" + stat, "%d\n" % (i * 1000 + len(stat)))
    link(root, "sys/class/net/lo", "../../devices/virtual/net/lo")
    for attr, value in NIC_ATTRS:
        write(root, "sys/devices/virtual/net/lo/" + attr,
              ("1" if value is None else value) + "\n")
    write(root, "sys/devices/virtual/net/lo/address", "00:00:00:00:00:00\n")
    write(root, "sys/devices/virtual/net/lo/ifindex", "1\n")
    write(root, "proc/net/dev", "".join(dev))


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__.strip().splitlines()[-1])
    root, n_cpu, n_nvme, n_nic = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    if os.path.exists(root):
        shutil.rmtree(root)
    cpus(root, n_cpu)
    nvmes(root, n_nvme)
    nics(root, n_nic)
    for rel in ["proc/meminfo", "proc/vmstat", "proc/loadavg", "proc/net/netstat",
                "proc/net/snmp", "proc/net/snmp6", "proc/net/sockstat", "proc/net/sockstat6",
                "proc/sys/fs/file-nr", "proc/sys/kernel/random/entropy_avail",
                "proc/sys/kernel/random/poolsize", "proc/pressure/cpu",
                "proc/pressure/memory", "proc/pressure/io"]:
        copy_host(root, rel)


if __name__ == "__main__":
    main()
