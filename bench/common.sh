# Sourced by the bench scripts (bench/hash, bench/verify, bench/pull); not run on its own.
# The script sets $root (the repository) before sourcing this file.
#
# Benches are not tests: they print figures and do not fail on a slow run. They fail only when
# something does not work (a build, a setup step, a wrong result).

bin=$root/build/cmd
tools=$root/build/tests/tools
bench_tools=$root/build/bench/tools

bench_say() { printf '%s: %s\n' "$bench_name" "$*" >&2; }

# Whole numbers only, at least $2.
bench_int() {
  local name=$1 value=$2 min=$3
  if ! [[ $value =~ ^[0-9]+$ ]] || ((value < min)); then
    echo "$bench_name: error: $name=$value: want a whole number >= $min" >&2
    exit 2
  fi
}

# Build when any of the given binaries is missing. An existing build is used as it is: run
# scripts/build (or cmake --build build) first to bench the current sources.
bench_build() {
  local f missing=0
  for f in "$@"; do [[ -x $f ]] || missing=1; done
  ((missing)) || return 0
  bench_say "building (binaries missing)"
  if [[ -x $root/scripts/build ]]; then
    "$root/scripts/build" >&2
  else
    cmake -S "$root" -B "$root/build" -G Ninja >&2 && cmake --build "$root/build" >&2
  fi
  for f in "$@"; do
    [[ -x $f ]] || { echo "$bench_name: error: $f: not built" >&2; exit 1; }
  done
}

for cmd in hyperfine python3; do
  command -v "$cmd" >/dev/null || { echo "$bench_name: error: $cmd not found (apt-get install $cmd)" >&2; exit 1; }
done

# A scratch directory under ${BWV_BENCH_DIR:-/tmp/bwv-bench}, removed on exit (and the parent too
# when it is left empty).
bench_parent=${BWV_BENCH_DIR:-/tmp/bwv-bench}
mkdir -p -- "$bench_parent"
work=$(mktemp -d -- "$bench_parent/${bench_name#bench/}.XXXXXX")
bench_cleanup() {
  rm -rf -- "$work"
  rmdir -- "$bench_parent" 2>/dev/null || true
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# How busy the machine was when the bench began, for the summary (figures from a busy machine are
# slower and noisier).
export BENCH_MACHINE="$(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg) at start"

# Quote for the shell that hyperfine runs commands in.
q() { printf '%q' "$1"; }

# $1 random files of $2 MiB each, as $3/NNNN.mp4. Random bytes, not MP4: neither bwv-fakecam record
# (given --duration, it does not probe the media) nor bwv-pull nor bwv-verify parses the video.
bench_random_files() {
  local n=$1 mib=$2 dir=$3 i
  mkdir -p -- "$dir"
  for ((i = 1; i <= n; i++)); do
    head -c "$((mib * 1048576))" /dev/urandom >"$dir/$(printf '%04d' "$i").mp4"
  done
}

# A store ($work/store, right after bwv-init and trusting one device) and a docked camera
# ($work/camera) holding $1 clips of $2 MiB, made by bwv-fakecam record in one call.
bench_store_and_camera() {
  local n=$1 mib=$2 device=BENCH01
  "$bin/bwv-init" --store "$work/store" --organisation "bwv bench"
  mkdir -p -- "$work/cam"
  "$tools/bwv-fakecam" keygen --device "$device" --key "$work/cam/device.key" --pub "$work/cam/device.pub"
  "$bin/bwv-key" --store "$work/store" trust --device "$device" --reason "bench" "$work/cam/device.pub"
  bench_say "writing $n random files of $mib MiB"
  bench_random_files "$n" "$mib" "$work/raw"
  bench_say "recording them on the camera (bwv-fakecam record)"
  "$tools/bwv-fakecam" record --camera "$work/camera" --device "$device" --officer PC0001 \
    --key "$work/cam/device.key" --seal "$work/store/keys/seal.pub" --state "$work/cam/state.json" \
    --start 2026-11-24T09:00:00Z --duration 10 "$work/raw"/*.mp4 >/dev/null
  rm -rf -- "$work/raw"
}

# hyperfine with the options every bench uses; its own report goes to stderr, so that stdout holds
# only the summary block.
bench_hyperfine() {
  hyperfine --style basic --warmup 1 --runs "$runs" --export-json "$work/hyperfine.json" "$@" >&2
}
