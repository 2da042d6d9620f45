#!/usr/bin/env bash
# Flags, holds and retention with the clock moved by libfaketime: footage nobody flagged goes
# after 31 days; flagged or held footage stays; every change is on record; the store verifies.
. "$(dirname "$0")/lib.sh"

command -v faketime >/dev/null || { echo "faketime is missing (scripts/install-deps installs it)"; exit 1; }
at() { local offset=$1; shift; faketime -f "$offset" "$@"; }

test_expect_success 'setup: six clips recorded now and pulled' '
  setup_store S &&
  for i in 1 2 3 4 5 6; do head -c $((50000 + i)) /dev/urandom >v$i.bin; done &&
  RECORD_START=$(date -u +%Y-%m-%dT%H:%M:%SZ) RECORD_FLAGS="--duration 10 --gap 10" \
    record_clips S cam CAM01 v1.bin v2.bin v3.bin v4.bin v5.bin v6.bin >ids &&
  bwv-pull --store S cam >/dev/null &&
  id1=$(sed -n 1p ids) && id2=$(sed -n 2p ids) && id3=$(sed -n 3p ids) &&
  echo "$id1 $id2 $id3" >flagged-ids
'
read -r id1 id2 id3 <flagged-ids
id4=$(sed -n 4p ids); id5=$(sed -n 5p ids); id6=$(sed -n 6p ids)

test_expect_success 'bwv-flag: a category, a hold, and an indefinite category' '
  bwv-flag --store S --category evidence-6y --case OP-123 --reason "assault on officer" $id1 >out &&
  echo $id1 >expect && test_cmp expect out &&
  echo $id2 | bwv-flag --store S --hold foi:REQ-7 --reason "FOI request REQ-7 received" - >out &&
  echo $id2 >expect && test_cmp expect out &&
  bwv-flag --store S --category until-review --reason "complaint pending review" $id3 >/dev/null &&
  bwv-flag --store S --list $id1 $id2 $id3 >list &&
  grep -q "^$id1 evidence-6y - " list && grep -q "^$id2 - foi:REQ-7 " list && grep -q "^$id3 until-review - never$" list
'

test_expect_success 'repeating a flag changes nothing and adds no custody entry' '
  tree_state S >before &&
  bwv-flag --store S --hold foi:REQ-7 --reason "again" $id2 >/dev/null &&
  tree_state S >after && test_cmp before after
'

test_expect_success 'every flag is in the custody log with who, when and why' '
  bwv-log --store S $id1 | grep -q " flag-category $id1 .*category=evidence-6y case=OP-123 reason=assault on officer" &&
  bwv-log --store S --json $id2 | grep -q "\"action\":\"flag-hold\",\"clip\":\"$id2\",\"details\":{\"hold\":\"foi:REQ-7\",\"reason\":\"FOI request REQ-7 received\""
'

test_expect_success 'unknown ids exit 1, naming them, while the others are still flagged' '
  test_must_fail --code 1 bwv-flag --store S --hold legal:L-1 --reason "litigation" 20261124-NOPE-000001 $id4 >out 2>err &&
  echo $id4 >expect && test_cmp expect out &&
  grep -q "20261124-NOPE-000001: no such clip in the store" err &&
  bwv-flag --store S --list $id4 | grep -q " legal:L-1 " &&
  bwv-flag --store S --release legal:L-1 --reason "settled" $id4 >/dev/null
'

test_expect_success 'bad input: unknown category, malformed hold, empty reason: exit 2, nothing changed' '
  tree_state S >before &&
  test_must_fail --code 2 bwv-flag --store S --category evidence-99y --reason r $id4 2>err &&
  test_one_error_line err bwv-flag && grep -q "unknown category" err &&
  test_must_fail --code 2 bwv-flag --store S --hold foi --reason r $id4 2>err &&
  test_one_error_line err bwv-flag && grep -q "not a hold reference" err &&
  test_must_fail --code 2 bwv-flag --store S --hold FOI:X --reason r $id4 2>err && test_one_error_line err bwv-flag &&
  test_must_fail --code 2 bwv-flag --store S --hold foi:X $id4 2>err &&
  test_one_error_line err bwv-flag && grep -q "a reason is required" err &&
  test_must_fail --code 2 bwv-flag --store S --hold foi:X --reason "" $id4 2>err && test_one_error_line err bwv-flag &&
  test_must_fail --code 2 bwv-flag --store S --category uncategorised --reason r $id4 2>err && test_one_error_line err bwv-flag &&
  test_must_fail --code 2 bwv-flag --store S --hold foi:X --release foi:X --reason r $id4 2>err && test_one_error_line err bwv-flag &&
  test_must_fail --code 2 bwv-retain --store S --dry-run --report 3 2>err && test_one_error_line err bwv-retain &&
  tree_state S >after && test_cmp before after
'

test_expect_success 'at +30 days nothing goes' '
  at +30d bwv-retain --store S >out && test ! -s out &&
  bwv-ls --store S --json | grep -c "\"deleted\":null" >n && echo 6 >expect && test_cmp expect n
'

test_expect_success '--report 3 at +30 days lists the three unflagged clips with their expiry' '
  at +30d bwv-retain --store S --report 3 >report &&
  test "$(wc -l <report)" -eq 3 &&
  for id in $id4 $id5 $id6; do grep -q "^$id .* uncategorised (31 days)$" report || exit 1; done
'

test_expect_success '--dry-run at +32 days names what would go and changes no byte' '
  tree_state S >before &&
  at +32d bwv-retain --store S --dry-run >out &&
  printf "%s\n" $id4 $id5 $id6 >expect && sort out >got && sort expect >want && test_cmp want got &&
  tree_state S >after && test_cmp before after
