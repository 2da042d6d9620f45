#!/usr/bin/env bash
# bwv-flag killed with SIGKILL at random moments, BWV_CRASH_RUNS times (default 6), while it
# places and releases holds and puts clips in and out of a category, each killed run then made
# again as bwv-flag(1) says. Right after each kill, every hold on record is in effect (a hold
# is never on record without stopping deletion, and nothing is released off the record); after
# each re-run every clip is as the commands asked, with who and why; each change is in the
# custody log once, in order (or twice in a row where the kill fell between the record and
# flags.json, as bwv-flag(1) allows); each clip has exactly one expiry entry; the store verifies.
. "$(dirname "$0")/lib.sh"
. "$BWV_SOURCE/tests/fault/crash-lib.sh"

runs=${BWV_CRASH_RUNS:-6}
nclips=16

# Run N makes change (N - 1) % 6 to every clip: after six runs every clip is as it began, and
# the next cycle places the same holds again (a hold placed, released and placed again).
change() {
  case $((($1 - 1) % 6)) in
  0) echo "--hold foi:REQ-1" ;;
  1) echo "--category evidence-6y --case OP-$1" ;;
  2) echo "--release foi:REQ-1" ;;
  3) echo "--hold sar:SAR/7" ;;
  4) echo "--uncategorise evidence-6y" ;;
  5) echo "--release sar:SAR/7" ;;
  esac
}

cat >check-flags.py <<'PY'
# check-flags.py STORE IDS N [after-kill]: the clips' flags and custody after run N.
import collections, json, subprocess, sys

store, ids, n = sys.argv[1], open(sys.argv[2]).read().split(), int(sys.argv[3])
after_kill = len(sys.argv) > 4

def change(k):
    return [("flag-hold", "foi:REQ-1", None), ("flag-category", "evidence-6y", f"OP-{k}"),
            ("flag-release", "foi:REQ-1", None), ("flag-hold", "sar:SAR/7", None),
            ("flag-uncategorise", "evidence-6y", None), ("flag-release", "sar:SAR/7", None)][(k - 1) % 6]

history = collections.defaultdict(list)
for line in open(f"{store}/custody/testhost.jsonl"):
    e = json.loads(line)
    if e["action"].startswith("flag-"):
        d = e["details"]
        history[e["clip"]].append((e["action"], d.get("hold", d.get("category")),
                                   d.get("case") if e["action"] == "flag-category" else None))

listing = subprocess.run(["bwv-flag", "--store", store, "--list", "--json"] + ids,
                         capture_output=True, text=True, check=True).stdout
flags = {v["clip"]: v for v in map(json.loads, listing.splitlines())}
problems, duplicates = [], 0
for id in ids:
    h = history[id]
    in_effect = {x["name"] for x in flags[id]["holds"]}
    if after_kill:
        # Replay the record: every hold it shows must be in flags.json.
        held = set()
        for action, name, _ in h:
            if action == "flag-hold": held.add(name)
            if action == "flag-release": held.discard(name)
        if not held <= in_effect:
            problems.append(f"{id}: on record as held by {sorted(held - in_effect)}, which flags.json does not have")
        continue
    collapsed = [x for i, x in enumerate(h) if i == 0 or x != h[i - 1]]
    duplicates += len(h) - len(collapsed)
    expect = [change(k) for k in range(1, n + 1)]
    if collapsed != expect:
        problems.append(f"{id}: custody records {collapsed[-4:]} (last 4 of {len(collapsed)}), expected {expect[-4:]} (of {len(expect)})")
    holds, cats = {}, {}
    for k in range(1, n + 1):
        action, name, case = change(k)
        if action == "flag-hold": holds[name] = f"run {k}"
        elif action == "flag-release": del holds[name]
        elif action == "flag-category": cats[name] = (case, f"run {k}")
        else: del cats[name]
    got_holds = {x["name"]: x["reason"] for x in flags[id]["holds"]}
    got_cats = {x["name"]: (x["case"], x["reason"]) for x in flags[id]["categories"]}
    if got_holds != holds or got_cats != cats:
        problems.append(f"{id}: flags {got_holds} {got_cats}, expected {holds} {cats}")
for p in problems[:5]:
    print(p)
if not after_kill:
    open("duplicates", "a").write(f"{duplicates}\n")
sys.exit(1 if problems else 0)
PY

# One expiry entry per clip, no more.
check_expiry() {
  local id
  for id in $(cat ids); do
    [ "$(find S/expiry -name "$id" | wc -l)" -eq 1 ] || { echo "$id: $(find S/expiry -name "$id" | wc -l) expiry entries"; return 1; }
  done
}

test_expect_success "setup: $nclips clips, and the time a bwv-flag of all of them takes here" '
  setup_store S &&
  for i in $(seq 1 '"$nclips"'); do head -c $((20000 + i)) /dev/urandom >v$i.bin; done &&
  RECORD_FLAGS="--duration 5 --gap 5" record_clips S cam CAM01 $(for i in $(seq 1 '"$nclips"'); do echo v$i.bin; done) >ids &&
  bwv-pull --store S cam >/dev/null &&
  cp -a S timing &&
  crash_window_ms bwv-flag --store timing --hold foi:T-1 --reason timing $(cat ids) >window-ms &&
  rm -rf timing && echo "a run takes $(cat window-ms) ms"
'

test_expect_success "kill -9 bwv-flag at random moments, $runs times, and run it again each time" '
  # On until $runs kills reached a running bwv-flag (at most 4 x $runs runs).
  for n in $(seq 1 $((4 * '"$runs"'))); do
    if [ "$(wc -l <crash-kills)" -ge '"$runs"' ]; then n=$((n - 1)); break; fi
    bwv-flag --store S $(change $n) --reason "run $n" - <ids >/dev/null 2>>flag-err &
    if crash_kill_at_random $! window-ms; then
      python3 check-flags.py S ids $n after-kill || crash_fail "run $n: after the kill"
    fi
    before=$(cat S/custody/testhost.jsonl S/clips/*/*/*/*/flags.json 2>/dev/null | sha256sum)
    bwv-flag --store S $(change $n) --reason "run $n" - <ids >/dev/null 2>>rerun-err || crash_fail "run $n: the re-run failed"
    after=$(cat S/custody/testhost.jsonl S/clips/*/*/*/*/flags.json 2>/dev/null | sha256sum)
    [ "$before" = "$after" ] || echo $n >>crash-reruns
    python3 check-flags.py S ids $n || crash_fail "run $n: after the re-run"
    check_expiry || crash_fail "run $n: expiry entries"
    bwv-verify --store S 2>>verify-err || crash_fail "run $n: bwv-verify"
  done
  crash_summary bwv-flag $n "duplicate-entries=$(tail -1 duplicates)"
  cat crash-summary
  test ! -s crash-failures && test ! -s rerun-err && test ! -s verify-err &&
  { ! grep -v "^$" flag-err || { echo "^ errors from killed runs"; false; }; } &&
  test "$(wc -l <crash-kills)" -ge '"$runs"'
'

crash_print_summary

test_expect_success 'the store verifies' '
  bwv-verify --store S
'

# Temporary files of writes a kill cut short stay (readers skip them; nothing removes them).
echo "# temporary files left by the kills: $(find S -name ".*.tmp-*" | wc -l)"

test_done
