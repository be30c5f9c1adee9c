//! `node_timex_*`: the kernel NTP discipline state that adjtimex(2) reports (see adjtimex(2)
//! and include/uapi/linux/timex.h for the fields and their units), converted exactly as
//! node_exporter's `collector/timex.go` does. Clock skew matters most on these hosts: OceanBase
//! refuses to serve when its servers drift apart and RAC evicts nodes whose clocks jump.
//!
//! The one `unsafe` call of the workspace lives here (decided in the exporter performance
//! issue): rustix 1.x and nix do not wrap adjtimex, and the crates that do are young
//! single-author ones. `adjtimex_read` passes `modes = 0`, which only reads; a kernel that
//! denies the call (seccomp) gives `EPERM`, reported as no data as node_exporter does.

use obwatch_common::metrics::{MetricSet, MetricType};

use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec};

/// Registry entry.
pub const SPEC: CollectorSpec = CollectorSpec { name: "timex", default_enabled: true, build };

fn build(_cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    Ok(Box::new(Timex))
}

/// Reports the adjtimex(2) state.
#[derive(Debug)]
pub struct Timex;

/// The `struct timex` fields node_exporter reports, raw as the kernel returns them, plus the
/// clock state adjtimex returns (`TIME_OK` .. `TIME_ERROR`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RawTimex {
    /// adjtimex's return value: 5 (`TIME_ERROR`) means unsynchronised.
    pub state: i32,
    /// Time offset, ns when `STA_NANO` is set in `status`, else µs.
    pub offset: i64,
    /// Frequency offset in ppm with a 16-bit fractional part.
    pub freq: i64,
    /// Maximum error, µs.
    pub maxerror: i64,
    /// Estimated error, µs.
    pub esterror: i64,
    /// `STA_*` status bits.
    pub status: i32,
    /// PLL time constant.
    pub constant: i64,
    /// µs between clock ticks.
    pub tick: i64,
    /// PPS frequency, scaled ppm like `freq`.
    pub ppsfreq: i64,
    /// PPS jitter, ns or µs like `offset`.
    pub jitter: i64,
    /// PPS interval duration, s (log2).
    pub shift: i32,
    /// PPS stability, scaled ppm.
    pub stabil: i64,
    /// PPS jitter-limit-exceeded count.
    pub jitcnt: i64,
    /// PPS calibration intervals.
    pub calcnt: i64,
    /// PPS calibration errors.
    pub errcnt: i64,
    /// PPS stability-limit-exceeded count.
    pub stbcnt: i64,
    /// TAI - UTC offset, s.
    pub tai: i32,
}

const TIME_ERROR: i32 = 5;
const STA_NANO: i32 = 0x2000;
/// Scaled ppm: parts per million with a 16-bit binary fraction.
const PPM16FRAC: f64 = 1_000_000.0 * 65536.0;

impl Collector for Timex {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let raw = read_timex()?;
        emit(&raw, out);
        Ok(())
    }
}

/// The clock state and `struct timex`, read with adjtimex(2).
fn read_timex() -> Result<RawTimex, CollectError> {
    let (state, tx) = match adjtimex_read() {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(CollectError::NoData(format!("adjtimex(2) denied: {e}")));
        }
        Err(source) => return Err(CollectError::Io { path: "adjtimex(2)".into(), source }),
    };
    Ok(RawTimex {
        state,
        offset: tx.offset,
        freq: tx.freq,
        maxerror: tx.maxerror,
        esterror: tx.esterror,
        status: tx.status,
        constant: tx.constant,
        tick: tx.tick,
        ppsfreq: tx.ppsfreq,
        jitter: tx.jitter,
        shift: tx.shift,
        stabil: tx.stabil,
        jitcnt: tx.jitcnt,
        calcnt: tx.calcnt,
        errcnt: tx.errcnt,
        stbcnt: tx.stbcnt,
        tai: tx.tai,
    })
}

/// adjtimex(2) with `modes = 0`: the kernel fills in its NTP state and changes nothing, so no
/// privilege is needed. Returns the clock state (`TIME_OK` .. `TIME_ERROR`) and the struct.
#[allow(unsafe_code)]
fn adjtimex_read() -> std::io::Result<(i32, libc::timex)> {
    // SAFETY: `libc::timex` is libc's definition of the kernel's `struct timex`: integers and
    // padding only, for which all-zero bytes are a valid value, and zero `modes` asks for a read
    // only. The pointer is to a local that is exclusively borrowed for the call and outlives it;
    // the kernel writes at most `size_of::<timex>()` bytes there. errno is read right after the
    // call, on the same thread, before anything else can change it.
    let (state, tx, err) = unsafe {
        let mut tx: libc::timex = std::mem::zeroed();
        let state = libc::adjtimex(&mut tx);
        (state, tx, std::io::Error::last_os_error())
    };
    if state < 0 { Err(err) } else { Ok((state, tx)) }
}