'

test_expect_success 'the dry run decided from ids and stats agrees with the one that reads every manifest' '
  for offset in +30d +31d +32d +33d +40d +3000d; do
    at $offset bwv-retain --store S --dry-run | sort >fast &&
    at $offset bwv-retain --store S --dry-run --json | python3 -c "import json,sys; [print(json.loads(l)[\"clip\"]) for l in sys.stdin]" | sort >full &&
    test_cmp full fast || exit 1
  done
'

test_expect_success 'at +32 days the unflagged clips go; flagged and held ones stay' '
  at +32d bwv-retain --store S >out &&
  sort out >got && test_cmp want got &&
  for id in $id4 $id5 $id6; do
    d=$(clip_path S $id) && test ! -e $d/video.mp4 && test -s $d/manifest.json && test -s $d/deleted.json || exit 1
  done &&
  for id in $id1 $id2 $id3; do test -s $(clip_path S $id)/video.mp4 || exit 1; done
'

test_expect_success 'the deletion is on record with the policy that applied' '
  bwv-log --store S $id4 | grep -q " retain-delete $id4 rule=uncategorised (31 days) expired=.* size=50004 video_sha256=" &&
  python3 -c "import json,sys; t=json.load(open(sys.argv[1])); m=json.load(open(sys.argv[2])); assert t[\"video_sha256\"]==m[\"video\"][\"sha256\"] and t[\"size\"]==m[\"video\"][\"size\"], t" \
    $(clip_path S $id4)/deleted.json $(clip_path S $id4)/manifest.json
'

test_expect_success 'the store verifies after retention, and the signed manifests still verify with minisign' '
  at +32d bwv-verify --store S &&
  minisign -V -H -P "$(tail -1 keys-CAM01/device.pub)" -m $(clip_path S $id4)/manifest.json >/dev/null
'

test_expect_success 'a deleted video is told apart from a missing one' '
  cp -a S S2 && rm $(clip_path S2 $id1)/video.mp4 &&
  test_must_fail --code 1 at +32d bwv-verify --store S2 2>err &&
  grep -q "$id1: video.mp4 is missing" err && ! grep -q "$id4" err &&
  rm -rf S2
'

test_expect_success 'a second run deletes nothing more' '
  at +33d bwv-retain --store S >out && test ! -s out
'

test_expect_success 'a released hold lets the expired clip go at the next run' '
  bwv-flag --store S --release foi:REQ-7 --reason "request answered" $id2 >/dev/null &&
  at +34d bwv-retain --store S >out && echo $id2 >expect && test_cmp expect out &&
  test ! -e $(clip_path S $id2)/video.mp4
'

test_expect_success 'a deleted clip cannot be flagged' '
  test_must_fail --code 1 bwv-flag --store S --hold foi:REQ-8 --reason r $id2 2>err &&
  grep -q "deleted by policy" err
'

test_expect_success 'evidence-6y goes after six years, not before' '
  at +2190d bwv-retain --store S >out && test ! -s out &&
  at +2193d bwv-retain --store S >out && echo $id1 >expect && test_cmp expect out &&
  at +2193d bwv-verify --store S
'

test_expect_success 'an indefinite category keeps a clip for years; uncategorised, it goes' '
  at +3000d bwv-retain --store S >out && test ! -s out &&
  bwv-flag --store S --uncategorise until-review --reason "review done" $id3 >/dev/null &&
  at +3001d bwv-retain --store S >out && echo $id3 >expect && test_cmp expect out
'

test_expect_success 'a clock earlier than the newest record deletes nothing (exit 1, one line)' '
  setup_device S CAM02 &&
  RECORD_START=$(date -u +%Y-%m-%dT%H:%M:%SZ) record_clips S cam2 CAM02 v1.bin >id7 && bwv-pull --store S cam2 >/dev/null &&
  tree_state S >before &&
  test_must_fail --code 1 at -2d bwv-retain --store S 2>err &&
  test_one_error_line err bwv-retain && grep -q "earlier than the store.s newest record" err &&
  tree_state S >after && test_cmp before after
'

test_expect_success 'after the policy is edited, verify names out-of-place entries and --reindex mends them' '
  setup_device S CAM03 &&
  RECORD_START=$(date -u -d "+3100 days" +%Y-%m-%dT%H:%M:%SZ) record_clips S cam3 CAM03 v2.bin >id8 &&
  at +3101d bwv-pull --store S cam3 >/dev/null &&
  sed -i "s/\"days\": 31/\"days\": 7/" S/policy.json &&
  test_must_fail --code 1 at +3101d bwv-verify --store S 2>err &&
  grep -q "$(cat id8): not in expiry/.*bwv-retain --reindex" err &&
  at +3101d bwv-retain --store S --reindex &&
  at +3101d bwv-verify --store S &&
  at +3109d bwv-retain --store S >out && grep -qx "$(cat id8)" out
'

test_expect_success 'a running bwv-flag (locks/policy held) makes bwv-retain exit 4 at once' '
  python3 - S/locks/policy <<PY &
import fcntl, os, struct, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0))
open("held", "w").close()
time.sleep(30)
PY
  holder=$! && while [ ! -e held ]; do sleep 0.05; done &&
  rc=0 && at +3100d bwv-retain --store S 2>err || rc=$?
  kill $holder; rm -f held
  [ $rc -eq 4 ] && test_one_error_line err bwv-retain && grep -q "try again later" err
'

test_done
