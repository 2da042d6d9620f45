#!/usr/bin/env bash
# bwv-retain killed with SIGKILL at random moments while bwv-pull ingests another camera at the
# same time: nothing is lost, nothing is half-deleted, every deletion is recorded exactly once,
# and the store verifies.
. "$(dirname "$0")/lib.sh"

runs=${BWV_CRASH_RUNS:-10}
at() { local offset=$1; shift; faketime -f "$offset" "$@"; }

test_expect_success 'setup: 120 expired-to-be clips, and a second camera to pull meanwhile' '
  setup_store S && setup_device S CAM02 &&
  for i in $(seq 1 120); do head -c $((20000 + i)) /dev/urandom >v$i.bin; done &&
  RECORD_START=$(date -u +%Y-%m-%dT%H:%M:%SZ) RECORD_FLAGS="--duration 5 --gap 5" \
    record_clips S cam CAM01 $(for i in $(seq 1 120); do echo v$i.bin; done) >old &&
  bwv-pull --store S cam >/dev/null &&
  for i in $(seq 1 40); do head -c 300000 /dev/urandom >w$i.bin; done &&
  RECORD_START=$(date -u -d "+31 days" +%Y-%m-%dT%H:%M:%SZ) record_clips S cam2 CAM02 $(for i in $(seq 1 40); do echo w$i.bin; done) >new &&
  cp -a S timing && t0=$(date +%s%N) && at +32d bwv-retain --store timing >/dev/null && t1=$(date +%s%N) &&
  echo $(( (t1 - t0) / 1000000 + 2 )) >window-ms && rm -rf timing
'

test_expect_success "kill -9 bwv-retain at random moments, $runs times, while a pull runs" '
  at +32d bwv-pull --store S --wait 60 cam2 >pulled 2>pull-err &
  puller=$!
  # At least $runs runs, and on until two were killed mid-run: on a loaded machine the window
  # a kill has to land in moves, and a run that finished first proves nothing.
  for n in $(seq 1 $(('"$runs"' * 4))); do
    if test $n -gt '"$runs"' && test "$(cat interrupted 2>/dev/null | wc -l)" -ge 2; then break; fi
    at +32d bwv-retain --store S --wait 5 >>deleted 2>>retain-err &
    pid=$!
    window=$(cat window-ms); ms=$((RANDOM % window))
    sleep "$((ms / 1000)).$(printf "%03d" $((ms % 1000)))"
    if kill -9 $pid 2>/dev/null; then echo $((window * 5 / 4 + 1)) >window-ms; echo $n >>interrupted; else echo $((window * 2 / 3 + 1)) >window-ms; fi
    wait $pid 2>/dev/null || true
    # Never half-deleted: a clip without its video has its tombstone.
    for id in $(cat old); do
      d=$(clip_path S $id)
      test -e $d/video.mp4 || test -s $d/deleted.json || { echo "video gone without tombstone: $id"; exit 1; }
    done
  done &&
  { wait $puller || { echo "bwv-pull failed:"; cat pull-err; false; }; } &&
  { test ! -s pull-err || { echo "bwv-pull complained:"; cat pull-err; false; }; } &&
  { ! grep -v "locked" retain-err || { echo "^ bwv-retain errors"; false; }; } &&
  touch interrupted && { test "$(wc -l <interrupted)" -ge 2 || { echo "only $(wc -l <interrupted) runs interrupted"; false; }; }
'

test_expect_success 'a last run completes the work' '
  at +32d bwv-retain --store S >>deleted
'

test_expect_success 'every old clip was deleted once, on record once; the new ones all came in' '
  for id in $(cat old); do d=$(clip_path S $id); test ! -e $d/video.mp4 && test -s $d/deleted.json && test -s $d/manifest.json || exit 1; done &&
  bwv-log --store S --json | python3 -c "
import json, sys, collections
n = collections.Counter(json.loads(l)[\"clip\"] for l in sys.stdin if json.loads(l)[\"action\"] == \"retain-delete\")
assert len(n) == 120 and set(n.values()) == {1}, n
" &&
  sort new >expect && sort pulled >got && test_cmp expect got &&
  for id in $(cat new); do test -s $(clip_path S $id)/video.mp4 || exit 1; done
'

test_expect_success 'the store verifies, and the expiry index holds only what is still kept' '
  at +32d bwv-verify --store S &&
  find S/expiry -type f | sed "s|.*/||" | sort >entries && test_cmp expect entries
'

test_done
