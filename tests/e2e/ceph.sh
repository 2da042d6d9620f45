#!/usr/bin/env bash
# Many dock hosts, one store on CephFS: a real one-machine Ceph cluster (scripts/ceph-cluster)
# mounted twice with ceph-fuse, each mount standing for a dock host with its own identity
# (BWV_HOST=dock-a on mount A, dock-b on mount B). Two hosts pull different cameras at once, the
# same camera at once, pull while the other host runs bwv-retain, and complete a pull the other
# host was killed in. Skipped (exit 77, the reason printed) only when this machine cannot run the
# cluster: not root, no /dev/fuse, no right to mount, no packages.
#
# Environment: BWV_CRASH_RUNS (kills of a pull on one host completed by the other; default 8),
# BWV_STRESS_ROUNDS (rounds of two hosts pulling at once; default 3).
. "$(dirname "$0")/lib.sh"
. "$BWV_SOURCE/tests/fault/crash-lib.sh"

runs=${BWV_CRASH_RUNS:-8}
rounds=${BWV_STRESS_ROUNDS:-3}

cluster=$TEST_DIR/ceph
rc=0
# Down before the scratch directory goes, however the suite ends (a kill -9 of it is the
# watchdog's: see scripts/ceph-cluster).
trap '"$BWV_SOURCE/scripts/ceph-cluster" down "$cluster"; rm -rf "$TEST_DIR"' EXIT
BWV_CEPH_WATCH_PID=$$ "$BWV_SOURCE/scripts/ceph-cluster" up "$cluster" >cluster-up.out 2>cluster-up.err || rc=$?
if ((rc == 3)); then
  echo "skip: the Ceph cluster cannot run here: $(tail -n 1 cluster-up.err)"
  exit 77
