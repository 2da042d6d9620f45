#!/usr/bin/env bash
# bwv-foi-export killed with SIGKILL at random moments, BWV_CRASH_RUNS times (default 6), each
# run then made again when it left no bag: --out is never half a bag (it is absent, or the whole
# bag and bwv-verify --bag passes), the re-run makes the bag, the store verifies after every kill
# (custody chains, checkpoints match their logs). As bwv-foi-export(1), CRASHES, says, a kill
# after the disclosure was recorded leaves disclose entries for a bag never put in place (counted
# and printed, not failed); the hidden staging directory a kill leaves is removed by the re-run to
# the same --out (none may be left).
. "$(dirname "$0")/lib.sh"
. "$BWV_SOURCE/tests/fault/crash-lib.sh"
export PATH="$BWV_BUILD/firmware:$PATH"

runs=${BWV_CRASH_RUNS:-6}

test_expect_success 'setup: three clips held for REQ-7, one redacted; the time an export takes here' '
  setup_store S &&
  make_mp4 a.mp4 2 && make_mp4 b.mp4 3 && make_mp4 c.mp4 4 &&
  record_clips S cam CAM01 a.mp4 b.mp4 c.mp4 >ids &&
  bwv-pull --store S cam >/dev/null &&
  bwv-flag --store S --hold foi:REQ-7 --reason "FOI request REQ-7" - <ids >/dev/null &&
  printf "{\"bwv_redaction\":1,\"audio\":[{\"from_ms\":100,\"to_ms\":900,\"label\":\"n\",\"reason\":\"a name\",\"method\":\"mute\"}]}" >spec.json &&
  bwv-redact --store S --spec spec.json "$(head -1 ids)" >/dev/null &&
  mkdir bags &&
  cp -a S timing && mkdir timing-bags &&
  crash_window_ms bwv-foi-export --store timing --request REQ-7 --court --reason "Crown Court order" \
    --recipient "Crown Court" --out timing-bags/b $(cat ids) >window-ms &&
  test -e timing-bags/b && rm -rf timing timing-bags && echo "an export takes $(cat window-ms) ms"
'

# Disclose entries recorded for bags that were never put in place (a set of 4 per run), and hidden
# staging directories left in bags/.
cat >export-counts.py <<'PY'
import collections, json, os, sys
sets = collections.Counter()
for line in open(os.path.join(sys.argv[1], "custody/testhost.jsonl")):
    e = json.loads(line)
    if e["action"] == "disclose":
        sets[e["details"]["bag"]] += 1
orphans = sum(n // 4 - 1 for n in sets.values())
left = [x for x in os.listdir("bags") if x.startswith(".")]
print(f"orphan-disclosures={orphans} staging-left={len(left)}")
PY

export_bag() { # export_bag N: the export of run N again
  bwv-foi-export --store S --request REQ-7 --court --reason "Crown Court order" --recipient "Crown Court" \
    --out bags/b$1 - <ids
}

test_expect_success "kill -9 bwv-foi-export at random moments, $runs times; make the bag again when none is left" '
  # On until $runs kills reached a running export (at most 4 x $runs runs).
  for n in $(seq 1 $((4 * '"$runs"'))); do
    if [ "$(wc -l <crash-kills)" -ge '"$runs"' ]; then n=$((n - 1)); break; fi
    echo $n >runs-done
    bwv-foi-export --store S --request REQ-7 --court --reason "Crown Court order" --recipient "Crown Court" \
      --out bags/b$n $(cat ids) >/dev/null 2>>export-err &
    crash_kill_at_random $! window-ms || true
    if test -e bags/b$n; then
      # The rename is the last step: a bag in place is whole, even from a run that was killed.
      bwv-verify --bag bags/b$n 2>>bag-err || crash_fail "run $n: a bag in place after the kill does not verify"
    else
      bwv-verify --store S 2>>verify-err || crash_fail "run $n: the store after the kill"
      echo $n >>crash-reruns
      export_bag $n >out 2>>rerun-err || crash_fail "run $n: the re-run failed"
      test "$(wc -l <out)" -eq 4 || crash_fail "run $n: the re-run exported $(wc -l <out) clips, not 4"
      bwv-verify --bag bags/b$n 2>>bag-err || crash_fail "run $n: the re-run bag does not verify"
    fi
    test "$(ls bags/b$n/data | wc -l)" -eq 4 || crash_fail "run $n: $(ls bags/b$n/data | wc -l) clips in the bag"
    bwv-verify --store S 2>>verify-err || crash_fail "run $n: the store after the bag was made"
  done
  crash_summary bwv-foi-export $n "$(python3 export-counts.py S)"
  cat crash-summary
  test ! -s crash-failures && test ! -s rerun-err && test ! -s bag-err && test ! -s verify-err &&
  python3 export-counts.py S | grep -q " staging-left=0$" &&
  { ! grep -v "^$" export-err || { echo "^ errors from killed runs"; false; }; } &&
  test "$(wc -l <crash-kills)" -ge '"$runs"'
'

crash_print_summary

test_expect_success 'every bag is whole and in place, and each has its own disclosure on record' '
  for n in $(seq 1 "$(cat runs-done)"); do
    bwv-verify --bag bags/b$n || exit 1
    grep -q "\"action\":\"disclose\".*\"bag\":\"[^\"]*bags/b$n\"" S/custody/testhost.jsonl || exit 1
  done &&
  bwv-verify --store S
'

test_done
