#!/usr/bin/env bash
# What a reviewer found by trying: forked chains, hand-edited holds, removed clips, cameras with
# wrong clocks, and a store copy gone missing. bwv refuses, reports, and never lets a camera
# delete what the store does not really hold.
. "$(dirname "$0")/lib.sh"

at() { local offset=$1; shift; faketime -f "$offset" "$@"; }

test_expect_success 'setup: two clips pulled and collected' '
  setup_store S &&
  head -c 40000 /dev/urandom >a.bin && head -c 50000 /dev/urandom >b.bin &&
  RECORD_START=$(date -u -d "-2 days" +%Y-%m-%dT%H:%M:%SZ) RECORD_FLAGS="--duration 5" record_clips S cam CAM01 a.bin b.bin >ids &&
  bwv-pull --store S cam >/dev/null &&
  bwv-fakecam collect --camera cam --store-pub S/keys/store.pub >/dev/null
'

test_expect_success 'a camera whose counter restarted (same seq, another day) is refused before staging' '
  rm keys-CAM01/state.json &&
  RECORD_START=$(date -u -d "-1 day" +%Y-%m-%dT%H:%M:%SZ) RECORD_FLAGS="--duration 5" record_clips S cam CAM01 a.bin >fork &&
  tree_state S >before &&
  test_must_fail --code 1 bwv-pull --store S cam >out 2>err &&
  test ! -s out && grep -q "$(cat fork): device CAM01 seq 1 is already stored as $(head -1 ids); refused" err &&
  tree_state S >after && test_cmp before after && test -z "$(ls cam/receipts)" &&
  bwv-verify --store S
'

test_expect_success 'a hold removed from flags.json by hand is reported by verify' '
  id=$(head -1 ids) &&
  bwv-flag --store S --hold foi:REQ-1 --reason "FOI" $id >/dev/null &&
  cp $(clip_path S $id)/flags.json saved.json &&
  python3 -c "import json,sys; f=json.load(open(sys.argv[1])); f[\"holds\"]={}; open(sys.argv[1],\"w\").write(json.dumps(f))" $(clip_path S $id)/flags.json &&
  test_must_fail --code 1 bwv-verify --store S 2>err &&
  grep -q "$id: flags.json and the custody log disagree about its holds" err &&
  cp saved.json $(clip_path S $id)/flags.json && bwv-verify --store S
'

test_expect_success 'the newest clip removed with its custody line is still reported missing (the index names it)' '
  cp -a S S2 && id=$(tail -1 ids) &&
  rm -rf $(clip_path S2 $id) &&
  grep -v "\"clip\":\"$id\"" S2/custody/testhost.jsonl >log && cp log S2/custody/testhost.jsonl &&
  test_must_fail --code 1 bwv-verify --store S2 2>err &&
  grep -q "$id: missing: the index names it as device CAM01 seq 2" err
'

test_expect_success 'a stored copy gone missing: re-pulling does not receipt it, so the camera keeps its own' '
  setup_device S CAM02 &&
  RECORD_START=$(date -u -d "-1 hour" +%Y-%m-%dT%H:%M:%SZ) record_clips S cam2 CAM02 a.bin >id2 &&
  bwv-pull --store S cam2 >/dev/null && rm cam2/receipts/* &&
  rm $(clip_path S $(cat id2))/video.mp4 &&
  test_must_fail --code 1 bwv-pull --store S cam2 2>err &&
  grep -q "$(cat id2): already in the store, but its stored video is missing or damaged; not receipted" err &&
  test -z "$(ls cam2/receipts)"
'

test_expect_success 'a camera clock years ahead: ingested with a warning, and retention is not stopped' '
  setup_device S CAM03 &&
  RECORD_START=2031-01-01T00:00:00Z record_clips S cam3 CAM03 b.bin >id3 &&
  test_must_fail --code 1 bwv-pull --store S cam3 >out 2>err &&
  test_cmp id3 out && grep -q "ahead of this host" err &&
  { at +40d bwv-retain --store S >gone 2>rerr || true; } && grep -qx "$(tail -1 ids)" gone &&
  ! grep -q "clock" rerr
'

test_done