elif ((rc != 0)); then
  echo "not ok - the Ceph cluster came up (scripts/ceph-cluster exited $rc)"
  sed 's/^/#   /' cluster-up.err
  tail -n 20 "$cluster"/log/*.log 2>/dev/null | sed 's/^/#   /'
  exit 1
fi
. "$cluster/env"
A=$BWV_CEPH_MNT_A/S
B=$BWV_CEPH_MNT_B/S
# Recording days relative to today: the clips stay inside their 31 days whenever this runs, and
# none is ahead of the clock.
for n in 1 2 3 4 5; do
  eval "D$n=$(date -u -d "$n days ago" +%Y-%m-%d) I$n=$(date -u -d "$n days ago" +%Y%m%d)"
done
on_a() { BWV_HOST=dock-a "$@"; }
on_b() { BWV_HOST=dock-b "$@"; }

# One clip's file on a camera, or in the store, is looked up through either mount.
stored_ids() { bwv-ls --store "$1" | sort; }

# Every receipt on camera CAM names a clip stored in the store (looked up through mount B: a
# receipt must never run ahead of what the other host sees).
receipts_stored() { # receipts_stored CAM
  local r id
  for r in "$1"/receipts/*.receipt; do
    [ -e "$r" ] || continue
    id=$(basename "$r" .receipt)
    [ -e "$(clip_path "$B" "$id")/manifest.json" ] || { echo "receipt without stored clip: $id"; return 1; }
  done
}

# One ingest (or derivative) entry per clip across every host's custody log.
one_ingest_each() { # one_ingest_each STORE EXPECTED_COUNT
  bwv-log --store "$1" --json | python3 -c "
import json, sys, collections
n = collections.Counter(e['clip'] for e in map(json.loads, sys.stdin) if e['action'] == 'ingest')
assert len(n) == $2 and set(n.values()) == {1}, (len(n), n.most_common(3))
"
}

test_expect_success 'setup: a store on the CephFS, made on host A, seen from host B' '
  on_a bwv-init --store "$A" --organisation "Test Constabulary" &&
  for d in 1 2 3 4 5 6; do on_a setup_device "$A" CAM0$d || exit 1; done &&
  test "$(bwv-key --store "$B" list | grep -c CAM0)" -eq 6 &&
  test -e "$B/bwv-store"
'

# Round n records three clips on each of four cameras.
record_round() { # record_round N
  local n=$1 d i
  for d in 1 2 3 4; do
    for i in 1 2 3; do head -c $((300000 + n * 1000 + d * 10 + i)) /dev/urandom >v$d$i.bin; done
    RECORD_START=$(date -u -d "$D5 0$n:00:00" +%Y-%m-%dT%H:%M:%SZ) \
      record_clips "$A" cam$d CAM0$d v${d}1.bin v${d}2.bin v${d}3.bin >>recorded || return 1
    rm -f v$d?.bin
  done
}

test_expect_success "two hosts pull different cameras into the store at once, $rounds rounds" '
  for n in $(seq 1 '"$rounds"'); do
    record_round $n || exit 1
    on_a bwv-pull --store "$A" cam1 cam2 >>out-a 2>>err-a &
    a=$!
    on_b bwv-pull --store "$B" cam3 cam4 >>out-b 2>>err-b &
    b=$!
    { wait $a && wait $b; } || exit 1
  done &&
  cat err-a err-b >errs && test ! -s errs &&
  sort out-a out-b >pulled && sort recorded >expect && test_cmp expect pulled &&
  grep -q CAM01 out-a && ! grep -q CAM03 out-a && grep -q CAM03 out-b && ! grep -q CAM01 out-b
'

test_expect_success 'every clip stored once, every receipt matches a clip, both hosts see the same store' '
  stored_ids "$A" >stored-a && stored_ids "$B" >stored-b &&
  test_cmp expect stored-a && test_cmp expect stored-b &&
  for d in 1 2 3 4; do
    test "$(ls cam$d/receipts/*.receipt | wc -l)" -eq $((3 * '"$rounds"')) && receipts_stored cam$d || exit 1
  done &&
  one_ingest_each "$A" $((12 * '"$rounds"'))
'

test_expect_success 'custody is one log per host, and bwv-log and bwv-verify read them as one history' '
  ls "$B/custody" >logs && printf "dock-a.jsonl\ndock-b.jsonl\n" >want && test_cmp want logs &&
  bwv-log --store "$A" >log-a && bwv-log --store "$B" >log-b && test_cmp log-a log-b &&
  grep -q " dock-a .* ingest $I5-CAM01-" log-a && grep -q " dock-b .* ingest $I5-CAM03-" log-a &&
  on_a bwv-verify --store "$A" && on_b bwv-verify --store "$B"
'

test_expect_success 'the receipts are signed by the store and let each camera delete what was stored' '
  for d in 1 2 3 4; do bwv-fakecam collect --camera cam$d --store-pub "$B/keys/store.pub" >>collected || exit 1; done &&
  sort collected >deleted && test_cmp expect deleted &&
  test -z "$(find cam1/clips cam2/clips cam3/clips cam4/clips -type f)"
'

test_expect_success 'no global lock on ingest: host B pulls while host A is stopped in the middle of a pull' '
  # A camera large enough (24 clips, 96 MB) that host A is still staging when stopped.
  for i in $(seq 24); do head -c $((4000000 + i)) /dev/urandom >w$i.bin; done &&
  RECORD_START=${D4}T08:00:00Z record_clips "$A" cam5 CAM05 $(seq -f w%g.bin 24) >rec5 &&
  RECORD_START=${D4}T08:00:00Z record_clips "$A" cam6 CAM06 w1.bin w2.bin >rec6 &&
  rm -f w*.bin || exit 1
  BWV_HOST=dock-a bwv-pull --store "$A" cam5 >out5 2>err5 &
  pid=$! &&
  # Stopped as soon as it has staged something: it holds the store lock (shared), the device
  # lock of CAM05, and maybe its custody log.
  for t in $(seq 400); do ls "$A/tmp" | grep -q "^dock-a@" && break; sleep 0.02; done &&
  # Resumed whatever happens below: a pull left stopped would hold CAM05 and the mount.
  trap "kill -CONT $pid 2>/dev/null || true" EXIT &&
  kill -STOP $pid &&
  ls "$A/tmp" | grep -q "^dock-a@" &&
  timeout 60 env BWV_HOST=dock-b bwv-pull --store "$B" --wait 0 cam6 >out6 &&
  # Host A was stopped all along, and resumes to finish its own pull.
  test "$(ps -o stat= -p $pid | cut -c1)" = T &&
  kill -CONT $pid && wait $pid &&
  sort rec6 >want6 && sort out6 >got6 && test_cmp want6 got6 &&
  sort rec5 >want5 && sort out5 >got5 && test_cmp want5 got5
'

test_expect_success 'the same camera docked on two hosts at once: one host ingests each clip, the other skips it' '
  : >both &&
  for n in 1 2 3; do
    for i in 1 2 3 4; do head -c $((1500000 + n * 100 + i)) /dev/urandom >u$i.bin; done &&
    RECORD_START=${D3}T0$n:00:00Z record_clips "$A" cam5 CAM05 u1.bin u2.bin u3.bin u4.bin >>rec-both || exit 1
    on_a bwv-pull --store "$A" cam5 >both-a.$n 2>>both-err &
    a=$!
    on_b bwv-pull --store "$B" cam5 >both-b.$n 2>>both-err &
    b=$!
    { wait $a && wait $b; } || exit 1
    cat both-a.$n both-b.$n >>both
  done &&
  test ! -s both-err &&
  sort both >got && sort rec-both >want && test_cmp want got &&
  test "$(sort both | uniq -d | wc -l)" -eq 0 &&
  receipts_stored cam5 &&
  test "$(ls cam5/receipts/$I3-*.receipt | wc -l)" -eq 12 &&
  cat rec5 rec6 rec-both >>expect &&
  stored_ids "$B" >stored && sort expect >want-all && test_cmp want-all stored &&
  one_ingest_each "$B" "$(wc -l <want-all)" &&
  on_b bwv-verify --store "$B"
'

test_expect_success 'bwv-retain on host A while host B pulls: expired clips go whole, new ones come whole' '
  # Clips recorded 60 days ago on camera 1, pulled: unflagged, their 31 days are over.
  for i in 1 2 3 4 5 6; do head -c $((200000 + i)) /dev/urandom >o$i.bin; done &&
  RECORD_START=$(date -u -d "60 days ago" +%Y-%m-%dT%H:%M:%SZ) \
    record_clips "$A" cam1 CAM01 o1.bin o2.bin o3.bin o4.bin o5.bin o6.bin >old &&
  on_a bwv-pull --store "$A" cam1 >/dev/null &&
  for i in 1 2 3 4; do head -c $((2000000 + i)) /dev/urandom >n$i.bin; done &&
  RECORD_START=${D2}T10:00:00Z record_clips "$A" cam2 CAM02 n1.bin n2.bin n3.bin n4.bin >new || exit 1
  # (Each command its own line: "a && b &" would put a in the background too.)
  on_b bwv-pull --store "$B" cam2 >new-out 2>new-err &
  b=$!
  on_a bwv-retain --store "$A" >deleted-now 2>retain-err &
  a=$!
  { wait $a && wait $b; } || exit 1
  test ! -s new-err && test ! -s retain-err &&
  sort old >want && sort deleted-now >got && test_cmp want got &&
  sort new >want && sort new-out >got && test_cmp want got &&
  for id in $(cat old); do
    test -e "$(clip_path "$B" "$id")/deleted.json" && test ! -e "$(clip_path "$B" "$id")/video.mp4" || exit 1
  done &&
  on_a bwv-verify --store "$A" && on_b bwv-verify --store "$B" &&
  on_b bwv-retain --store "$B" >again && test ! -s again
'

test_expect_success 'setup: the time a pull of three 4 MB clips takes on the CephFS' '
  for i in 1 2 3; do head -c $((4000000 + i)) /dev/urandom >k$i.bin; done &&
  RECORD_START=${D2}T11:00:00Z record_clips "$A" cam3 CAM03 k1.bin k2.bin k3.bin >>killed-recorded &&
  crash_window_ms env BWV_HOST=dock-a bwv-pull --store "$A" cam3 >window-ms &&
  test "$(ls cam3/receipts/$I2-*.receipt | wc -l)" -eq 3
'

test_expect_success "kill -9 a pull on host A at random moments, $runs times; host B's re-run completes it" '
  : >interrupted &&
  for n in $(seq 1 $((4 * '"$runs"'))); do
    if [ "$(wc -l <crash-kills)" -ge '"$runs"' ]; then break; fi
    for i in 1 2 3; do head -c $((4000000 + n * 10 + i)) /dev/urandom >k$i.bin; done
    RECORD_START=$(date -u -d "$D1 00:00:00 $n minutes" +%Y-%m-%dT%H:%M:%SZ) \
      record_clips "$A" cam3 CAM03 k1.bin k2.bin k3.bin >>killed-recorded || exit 1
    BWV_HOST=dock-a bwv-pull --store "$A" cam3 >/dev/null 2>>kill-errors &
    crash_kill_at_random $! window-ms || continue
    receipts_stored cam3 || { crash_fail "run $n: a receipt without its clip"; exit 1; }
    for c in cam3/clips/*.json; do
      [ -e "$c" ] || continue
      [ -e cam3/receipts/$(basename $c .json).receipt ] || { echo $n >>interrupted; break; }
    done
    on_b bwv-pull --store "$B" cam3 >/dev/null 2>>rerun-errors || { crash_fail "run $n: the re-run on host B failed"; exit 1; }
    for c in cam3/clips/*.json; do
      [ -e cam3/receipts/$(basename $c .json).receipt ] || { crash_fail "run $n: $c left unreceipted"; exit 1; }
    done
  done &&
  cp interrupted crash-reruns && crash_summary "bwv-pull (ceph, re-run on the other host)" "$n" &&
  test ! -s rerun-errors &&
  test "$(wc -l <crash-kills)" -ge '"$runs"' &&
  echo "$(wc -l <interrupted) of $(wc -l <crash-kills) kills interrupted a pull"
'

crash_print_summary

test_expect_success 'after the kills: every clip once, one ingest each, the store verifies from both hosts' '
  sort killed-recorded >want && stored_ids "$B" | grep -v "^$I5-" | grep CAM03 >got && test_cmp want got &&
  test "$(ls cam3/receipts/*.receipt | wc -l)" -eq "$(wc -l <want)" &&
  bwv-log --store "$A" --json | python3 -c "
import json, sys, collections
n = collections.Counter(e[\"clip\"] for e in map(json.loads, sys.stdin) if e[\"action\"] == \"ingest\" and \"CAM03\" in e[\"clip\"] and not e[\"clip\"].startswith(\"$I5-\"))
assert sorted(n) == sorted(open(\"want\").read().split()) and set(n.values()) == {1}, n
" &&
  on_a bwv-verify --store "$A" && on_b bwv-verify --store "$B"
'

test_expect_success "a killed host's staging stays until that host pulls again, which removes it" '
  # One more pull on host A, killed once it has staged something (the kills above may all have
  # landed elsewhere).
  for i in 1 2 3; do head -c $((4000000 + i)) /dev/urandom >k$i.bin; done &&
  RECORD_START=${D1}T12:00:00Z record_clips "$A" cam3 CAM03 k1.bin k2.bin k3.bin >/dev/null || exit 1
  BWV_HOST=dock-a bwv-pull --store "$A" cam3 >/dev/null 2>&1 &
  pid=$!
  for t in $(seq 400); do ls "$A/tmp" | grep -q "^dock-a@" && break; sleep 0.02; done
  kill -9 $pid; wait $pid
  ls "$A/tmp" | grep -q "^dock-a@" &&
  for c in cam1 cam2 cam3 cam4 cam5 cam6; do on_b bwv-pull --store "$B" $c >/dev/null || exit 1; done &&
  test -z "$(ls "$B/tmp" | grep -v "^dock-a@")" &&
  on_a bwv-pull --store "$A" cam3 >/dev/null &&
  test -z "$(ls "$A/tmp")"
'

test_expect_success 'the store is exactly what a local copy of it verifies as' '
  cp -a "$B" local-copy && BWV_HOST=testhost bwv-verify --store local-copy &&
  diff -r "$A" local-copy >/dev/null
'

test_done
