//! Man pages and shell completions, generated from each binary's clap definition
//! (`clap_mangen`, `clap_complete`) so they cannot drift from `--help`. Asked for with the
//! hidden flags the Prometheus tools have (kingpin's `--help-man` and
//! `--completion-script-bash`/`-zsh`, plus `-fish`), given alone: they are looked for before
//! the normal parse, so a binary whose subcommand is required still answers them.
//! `scripts/release.sh` runs them to put the pages and scripts into the tarball and packages.

use std::ffi::OsString;
use std::io::Write;

use clap_complete::Shell;

/// A generated text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generated {
    /// `--help-man`: the man page (section 1, roff).
    Man,
    /// `--completion-script-SHELL`: a completion script.
    Completion(Shell),
}

/// What `args` (argv, program name first) asks for: one of the flags as the only argument.
pub fn requested(args: &[OsString]) -> Option<Generated> {
    let [_, flag] = args else { return None };
    match flag.to_str()? {
        "--help-man" => Some(Generated::Man),
        "--completion-script-bash" => Some(Generated::Completion(Shell::Bash)),
        "--completion-script-zsh" => Some(Generated::Completion(Shell::Zsh)),
        "--completion-script-fish" => Some(Generated::Completion(Shell::Fish)),
        _ => None,
    }
}

/// Writes `what` for `cmd` (whose name is the binary's) to `out`.
pub fn write(what: Generated, cmd: clap::Command, out: &mut dyn Write) -> std::io::Result<()> {
    match what {
        Generated::Man => clap_mangen::Man::new(cmd).render(out),
        Generated::Completion(shell) => {
            let mut cmd = cmd;
            let name = cmd.get_name().to_string();
            clap_complete::generate(shell, &mut cmd, name, out);
            Ok(())
        }
    }
}

/// Writes `what` for `cmd` to stdout; the exit code for `main` (0, or 1 when stdout fails for
/// another reason than a reader that went away).
pub fn print(what: Generated, cmd: clap::Command) -> u8 {
    let mut out = std::io::stdout().lock();
    match write(what, cmd, &mut out).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(e) if crate::cli::is_broken_pipe(&e) => 0,
        Err(e) => {
            crate::stderr!("cannot write to standard output: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    fn cmd() -> clap::Command {
        clap::Command::new("obwatch-demo")
            .about("A demo.")
            .arg(clap::Arg::new("config.file").long("config.file").short('c').help("YAML file."))
            .subcommand(clap::Command::new("check").about("Validate."))
    }

    #[test]
    fn only_the_flags_alone_are_requests() {
        assert_eq!(requested(&args(&["x", "--help-man"])), Some(Generated::Man));
        assert_eq!(
            requested(&args(&["x", "--completion-script-zsh"])),
            Some(Generated::Completion(Shell::Zsh))
        );
        assert_eq!(requested(&args(&["x"])), None);
        assert_eq!(requested(&args(&["x", "run", "--help-man"])), None);
        assert_eq!(requested(&args(&["x", "--help-manual"])), None);
    }

    #[test]
    fn man_page_and_completions_carry_the_flags() {
        let mut man = Vec::new();
        write(Generated::Man, cmd(), &mut man).unwrap();
        let man = String::from_utf8(man).unwrap();
        assert!(man.starts_with(".ie \\n(.g .ds Aq"), "{man}");
        assert!(man.contains(".TH obwatch-demo 1") && man.contains("config.file"), "{man}");
        assert!(man.contains("check"), "subcommands are listed: {man}");
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let mut s = Vec::new();
            write(Generated::Completion(shell), cmd(), &mut s).unwrap();
            let s = String::from_utf8(s).unwrap();
            assert!(s.contains("config.file") && s.contains("check"), "{shell}: {s}");
        }
    }
}
