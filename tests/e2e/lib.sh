# Shell test harness for bwv's end-to-end suites, after git's t/test-lib.sh:
#   test_expect_success 'title' 'commands'   commands run in a subshell with set -e
#   test_must_fail [--code N] cmd...         cmd must exit non-zero (exactly N if given), not crash
#   test_cmp expect actual                   files must be equal (diff shown when not)
#   test_done                                prints "N passed, N failed" and sets the exit status
# Each suite runs in its own scratch directory; the build is found through BWV_BUILD.
set -u

BWV_BUILD=${BWV_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../build" && pwd)}
BWV_SOURCE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PATH="$BWV_BUILD/cmd:$BWV_BUILD/tests/tools:$PATH"
export BWV_HOST=testhost
unset BWV_STORE

# libfaketime keeps a semaphore and a shared memory object in /dev/shm named by its pid, removed at
# exit: a killed one leaves them, and a later faketime(1) that gets the same pid fails on them
# ("sem_open: File exists"). Those of pids no longer running go before each suite.
for stale in /dev/shm/sem.faketime_sem_* /dev/shm/faketime_shm_*; do
  [ -e "$stale" ] && [ ! -d "/proc/${stale##*_}" ] && rm -f -- "$stale"
done
unset stale

TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/bwv-e2e.XXXXXX")
trap 'rm -rf "$TEST_DIR"' EXIT
cd "$TEST_DIR" || exit 1

test_passed=0
test_failed=0

test_expect_success() {
  local title=$1 body=$2 out
  if out=$( (set -e; eval "$body") 2>&1); then
    test_passed=$((test_passed + 1))
    echo "ok - $title"
  else
    test_failed=$((test_failed + 1))
    echo "not ok - $title"
    printf '%s\n' "$out" | sed 's/^/#   /' | tail -n 40
  fi
}

test_must_fail() {
  local want=""
  if [ "$1" = "--code" ]; then want=$2; shift 2; fi
  local rc=0
  "$@" || rc=$?
  if [ $rc -eq 0 ]; then echo "test_must_fail: '$*' succeeded" >&2; return 1; fi
  if [ $rc -gt 128 ]; then echo "test_must_fail: '$*' died by signal $((rc - 128))" >&2; return 1; fi
  if [ -n "$want" ] && [ "$rc" -ne "$want" ]; then
    echo "test_must_fail: '$*' exited $rc, expected $want" >&2; return 1
  fi
  return 0
}

test_cmp() { diff -u "$1" "$2"; }

# The stderr of a failing command must be exactly one line of the form "bwv-X: error: ...".
test_one_error_line() {
  local file=$1 cmd=$2
  [ "$(wc -l <"$file")" -eq 1 ] || { echo "expected one line on stderr, got:"; cat "$file"; return 1; }
  grep -q "^$cmd: error: " "$file" || { echo "not an error line:"; cat "$file"; return 1; }
}

test_done() {
  echo "$test_passed passed, $test_failed failed"
  [ $test_failed -eq 0 ]
  exit $?
}

# --- fixtures -------------------------------------------------------------------------------

# MP4s made with the encoder settings of the brief, cached across suites in the build tree.
make_mp4() { # make_mp4 OUT SECONDS
  local out=$1 secs=$2 cache="$BWV_BUILD/tests/cache" key
  key="clip-${secs}s.mp4"
  mkdir -p "$cache"
  if [ ! -s "$cache/$key" ]; then
    ffmpeg -nostdin -hide_banner -loglevel error -f lavfi -i "testsrc2=size=320x240:rate=30" \
      -f lavfi -i "sine=frequency=440:sample_rate=48000" -t "$secs" \
      -c:v libx264 -preset veryfast -g 30 -keyint_min 30 -sc_threshold 0 -bf 0 \
      -x264-params repeat-headers=1 -pix_fmt yuv420p -c:a aac -b:a 64k \
      -movflags +frag_keyframe+empty_moov+default_base_moof -map_metadata -1 \
      -y "$cache/$key.$$.tmp.mp4" && mv "$cache/$key.$$.tmp.mp4" "$cache/$key"
  fi
  cp "$cache/$key" "$out"
}

# A store with device CAM01 trusted.
setup_store() { # setup_store STORE [DEVICE]
  local store=$1 dev=${2:-CAM01}
  bwv-init --store "$store" --organisation "Test Constabulary" &&
    setup_device "$store" "$dev"
}

setup_device() { # setup_device STORE DEVICE
  local store=$1 dev=$2
  mkdir -p "keys-$dev" &&
    bwv-fakecam keygen --device "$dev" --key "keys-$dev/device.key" --pub "keys-$dev/device.pub" &&
    bwv-key --store "$store" trust --device "$dev" --reason "test fixture" "keys-$dev/device.pub"
}

# Records clips onto a camera: record_clips STORE CAMERA DEVICE FILE... (extra flags via RECORD_FLAGS)
record_clips() {
  local store=$1 cam=$2 dev=$3
  shift 3
  # shellcheck disable=SC2086
  bwv-fakecam record --camera "$cam" --device "$dev" --officer PC1234 --key "keys-$dev/device.key" \
    --seal "$store/keys/seal.pub" --state "keys-$dev/state.json" --start "${RECORD_START:-2026-11-24T09:00:00Z}" \
    ${RECORD_FLAGS:-} "$@"
}

# Every file of a tree with its SHA-256 and mode: equal before and after means unchanged.
tree_state() { (cd "$1" && find . -type f -o -type l -o -type d | LC_ALL=C sort | while read -r f; do
  if [ -f "$f" ] && [ ! -L "$f" ]; then echo "$(stat -c %a "$f") $(sha256sum <"$f" | cut -c1-64) $f"; else echo "$(stat -c %F "$f") $f"; fi
done); }

clip_path() { # clip_path STORE ID
  local id=$2
  echo "$1/clips/${id:0:4}/${id:4:2}/${id:6:2}/$id"
}

# jget FILE KEY...: a JSON value (strings bare, anything else as JSON); integer keys index lists.
jget() {
  python3 -c 'import json,sys
v=json.load(open(sys.argv[1]))
for k in sys.argv[2:]: v=v[int(k)] if isinstance(v,list) else v[k]
print(v if isinstance(v,str) else json.dumps(v))' "$@"
}

sha() { sha256sum <"$1" | cut -c1-64; } # sha FILE: its SHA-256 in hex

# small_camd_config STORE DEVICE: a bwv-camd configuration on stdout for a camera provisioned for
# STORE: 320x240 at 10 fps with sound, no pre-event buffer.
small_camd_config() {
  printf '{"device":"%s","officer":"PC7","seal_pub":"%s","store_pub":"%s","pre_event_seconds":0,"audio":true,"video":{"width":320,"height":240,"fps":10,"bitrate_kbps":400,"preset":"ultrafast"}}\n' \
    "$2" "$(cd "$1" && pwd)/keys/seal.pub" "$(cd "$1" && pwd)/keys/store.pub"
}
