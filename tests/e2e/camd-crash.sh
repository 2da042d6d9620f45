#!/usr/bin/env bash
# The camera daemon itself (bwv-camd sim, the real process, not the sim's power_cut) killed with
# SIGKILL at random moments of a run that records two activations, one split in three clips,
# BWV_CRASH_RUNS times (default 5); every third time its next boot is killed too, mid-recovery or
# docked. Each boot after a kill must recover: nothing set aside, tmp/ empty (a sealed file
# kept unvouched is counted), the dock's bwv-pull exits 0 and the camera deletes what it
# receipted. Every clip a log says was finished or recovered is in the store, a recovered one
# says so and plays; the device's chain has no gap and bwv-verify passes after every boot.
. "$(dirname "$0")/lib.sh"
. "$BWV_SOURCE/tests/fault/crash-lib.sh"
export PATH="$BWV_BUILD/firmware:$PATH"

runs=${BWV_CRASH_RUNS:-5}
START=2026-11-24T07:00:00Z

test_expect_success 'setup: a camera provisioned for the store, docked once; the time a run takes here' '
  bwv-init --store S >/dev/null &&
  printf "{\"device\":\"CAMK\",\"officer\":\"PC1\",\"seal_pub\":\"%s\",\"store_pub\":\"%s\",\"pre_event_seconds\":5,\"max_clip_seconds\":10,\"video\":{\"width\":160,\"height\":120,\"fps\":10,\"bitrate_kbps\":100,\"preset\":\"ultrafast\"}}\n" \
    "$TEST_DIR/S/keys/seal.pub" "$TEST_DIR/S/keys/store.pub" >camd.json &&
  printf "%s\n" "00:00:00 power_on" "+5 dock" >first.txt &&
  bwv-camd sim --storage cam --script first.txt --start $START --log first.log &&
  bwv-key --store S trust --device CAMK --reason test cam/device.pub >/dev/null &&
  # A run: two activations, the first split in three clips (max_clip_seconds 10).
  printf "%s\n" "00:00:00 power_on" "00:00:10 double_press" "+28 hold" "+3 trigger holster" "+8 hold" "+2 power_off" >run.txt &&
  printf "%s\n" "00:00:00 power_on" "+2 dock" "+70 undock" >boot.txt &&
  cp -a cam timing && cp -a cam.internal timing.internal &&
  crash_window_ms bwv-camd sim --storage timing --config camd.json --script run.txt --start $START >window-ms &&
  cp -a cam timing2 && cp -a cam.internal timing2.internal && cp -a S timingS &&
  bwv-camd sim --storage timing2 --config camd.json --script run.txt --start $START &&
  crash_window_ms bwv-camd sim --storage timing2 --config camd.json --script boot.txt --start $START \
    --on-dock "bwv-pull --store timingS --wait 60 timing2" >boot-window-ms &&
  test -z "$(ls timing2/clips)" &&
  rm -rf timing timing.internal timing2 timing2.internal timingS &&
  echo "a run takes $(cat window-ms) ms, a boot with its pull $(cat boot-window-ms) ms"
'

# boot N: boots the camera after run N, docked, and its dock host pulls.
boot() {
  bwv-camd sim --storage cam --config camd.json --script boot.txt --start $START --log boot$1.log \
    --on-dock "bwv-pull --store S --wait 60 cam >>pulled 2>>pull-err"
}

test_expect_success "kill -9 bwv-camd at random moments, $runs times; each boot recovers" '
  : >finished && : >unvouched
  # On until $runs kills reached a running bwv-camd (at most 4 x $runs runs).
  for n in $(seq 1 $((4 * '"$runs"'))); do
    if [ "$(wc -l <crash-kills)" -ge '"$runs"' ]; then n=$((n - 1)); break; fi
    bwv-camd sim --storage cam --config camd.json --script run.txt --start $START --log run$n.log 2>>camd-err &
    if crash_kill_at_random $! window-ms; then killed=1; else killed=0; fi
    sed -n "s/.* clip \([^ ]*\) finished: .*/\1/p" run$n.log >>finished 2>/dev/null || true
    if [ $killed = 1 ] && [ $((n % 3)) = 0 ]; then
      # (No dock host here: a pull it started would outlive the kill and race the next boot.)
      bwv-camd sim --storage cam --config camd.json --script boot.txt --start $START --log boot${n}killed.log 2>>camd-err &
      crash_kill_at_random $! boot-window-ms && echo "boot $n killed" >>boots-killed
      sed -n "s/.* recovery: \([^:]*\): recovered .*/\1/p" boot${n}killed.log >>finished 2>/dev/null || true
    fi
    boot $n 2>>camd-err || crash_fail "boot $n exited $?"
    [ $killed = 1 ] && grep -q " recovery: " boot$n.log && echo $n >>crash-reruns
    sed -n "s/.* recovery: \([^:]*\): recovered .*/\1/p" boot$n.log >>finished
    ! grep -q "set aside\|not adopted" boot$n.log boot${n}killed.log 2>/dev/null || crash_fail "boot $n: $(grep -h "set aside\|not adopted" boot$n*.log)"
    grep -q "dock host: .* exited 0$" boot$n.log || crash_fail "boot $n: $(grep "dock host" boot$n.log)"
    ls cam/tmp | { grep "\.unvouched$" || true; } >>unvouched
    test -z "$(ls cam/tmp | grep -v "\.unvouched$")" || crash_fail "boot $n: left in tmp/: $(ls cam/tmp)"
    test -z "$(ls cam/clips)" || crash_fail "boot $n: clips kept on the camera: $(ls cam/clips)"
    bwv-verify --store S 2>>verify-err || crash_fail "boot $n: bwv-verify"
  done
  crash_summary bwv-camd $n "boots-killed=$(cat boots-killed 2>/dev/null | wc -l) unvouched=$(wc -l <unvouched)"
  cat crash-summary
  test ! -s crash-failures && test ! -s verify-err && test ! -s pull-err &&
  { ! grep -v "^$" camd-err || { echo "^ bwv-camd errors"; false; }; } &&
  test "$(wc -l <crash-kills)" -ge '"$runs"'
'

crash_print_summary

test_expect_success 'every clip finished or recovered is in the store, and the chain has no gap' '
  sort -u finished >expect && bwv-ls --store S | sort >stored &&
  comm -23 expect stored >lost && { test ! -s lost || { echo "lost:"; cat lost; false; }; } &&
  n=$(wc -l <stored) && test "$n" -ge '"$runs"' &&
  test "$(ls S/index/CAMK | sort -n | tail -1)" -eq "$n" && test "$(ls S/index/CAMK | wc -l)" -eq "$n" &&
  bwv-verify --store S
'

test_expect_success 'each recovered clip says so, and plays without an error' '
  for id in $(cat stored); do
    d=$(clip_path S $id)
    if grep -q "^  \"recovered\": true,$" $d/manifest.json; then
      echo $id >>recovered
      ffmpeg -nostdin -v error -i $d/video.mp4 -f null - 2>err && test ! -s err || { echo "$id:"; cat err; exit 1; }
    fi
  done
  echo "$(cat recovered 2>/dev/null | wc -l) of $(wc -l <stored) clips were recovered"
'

test_done
