#!/usr/bin/env bash
# bwv-pull killed with SIGKILL at random moments, BWV_CRASH_RUNS times (default 20), re-run each time, while the camera
# records more and deletes what was receipted in between: at the end every clip is in the store
# exactly once, nothing was ever receipted that was not stored, and the store verifies.
. "$(dirname "$0")/lib.sh"
. "$BWV_SOURCE/tests/fault/crash-lib.sh"

runs=${BWV_CRASH_RUNS:-20}

# No receipt on the camera without its clip in the store and an ingest entry in custody.
check_receipts() {
  local r id
  for r in cam/receipts/*.receipt; do
    [ -e "$r" ] || continue
    id=$(basename "$r" .receipt)
    [ -e "$(clip_path S "$id")/manifest.json" ] || { echo "receipt without stored clip: $id"; return 1; }
    bwv-log --store S "$id" | grep -q " ingest $id " || { echo "receipt without custody: $id"; return 1; }
  done
}

# Three new clips on the camera, half an hour later each time (and all long past: a camera clock
# ahead of the host's is a problem of its own).
record_more() { # record_more N
  local n=$1 i
  for i in $((3 * n - 2)) $((3 * n - 1)) $((3 * n)); do head -c $((4000000 + i * 7919)) /dev/urandom >v$i.bin; done
  RECORD_START=$(date -u -d "@$(($(cat t0) - 60 * 86400 + n * 1800))" +%Y-%m-%dT%H:%M:%SZ) \
    record_clips S cam CAM01 v$((3 * n - 2)).bin v$((3 * n - 1)).bin v$((3 * n)).bin >>recorded
  rm -f v$((3 * n - 2)).bin v$((3 * n - 1)).bin v$((3 * n)).bin
}

test_expect_success 'setup: a store, and the time a pull of three clips takes here' '
  setup_store S && date -u +%s >t0 &&
  for i in 1 2 3; do head -c $((4000000 + i * 7919)) /dev/urandom >v$i.bin; done &&
  mkdir timing && cp -a S timing/S &&
  RECORD_START=2026-12-01T00:00:00Z bwv-fakecam record --camera timing/cam --device CAM01 \
    --key keys-CAM01/device.key --seal S/keys/seal.pub --state timing/state v1.bin v2.bin v3.bin >/dev/null &&
  t0=$(date +%s%N) && bwv-pull --store timing/S timing/cam >/dev/null && t1=$(date +%s%N) &&
  echo $(( (t1 - t0) / 1000000 + 2 )) >window-ms && rm -rf timing v1.bin v2.bin v3.bin
'

test_expect_success "kill -9 bwv-pull at random moments, $runs times" '
  : >interrupted &&
  # On until $runs kills reached a running pull (at most 4 x $runs runs).
  for n in $(seq 1 $((4 * '"$runs"'))); do
    if [ "$(wc -l <crash-kills)" -ge '"$runs"' ]; then break; fi
    record_more $n
    bwv-pull --store S cam >/dev/null 2>>pull-errors &
    pid=$!
    window=$(cat window-ms)
    ms=$((RANDOM % window))
    sleep "$((ms / 1000)).$(printf "%03d" $((ms % 1000)))"
    # The window follows the machine: narrower when the pull had already finished, wider when
    # the kill landed in the middle of it.
    if kill -9 $pid 2>/dev/null; then echo $((window * 5 / 4 + 1)) >window-ms; echo $ms >>crash-kills; else echo $((window * 2 / 3 + 1)) >window-ms; fi
    wait $pid 2>/dev/null || true
    # (In a loop that is part of an && list, set -e does not apply: each check must say so.)
    check_receipts || { crash_fail "run $n: a receipt without its clip"; exit 1; }
    # A kill that interrupted work leaves a clip on the camera without a receipt.
    for c in cam/clips/*.json; do
      [ -e "$c" ] || continue
      [ -e cam/receipts/$(basename $c .json).receipt ] || { echo $n >>interrupted; break; }
    done
    if [ $((n % 4)) -eq 0 ]; then bwv-fakecam collect --camera cam --store-pub S/keys/store.pub >>collected; fi
  done &&
  { ! grep -v "^$" pull-errors || { cat pull-errors; false; }; } &&
  cp interrupted crash-reruns && crash_summary bwv-pull $(($(wc -l <recorded) / 3)) &&
  echo "$(wc -l <interrupted) of $(wc -l <crash-kills) kills interrupted a pull" &&
  test "$(wc -l <crash-kills)" -ge '"$runs"' &&
  test "$(wc -l <interrupted)" -ge $(('"$runs"' / 5))
'

crash_print_summary

test_expect_success 'a last run completes the work' '
  bwv-pull --store S cam >/dev/null &&
  bwv-fakecam collect --camera cam --store-pub S/keys/store.pub >>collected &&
  test -z "$(ls cam/clips)"
'

test_expect_success 'every clip is in the store exactly once' '
  sort recorded >expect &&
  bwv-ls --store S | sort >actual &&
  test_cmp expect actual &&
  test "$(ls S/index/CAM01 | wc -l)" -eq "$(wc -l <recorded)"
'

test_expect_success 'the camera deleted each clip once, and custody has one ingest each' '
  sort collected >deleted && test_cmp expect deleted &&
  bwv-log --store S --json | python3 -c "
import json, sys, collections
n = collections.Counter(json.loads(l)[\"clip\"] for l in sys.stdin if json.loads(l)[\"action\"] == \"ingest\")
assert len(n) == '"$(wc -l <recorded)"' and set(n.values()) == {1}, n
"
'

test_expect_success 'the store verifies and no staging is left behind' '
  bwv-verify --store S &&
  test -z "$(ls S/tmp)"
'

test_done