/// Converts to node_exporter 1.x units (seconds, hertz, ratios) and adds the families.
pub fn emit(t: &RawTimex, out: &mut MetricSet) {
    let div = if t.status & STA_NANO != 0 { 1e9 } else { 1e6 };
    let g = MetricType::Gauge;
    let c = MetricType::Counter;
    let rows: [(&'static str, &'static str, MetricType, f64); 17] = [
        (
            "node_timex_sync_status",
            "Is clock synchronized to a reliable server (1 = yes, 0 = no).",
            g,
            if t.state == TIME_ERROR { 0.0 } else { 1.0 },
        ),
        (
            "node_timex_offset_seconds",
            "Time offset in between local system and reference clock.",
            g,
            t.offset as f64 / div,
        ),
        (
            "node_timex_frequency_adjustment_ratio",
            "Local clock frequency adjustment.",
            g,
            1.0 + t.freq as f64 / PPM16FRAC,
        ),
        ("node_timex_maxerror_seconds", "Maximum error in seconds.", g, t.maxerror as f64 / 1e6),
        (
            "node_timex_estimated_error_seconds",
            "Estimated error in seconds.",
            g,
            t.esterror as f64 / 1e6,
        ),
        ("node_timex_status", "Value of the status array bits.", g, f64::from(t.status)),
        ("node_timex_loop_time_constant", "Phase-locked loop time constant.", g, t.constant as f64),
        ("node_timex_tick_seconds", "Seconds between clock ticks.", g, t.tick as f64 / 1e6),
        (
            "node_timex_pps_frequency_hertz",
            "Pulse per second frequency.",
            g,
            t.ppsfreq as f64 / PPM16FRAC,
        ),
        ("node_timex_pps_jitter_seconds", "Pulse per second jitter.", g, t.jitter as f64 / div),
        (
            "node_timex_pps_shift_seconds",
            "Pulse per second interval duration.",
            g,
            f64::from(t.shift),
        ),
        (
            "node_timex_pps_stability_hertz",
            "Pulse per second stability, average of recent frequency changes.",
            g,
            t.stabil as f64 / PPM16FRAC,
        ),
        (
            "node_timex_pps_jitter_total",
            "Pulse per second count of jitter limit exceeded events.",
            c,
            t.jitcnt as f64,
        ),
        (
            "node_timex_pps_calibration_total",
            "Pulse per second count of calibration intervals.",
            c,
            t.calcnt as f64,
        ),
        (
            "node_timex_pps_error_total",
            "Pulse per second count of calibration errors.",
            c,
            t.errcnt as f64,
        ),
        (
            "node_timex_pps_stability_exceeded_total",
            "Pulse per second count of stability limit exceeded events.",
            c,
            t.stbcnt as f64,
        ),
        (
            "node_timex_tai_offset_seconds",
            "International Atomic Time (TAI) offset.",
            g,
            f64::from(t.tai),
        ),
    ];
    for (name, help, kind, v) in rows {
        out.family(name, help, kind).sample(&[], v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_hosts_clock_as_node_exporter_would() {
        // The live call: modes 0 needs no privilege; the kernel's tick is 1e6/HZ µs (HZ is
        // 100..1000) and the state is one of TIME_OK..TIME_ERROR.
        let raw = read_timex().unwrap();
        assert!((0..=TIME_ERROR).contains(&raw.state), "{raw:?}");
        assert!((1_000..=10_000).contains(&raw.tick), "{raw:?}");
        let mut out = MetricSet::new();
        Timex.collect(&mut out).unwrap();
        assert_eq!(out.families().len(), 17);
        let tick = out.get("node_timex_tick_seconds", &[]).unwrap();
        assert!((0.001..=0.01).contains(&tick), "{tick}");
    }

    #[test]
    fn converts_this_vms_unsynced_clock() {
        // adjtimex on this Firecracker VM (no NTP daemon), as node_exporter 1.5 reported it:
        // state TIME_ERROR, status STA_UNSYNC, maxerror = esterror = 16 s, tick 10000 µs.
        let raw = RawTimex {
            state: 5,
            maxerror: 16_000_000,
            esterror: 16_000_000,
            status: 0x40,
            constant: 2,
            tick: 10_000,
            ..RawTimex::default()
        };
        let mut out = MetricSet::new();
        emit(&raw, &mut out);
        assert_eq!(out.families().len(), 17);
        assert_eq!(out.get("node_timex_sync_status", &[]), Some(0.0));
        assert_eq!(out.get("node_timex_maxerror_seconds", &[]), Some(16.0));
        assert_eq!(out.get("node_timex_estimated_error_seconds", &[]), Some(16.0));
        assert_eq!(out.get("node_timex_status", &[]), Some(64.0));
        assert_eq!(out.get("node_timex_tick_seconds", &[]), Some(0.01));
        assert_eq!(out.get("node_timex_frequency_adjustment_ratio", &[]), Some(1.0));
        assert_eq!(out.find("node_timex_pps_error_total").unwrap().kind(), MetricType::Counter);
    }

    #[test]
    fn converts_a_chrony_synced_clock() {
        // A chrony-disciplined host: STA_PLL|STA_NANO (0x2001), offset -1250 ns,
        // freq -15.5 ppm (scaled by 2^16), TAI offset 37 s.
        let raw = RawTimex {
            state: 0,
            offset: -1250,
            freq: -1_015_808,
            status: 0x2001,
            tai: 37,
            jitter: 500,
            ..RawTimex::default()
        };
        let mut out = MetricSet::new();
        emit(&raw, &mut out);
        assert_eq!(out.get("node_timex_sync_status", &[]), Some(1.0));
        assert_eq!(out.get("node_timex_offset_seconds", &[]), Some(-1.25e-6));
        assert_eq!(out.get("node_timex_pps_jitter_seconds", &[]), Some(5e-7));
        assert_eq!(out.get("node_timex_frequency_adjustment_ratio", &[]), Some(1.0 - 15.5e-6));
        assert_eq!(out.get("node_timex_tai_offset_seconds", &[]), Some(37.0));
    }
}
