#!/usr/bin/env bash
# Runs one libFuzzer target for ctest (tests/fuzz/CMakeLists.txt) and bench/fuzz.
#
#   run.sh inputs TARGET CORPUS REGRESSIONS WORK           every seed and regression once
#   run.sh fuzz TARGET CORPUS REGRESSIONS WORK SECONDS     fuzz a copy of the seeds for SECONDS
#
# The source tree is never written: fuzzing grows WORK/corpus, a copy of CORPUS, and saves any
# crash as WORK/artifacts/crash-*. Extra libFuzzer options can be given in BWV_FUZZ_FLAGS.
# Exit status: the target's (0 when nothing was found).
set -euo pipefail

mode=${1:?mode}
target=${2:?target}
corpus=${3:?corpus}
regressions=${4:?regressions}
work=${5:?work}
name=$(basename -- "$target")

rm -rf -- "$work"
mkdir -p -- "$work/artifacts"
# The targets that read files make them in a scratch directory of their own under TMPDIR: here on
# tmpfs when there is one (a few times faster than a disk), removed at the end, crash or not.
scratch=$(mktemp -d /dev/shm/bwv-fuzz.XXXXXX 2>/dev/null) || scratch=$(mktemp -d "$work/scratch.XXXXXX")
trap 'rm -rf -- "$scratch"' EXIT
export TMPDIR=$scratch
# Leaks are failures; a crash's report names the source line.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Slow inputs (a hang) fail after 10 s; memory is bounded below libFuzzer's 2 GB default, as the
# parsers bound what they read.
common=(-timeout=10 -rss_limit_mb=1024 -artifact_prefix="$work/artifacts/")

case $mode in
inputs)
  mapfile -t inputs < <(find "$corpus" "$regressions" -type f ! -name '.*' 2>/dev/null | LC_ALL=C sort)
  if ((${#inputs[@]} == 0)); then
    echo "$name: error: no inputs in $corpus" >&2
    exit 1
  fi
  # Files given by name are each run once, and nothing is written beside them.
  rc=0
  # shellcheck disable=SC2086
  "$target" "${common[@]}" ${BWV_FUZZ_FLAGS:-} "${inputs[@]}" >"$work/log" 2>&1 || rc=$?
  if ((rc != 0)); then
    tail -n 60 -- "$work/log" >&2
    echo "$name: an input fails (exit $rc)" >&2
    exit "$rc"
  fi
  echo "$name: ${#inputs[@]} inputs passed"
  exit 0
  ;;
fuzz)
  seconds=${6:?seconds}
  mkdir -p -- "$work/corpus"
  cp -- "$corpus"/* "$work/corpus/"
  dirs=("$work/corpus")
  # The regressions are read as seeds too (libFuzzer writes only to the first directory), cut to
  # the length of the longest seed (at least 4096, libFuzzer's default): a regression may be
  # large, and fuzzing at its length would be slow.
  [[ -d $regressions ]] && [[ -n $(ls -A -- "$regressions") ]] && dirs+=("$regressions")
  max_len=$(find "$corpus" -type f -printf '%s\n' | sort -n | tail -n 1)
  ((max_len < 4096)) && max_len=4096
  rc=0
  # shellcheck disable=SC2086
  "$target" "${common[@]}" -max_len="$max_len" -max_total_time="$seconds" -print_final_stats=1 ${BWV_FUZZ_FLAGS:-} \
    "${dirs[@]}" >"$work/log" 2>&1 || rc=$?
  if ((rc != 0)); then
    tail -n 60 -- "$work/log" >&2
    echo "$name: crash or failure (exit $rc); the input is in $work/artifacts/ (keep it in tests/fuzz/regressions/)" >&2
    exit "$rc"
  fi
  grep -E '^#[0-9]+[[:space:]]+DONE' -- "$work/log" | tail -n 1
  exit 0
  ;;
*)
  echo "run.sh: unknown mode $mode" >&2
  exit 2
  ;;
esac
