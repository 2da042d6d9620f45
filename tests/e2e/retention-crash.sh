#!/usr/bin/env bash
# bwv-retain killed with SIGKILL at random moments while bwv-pull ingests another camera at the
# same time, until BWV_CRASH_RUNS kills (default 10) reached it running: each run on a clock
# (faketime) a little later than the last, so that each has its own slice of clips to delete and a
# kill lands in real work. Nothing is lost, nothing is half-deleted, every deletion is recorded
# exactly once, and the store verifies.
. "$(dirname "$0")/lib.sh"
. "$BWV_SOURCE/tests/fault/crash-lib.sh"
test -n "$crash_libfaketime" || { echo "libfaketime is missing (scripts/install-deps installs faketime)"; exit 1; }

runs=${BWV_CRASH_RUNS:-10}
nold=$((runs * 12 > 120 ? runs * 12 : 120))
# at_epoch T CMD...: CMD on a clock that reads T (seconds since the epoch) as it starts.
at_epoch() { local t=$1; shift; faketime -f "+$((t - $(date -u +%s)))" "$@"; }

# Old clip i (from 0) starts at setup - 1 day + 10 i s, so its retention (31 days) ends at
# setup + 30 days + 10 i s. Run n (n <= 2 runs) runs at cut(n), when the first n/(2 runs) of them
# have expired; later runs (on until $runs kills landed) and the last one at later times still.
cut() {
  local n=$1 t0
  t0=$(cat setup-time)
  if [ "$n" -le $((2 * runs)) ]; then echo $((t0 + 30 * 86400 + 10 * (n * nold / (2 * runs)) - 5)); else echo $((t0 + 30 * 86400 + 10 * nold + 5 * n)); fi
}

test_expect_success "setup: $nold expired-to-be clips, and a second camera to pull meanwhile" '
  setup_store S && setup_device S CAM02 &&
  date -u +%s >setup-time &&
  for i in $(seq 1 '"$nold"'); do head -c $((20000 + i)) /dev/urandom >v$i.bin; done &&
  RECORD_START=$(date -u -d "@$(($(cat setup-time) - 86400))" +%Y-%m-%dT%H:%M:%SZ) RECORD_FLAGS="--duration 5 --gap 5" \
    record_clips S cam CAM01 $(for i in $(seq 1 '"$nold"'); do echo v$i.bin; done) >old &&
  bwv-pull --store S cam >/dev/null &&
  for i in $(seq 1 40); do head -c 300000 /dev/urandom >w$i.bin; done &&
  record_clips S cam2 CAM02 $(for i in $(seq 1 40); do echo w$i.bin; done) >new &&
  cp -a S timing && crash_window_ms at_epoch $(cut $((4 * runs))) bwv-retain --store timing >window-ms &&
  test -z "$(find timing/clips -name video.mp4 | head -1)" && rm -rf timing &&
  echo "a run deleting all $nold takes $(cat window-ms) ms"
'

test_expect_success "kill -9 bwv-retain at random moments, $runs times, while a pull runs" '
  # (Its status in a file: after a hundred other jobs, bash may no longer hold it for "wait PID".)
  { rc=0; bwv-pull --store S --wait 60 cam2 >pulled 2>pull-err || rc=$?; echo $rc >pull-rc; } &
  # On until $runs kills reached a running bwv-retain (at most 4 x $runs runs): on a loaded
  # machine the window a kill has to land in moves, and a run that finished first proves nothing.
  for n in $(seq 1 $(('"$runs"' * 4))); do
    if test "$(wc -l <crash-kills)" -ge '"$runs"'; then n=$((n - 1)); break; fi
    env LD_PRELOAD="$crash_libfaketime" FAKETIME="+$(($(cut $n) - $(date -u +%s)))" \
      bwv-retain --store S --wait 5 >>deleted 2>>retain-err &
    crash_kill_at_random $! window-ms || true
    # Never half-deleted: a clip without its video has its tombstone.
    for id in $(cat old); do
      d=$(clip_path S $id)
      test -e $d/video.mp4 || test -s $d/deleted.json || { crash_fail "video gone without tombstone: $id"; exit 1; }
    done
    # A deletion begun and not finished keeps its expiry entry: the next run completes it.
    for e in $(find S/expiry -type f); do
      if test -e $(clip_path S ${e##*/})/deleted.json; then echo $n >>crash-reruns; break; fi
    done
  done &&
  while [ ! -e pull-rc ]; do sleep 0.1; done &&
  { test "$(cat pull-rc)" = 0 || { echo "bwv-pull failed:"; cat pull-err; false; }; } &&
  { test ! -s pull-err || { echo "bwv-pull complained:"; cat pull-err; false; }; } &&
  { ! grep -v "locked" retain-err || { echo "^ bwv-retain errors"; false; }; } &&
  crash_summary bwv-retain $n &&
  { test "$(wc -l <crash-kills)" -ge '"$runs"' || { echo "only $(wc -l <crash-kills) runs interrupted"; false; }; }
'

crash_print_summary

test_expect_success 'a last run completes the work' '
  at_epoch $(cut $((4 * runs + 1))) bwv-retain --store S >>deleted
'

test_expect_success 'every old clip was deleted once, on record once; the new ones all came in' '
  for id in $(cat old); do d=$(clip_path S $id); test ! -e $d/video.mp4 && test -s $d/deleted.json && test -s $d/manifest.json || exit 1; done &&
  bwv-log --store S --json | python3 -c "
import json, sys, collections
n = collections.Counter(json.loads(l)[\"clip\"] for l in sys.stdin if json.loads(l)[\"action\"] == \"retain-delete\")
assert len(n) == '"$nold"' and set(n.values()) == {1}, n
" &&
  sort new >expect && sort pulled >got && test_cmp expect got &&
  for id in $(cat new); do test -s $(clip_path S $id)/video.mp4 || exit 1; done
'

test_expect_success 'the store verifies, and the expiry index holds only what is still kept' '
  bwv-verify --store S &&
  find S/expiry -type f ! -name ".*" | sed "s|.*/||" | sort >entries && test_cmp expect entries
'

# Temporary files of entry writes a kill cut short stay (readers skip them; nothing removes them).
echo "# temporary files left in expiry/ by the kills: $(find S/expiry -name ".*.tmp-*" | wc -l)"

test_done
