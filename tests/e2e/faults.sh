#!/usr/bin/env bash
# Faults: a full filesystem (a small tmpfs as the store, and the LD_PRELOAD shim
# build/tests/libbwv-fault.so failing writes with ENOSPC after N bytes), failing flushes (EIO on
# fsync), a read-only store (a tmpfs remounted ro), read errors (EIO on a stored video, on a
# camera's clip), and a clock that jumps backwards (faketime). Each fault gives one clear line on
# stderr and the documented exit status (6 for I/O, 5 for a read-only store, 1 for a clip that
# cannot be read or verified), and leaves the store unchanged or consistent (bwv-verify passes);
# nothing is receipted that is not stored; once the fault is gone a re-run completes the work.
# Mounting needs root (CI and the dev container run as root); without it the tmpfs cases are
# skipped and said so, and the shim cases still run.
. "$(dirname "$0")/lib.sh"
export PATH="$BWV_BUILD/firmware:$PATH"
command -v faketime >/dev/null || { echo "faketime is missing (scripts/install-deps installs it)"; exit 1; }
SHIM=$BWV_BUILD/tests/libbwv-fault.so
test -e "$SHIM" || { echo "$SHIM is missing (the bwv-fault target of tests/CMakeLists.txt)"; exit 1; }

# fault VAR=VALUE... CMD...: CMD with the shim (see tests/fault/bwv-fault.c); every failure it
# injects is logged to fault.log, so that a test can tell the fault really happened.
fault() { env LD_PRELOAD="$SHIM" BWV_FAULT_LOG="$TEST_DIR/fault.log" "$@"; }
faulted() { test -s fault.log && rm fault.log; } # the last fault() run injected at least one failure

# Mounts under the scratch directory go before it does.
umount_all() {
  awk -v d="$TEST_DIR/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
}
trap 'umount_all; rm -rf "$TEST_DIR"' EXIT
trap 'exit 143' TERM INT # (so that the EXIT trap runs when ctest times the suite out)
can_mount=false
mkdir probe
if mount -t tmpfs -o size=1m bwv-probe probe 2>mount-err; then
  umount probe && can_mount=true
else
  echo "# cannot mount a tmpfs here ($(head -1 mount-err)): the full and read-only filesystem cases" \
    "are skipped; the shim cases still run"
fi

# receipts_stored STORE CAMERA: every receipt on the camera names a clip stored with those hashes
# and ingested on record.
receipts_stored() {
  local r id d
  for r in "$2"/receipts/*.receipt; do
    [ -e "$r" ] || continue
    id=$(basename "$r" .receipt) && d=$(clip_path "$1" "$id")
    test "$(jget "$r" manifest_sha256)" = "$(sha "$d/manifest.json")" &&
      test "$(jget "$r" video_sha256)" = "$(jget "$d/manifest.json" video sha256)" &&
      test "$(jget "$r" video_sha256)" = "$(sha "$d/video.mp4")" &&
      grep -q "\"action\":\"ingest\",\"clip\":\"$id\"" "$1"/custody/*.jsonl || { echo "receipt for $id, not stored"; return 1; }
  done
}
sealed_count() { ls "$1"/clips/*.mp4.sealed 2>/dev/null | wc -l; }
# The store's files but its lock files (made empty on first use, never changed).
store_state() { tree_state "$1" | grep -v " \./locks/"; }

test_expect_success 'setup: a store on disk with two real clips, and random "videos"' '
  setup_store S >/dev/null &&
  make_mp4 a.mp4 2 && make_mp4 b.mp4 3 &&
  record_clips S cam CAM01 a.mp4 b.mp4 >ids && bwv-pull --store S cam >/dev/null &&
  for i in $(seq 1 8); do head -c 400000 /dev/urandom >r$i.bin; done &&
  printf "{\"bwv_redaction\":1,\"audio\":[{\"from_ms\":100,\"to_ms\":900,\"label\":\"n\",\"reason\":\"a name\",\"method\":\"mute\"}]}" >spec.json
'
ID=$(head -1 ids)

# --- (a) a full filesystem -----------------------------------------------------------------

if $can_mount; then
test_expect_success 'a full store (tmpfs): bwv-pull exits 6 with one line; what it stored is on record and receipted, nothing else' '
  mkdir full && mount -t tmpfs -o size=2560k bwv-full full &&
  setup_store full/S CAMF >/dev/null &&
  RECORD_FLAGS="--duration 10" record_clips full/S fullcam CAMF r1.bin r2.bin r3.bin r4.bin r5.bin r6.bin r7.bin r8.bin >full-ids &&
  test_must_fail --code 6 bwv-pull --store full/S fullcam >pulled 2>err && cat err &&
  test_one_error_line err bwv-pull && grep -q "No space left on device" err &&
  test "$(wc -l <pulled)" -lt 8 &&
  ls fullcam/receipts | sed -n "s/\.receipt$//p" >receipted && test_cmp pulled receipted &&
  receipts_stored full/S fullcam &&
  test "$(sealed_count fullcam)" -eq 8 &&
  test -z "$(ls full/S/tmp)" &&
  bwv-verify --store full/S
'

test_expect_success 'a full store: with room made (remount bigger), a re-run stores the rest' '
  mount -o remount,size=16m full &&
  bwv-pull --store full/S fullcam >>pulled &&
  sort pulled >got && sort full-ids >want && test_cmp want got &&
  receipts_stored full/S fullcam && test "$(ls fullcam/receipts/*.receipt | wc -l)" -eq 8 &&
  bwv-verify --store full/S
'

test_expect_success 'a full store: bwv-redact exits 6 with one line and makes nothing; with room, it does' '
  setup_device full/S CAMG >/dev/null && record_clips full/S fullcam2 CAMG a.mp4 >id2 &&
  bwv-pull --store full/S fullcam2 >/dev/null && id=$(cat id2) &&
  { dd if=/dev/zero of=full/filler bs=64k 2>/dev/null || true; } && truncate -s -24k full/filler &&
  tree_state full/S >before &&
  test_must_fail --code 6 bwv-redact --store full/S --full --spec spec.json $id >out 2>err && cat err &&
  test_one_error_line err bwv-redact && grep -q "No space left on device" err && test ! -s out &&
  tree_state full/S >after && test_cmp before after &&
  rm full/filler &&
  bwv-redact --store full/S --full --spec spec.json $id >out && test "$(cat out)" = "$id-r1" &&
  bwv-verify --store full/S
'

test_expect_success 'a full bag filesystem: bwv-foi-export exits 6 with one line; no bag, nothing recorded' '
  mkdir bagfs && mount -t tmpfs -o size=64k bwv-bag bagfs &&
  id=$(cat id2) && tree_state full/S >before &&
  test_must_fail --code 6 bwv-foi-export --store full/S --request REQ-1 --court --reason "court order" \
    --out bagfs/bag $id >out 2>err && cat err &&
  test_one_error_line err bwv-foi-export && grep -q "No space left on device" err && test ! -s out &&
  test -z "$(ls -A bagfs)" &&
  tree_state full/S >after && test_cmp before after &&
  mount -o remount,size=8m bagfs &&
  bwv-foi-export --store full/S --request REQ-1 --court --reason "court order" --out bagfs/bag $id >out &&
  bwv-verify --bag bagfs/bag && bwv-verify --store full/S
'
fi

test_expect_success 'ENOSPC (shim) after 900 kB of staging: bwv-pull exits 6 with one line; the store stays consistent' '
  setup_device S CAMS >/dev/null &&
  RECORD_FLAGS="--duration 10" record_clips S scam CAMS r1.bin r2.bin r3.bin r4.bin r5.bin >s-ids &&
  test_must_fail --code 6 fault BWV_FAULT_PATH="$TEST_DIR/S/tmp/" BWV_FAULT_AFTER_BYTES=900000 \
    bwv-pull --store S scam >pulled 2>err && faulted && cat err &&
  test_one_error_line err bwv-pull && grep -q "No space left on device" err &&
  test "$(wc -l <pulled)" -lt 5 && ls scam/receipts | sed -n "s/\.receipt$//p" >receipted && test_cmp pulled receipted &&
  receipts_stored S scam && test "$(sealed_count scam)" -eq 5 &&
  test -z "$(ls S/tmp)" && bwv-verify --store S &&
  bwv-pull --store S scam >>pulled && sort pulled >got && sort s-ids >want && test_cmp want got &&
  receipts_stored S scam && bwv-verify --store S
'

test_expect_success 'EIO on fsync (shim): bwv-pull exits 6 with one line, stores and receipts nothing' '
  RECORD_FLAGS="--duration 10" record_clips S scam CAMS r6.bin r7.bin >s-ids2 &&
  store_state S >before && ls scam/receipts >receipts-before &&
  test_must_fail --code 6 fault BWV_FAULT_PATH="$TEST_DIR/S/" BWV_FAULT_OPS=fsync BWV_FAULT_ERRNO=EIO \
    bwv-pull --store S scam >pulled 2>err && faulted && cat err &&
  test_one_error_line err bwv-pull && grep -q "Input/output error" err && test ! -s pulled &&
  ls scam/receipts >receipts-after && test_cmp receipts-before receipts-after &&
  store_state S >after && test_cmp before after &&
  bwv-pull --store S scam >pulled && sort pulled >got && sort s-ids2 >want && test_cmp want got && bwv-verify --store S
'

# Direct writes refused after all (fs::DirectWriter): the staged videos' whole blocks go to disk
# with O_DIRECT where the filesystem offers it; a filesystem that then refuses (EINVAL) or stops a
# write short must cost nothing but speed. Each case checks every stored video against its source.
# direct_refused CAMERA CLIPS SHIM-VAR=VALUE...: pull CAMERA's CLIPS new clips (several records of
# odd sizes each) with the shim refusing direct writes as told; all ingested and whole. One clip is
# staged by one thread, so that the shim's counts fall where the test says. Leaves no-direct when
# the shim found no direct write to refuse (the store's filesystem writes nothing directly here:
# tmpfs, FUSE, kernels before 6.1).
direct_refused() {
  local cam=$1 clips=$2 i=0 id
  shift 2
  for i in $(seq "$clips"); do head -c $((1048576 * (i + 2) + 4097 * i + 1)) /dev/urandom >"$cam-$i.bin" || return 1; done
  # shellcheck disable=SC2046
  RECORD_FLAGS="--duration 10" record_clips S "$cam" CAMS $(seq -f "$cam-%g.bin" "$clips") >"$cam-ids" &&
    fault BWV_FAULT_PATH="$TEST_DIR/S/tmp/" BWV_FAULT_OPS=write BWV_FAULT_ODIRECT=1 BWV_FAULT_ERRNO=EINVAL "$@" \
      bwv-pull --store S "$cam" >pulled &&
    sort pulled >got && sort "$cam-ids" >want && test_cmp want got || return 1
  faulted || touch no-direct
  i=0
  while read -r id; do
    i=$((i + 1)) && cmp "$cam-$i.bin" "$(clip_path S "$id")/video.mp4" || return 1
  done <"$cam-ids"
  receipts_stored S "$cam" && test -z "$(ls S/tmp)" && bwv-verify --store S
}

test_expect_success 'direct writes refused (EINVAL, shim): bwv-pull writes each video through the page cache instead' '
  direct_refused dcam1 3
'

if [ -e no-direct ]; then
  echo "# the store's filesystem here takes no direct writes: the two cases below are skipped (the one above" \
    "still pulled whole)"
else
test_expect_success 'a direct write cut short on a block, the next refused (shim): the rest of the video goes through the page cache' '
  direct_refused dcam2 1 BWV_FAULT_AFTER_BYTES=$((1048576 + 8192)) && test ! -e no-direct
'

test_expect_success 'a direct write stopped mid-block (shim): the rest of the video goes through the page cache' '
  direct_refused dcam3 1 BWV_FAULT_AFTER_BYTES=$((1048576 + 8192 + 100)) && test ! -e no-direct
'
fi

test_expect_success 'ENOSPC (shim) on the custody log: the entry is cut off again, not left torn; the store is as it was' '
  bwv-flag --store S --hold foi:A --reason "request A" $ID >/dev/null &&
  tree_state S >before &&
  test_must_fail --code 6 fault BWV_FAULT_PATH="$TEST_DIR/S/custody/" BWV_FAULT_AFTER_BYTES=60 \
    bwv-flag --store S --release foi:A --reason "answered" $ID >out 2>err && faulted && cat err &&
  test_one_error_line err bwv-flag && grep -q "No space left on device" err &&
  tree_state S >after && test_cmp before after && bwv-verify --store S
'

test_expect_success 'a hold placed again, its record cut short (ENOSPC): the re-run records it' '
  bwv-flag --store S --release foi:A --reason "answered" $ID >/dev/null &&
  test_must_fail --code 6 fault BWV_FAULT_PATH="$TEST_DIR/S/custody/" \
    bwv-flag --store S --hold foi:A --reason "request A again" $ID >out 2>err && faulted &&
  test_one_error_line err bwv-flag &&
  bwv-flag --store S --hold foi:A --reason "request A again" $ID >/dev/null &&
  test "$(grep -c "\"action\":\"flag-hold\",\"clip\":\"$ID\"" S/custody/testhost.jsonl)" -eq 2 &&
  bwv-verify --store S
'

test_expect_success 'ENOSPC (shim): bwv-redact and bwv-foi-export exit 6 with one line; nothing made or recorded' '
  mkdir bags && tree_state S >before &&
  test_must_fail --code 6 fault BWV_FAULT_PATH="$TEST_DIR/S/tmp/" BWV_FAULT_AFTER_BYTES=20000 \
    bwv-redact --store S --spec spec.json $ID >out 2>err && faulted && cat err &&
  test_one_error_line err bwv-redact && grep -q "No space left on device" err && test ! -s out &&
  test_must_fail --code 6 fault BWV_FAULT_PATH="$TEST_DIR/bags/" BWV_FAULT_AFTER_BYTES=20000 \
    bwv-foi-export --store S --request A --court --reason "court order" --out bags/a $ID >out 2>err && faulted && cat err &&
  test_one_error_line err bwv-foi-export && grep -q "No space left on device" err && test ! -s out &&
  test -z "$(ls -A bags)" &&
  tree_state S >after && test_cmp before after
'

# --- (b) a read-only store ---------------------------------------------------------------------

if $can_mount; then
test_expect_success 'setup: a store on a tmpfs, then remounted read-only' '
  mkdir ro && mount -t tmpfs -o size=16m bwv-ro ro &&
  setup_store ro/S CAMR >/dev/null && record_clips ro/S rocam CAMR a.mp4 b.mp4 >ro-ids &&
  bwv-pull --store ro/S rocam >/dev/null && record_clips ro/S rocam CAMR a.mp4 >/dev/null &&
  mkdir -p keys-CAMZ && bwv-fakecam keygen --device CAMZ --key keys-CAMZ/device.key --pub keys-CAMZ/device.pub &&
  mount -o remount,ro ro && tree_state ro/S >ro-before && ls rocam/receipts >ro-receipts
'

ro_id=$(head -1 ro-ids 2>/dev/null)
mapfile -t ro_writers <<EOF
bwv-pull --store ro/S rocam
faketime -f +40d bwv-retain --store ro/S
bwv-retain --store ro/S --reindex
bwv-flag --store ro/S --hold foi:X --reason r $ro_id
bwv-flag --store ro/S --release foi:X --reason r $ro_id
bwv-redact --store ro/S --spec spec.json $ro_id
bwv-foi-export --store ro/S --request X --court --reason r --out robag $ro_id
bwv-key --store ro/S trust --device CAMZ --reason r keys-CAMZ/device.pub
bwv-key --store ro/S revoke --reason r CAMR
bwv-log --store ro/S --checkpoint
EOF
for c in "${ro_writers[@]}"; do
  name=$(echo "$c" | sed "s/^faketime -f [^ ]* //; s/ .*//")
  test_expect_success "read-only store: $c: exit 5, one line, nothing changes" '
    test_must_fail --code 5 '"$c"' >out 2>err && cat err &&
    test_one_error_line err '"$name"' && grep -q "Read-only file system" err &&
    tree_state ro/S >after && test_cmp ro-before after && ls rocam/receipts >r && test_cmp ro-receipts r &&
    test -z "$(ls -d robag .robag* 2>/dev/null)"
  '
done

test_expect_success 'read-only store: what only reads still works (verify, ls, log, flag --list, retain --dry-run and --report)' '
  bwv-verify --store ro/S && bwv-ls --store ro/S >/dev/null && bwv-log --store ro/S >/dev/null &&
  bwv-flag --store ro/S --list >/dev/null &&
  faketime -f +40d bwv-retain --store ro/S --dry-run >would && test "$(wc -l <would)" -eq 2 &&
  bwv-retain --store ro/S --report 40 >report && test "$(wc -l <report)" -eq 2 &&
  tree_state ro/S >after && test_cmp ro-before after
'
fi

# --- (c) read errors ---------------------------------------------------------------------------

test_expect_success 'EIO reading a stored video: bwv-verify names that clip on one line and exits 1' '
  v=$(clip_path S $ID)/video.mp4 &&
  test_must_fail --code 1 fault BWV_FAULT_PATH="$TEST_DIR/$v" BWV_FAULT_OPS=read,pread BWV_FAULT_ERRNO=EIO \
    bwv-verify --store S >out 2>err && faulted && cat err &&
  test_one_error_line err bwv-verify && grep -q "^bwv-verify: error: $ID: video.mp4: read: Input/output error$" err &&
  echo $ID >expect && test_cmp expect out
'

test_expect_success 'EIO reading a stored video: bwv-redact and bwv-foi-export exit 6 with one line; nothing made' '
  v=$(clip_path S $ID)/video.mp4 && tree_state S >before &&
  test_must_fail --code 6 fault BWV_FAULT_PATH="$TEST_DIR/$v" BWV_FAULT_OPS=read,pread BWV_FAULT_ERRNO=EIO \
    bwv-redact --store S --spec spec.json $ID >out 2>err && faulted && cat err &&
  test_one_error_line err bwv-redact && grep -q "Input/output error" err && test ! -s out &&
  test_must_fail --code 6 fault BWV_FAULT_PATH="$TEST_DIR/$v" BWV_FAULT_OPS=read,pread BWV_FAULT_ERRNO=EIO \
    bwv-foi-export --store S --request A --court --reason "court order" --out eio-bag $ID >out 2>err && faulted && cat err &&
  test_one_error_line err bwv-foi-export && grep -q "Input/output error" err && test ! -s out &&
  test -z "$(ls -d eio-bag .eio-bag* 2>/dev/null)" &&
  tree_state S >after && test_cmp before after
'

test_expect_success 'EIO reading a camera clip: bwv-pull reports that clip on one line, receipts it not, stores the others' '
  RECORD_FLAGS="--duration 10" record_clips S ecam CAMS r1.bin r2.bin r3.bin >e-ids && bad=$(tail -1 e-ids) &&
  test_must_fail --code 1 fault BWV_FAULT_PATH="$TEST_DIR/ecam/clips/$bad.mp4.sealed" BWV_FAULT_OPS=read,pread \
    BWV_FAULT_ERRNO=EIO BWV_FAULT_NTH=3 bwv-pull --store S ecam >pulled 2>err && faulted && cat err &&
  test_one_error_line err bwv-pull && grep -q "^bwv-pull: error: .*$bad.mp4.sealed: cannot be read from the camera (read: Input/output error)" err &&
  head -2 e-ids >want && test_cmp want pulled &&
  test ! -e ecam/receipts/$bad.receipt && test ! -e "$(clip_path S $bad)" && receipts_stored S ecam &&
  bwv-verify --store S &&
  test_must_fail --code 1 fault BWV_FAULT_PATH="$TEST_DIR/ecam/clips/$bad.json" BWV_FAULT_OPS=read,pread BWV_FAULT_ERRNO=EIO \
    bwv-pull --store S ecam >pulled 2>err && faulted && test_one_error_line err bwv-pull && test ! -s pulled &&
  bwv-pull --store S ecam >pulled && echo $bad >want && test_cmp want pulled && bwv-verify --store S
'

test_expect_success 'camera storage full (shim) as a clip opens: bwv-camd exits 6 with one line; the next boot removes the header-only sealed file it left and records' '
  small_camd_config S CAMD >camd.json &&
  printf "%s\n" "00:00:00 power_on" "+2 dock" >first.txt &&
  bwv-camd sim --storage dcam --script first.txt --start 2026-11-24T07:00:00Z &&
  bwv-key --store S trust --device CAMD --reason test dcam/device.pub >/dev/null &&
  printf "%s\n" "00:00:00 power_on" "00:00:05 double_press" "+4 hold" >rec.txt &&
  test_must_fail --code 6 fault BWV_FAULT_PATH="$TEST_DIR/dcam/tmp/." \
    bwv-camd sim --storage dcam --script rec.txt --start 2026-11-24T07:00:00Z --log rec1.log 2>err && faulted && cat err &&
  test_one_error_line err bwv-camd && grep -q "No space left on device" err &&
  bwv-camd sim --storage dcam --script rec.txt --start 2026-11-24T07:00:00Z --log rec2.log &&
  grep -q "recovery: .*: a sealed file begun without its open manifest holds no footage; removed" rec2.log &&
  grep -q " clip .* finished: " rec2.log && test -z "$(ls dcam/tmp)" &&
  bwv-pull --store S dcam >/dev/null && bwv-verify --store S
'

# --- (d) a clock that jumps backwards ----------------------------------------------------------

test_expect_success 'clock set back 2 hours between two pulls: both ingested, times recorded as they were, verify passes' '
  RECORD_FLAGS="--duration 10" record_clips S ccam CAMS r4.bin >c1 && bwv-pull --store S ccam >/dev/null &&
  RECORD_FLAGS="--duration 10" record_clips S ccam CAMS r5.bin >c2 && faketime -f -2h bwv-pull --store S ccam >/dev/null &&
  t1=$(grep "\"action\":\"ingest\",\"clip\":\"$(cat c1)\"" S/custody/testhost.jsonl | python3 -c "import json,sys; print(json.loads(sys.stdin.read())[\"time\"])") &&
  t2=$(grep "\"action\":\"ingest\",\"clip\":\"$(cat c2)\"" S/custody/testhost.jsonl | python3 -c "import json,sys; print(json.loads(sys.stdin.read())[\"time\"])") &&
  echo "ingest times: $t1, then $t2" && test "$t2" \< "$t1" &&
  bwv-verify --store S
'

test_expect_success 'clock set back between a hold and its release: the log order stands, verify passes' '
  id=$(cat c1) &&
  bwv-flag --store S --hold foi:CLK --reason "held" $id >/dev/null &&
  faketime -f -1h bwv-flag --store S --release foi:CLK --reason "released" $id >/dev/null &&
  bwv-flag --store S --list --json $id | grep -q "\"holds\":\\[\\]" &&
  bwv-verify --store S
'

test_expect_success 'clock set back between bwv-retain runs: it refuses with one line and deletes nothing; nothing goes early' '
  setup_store T CAMT >/dev/null &&
  RECORD_START=$(date -u -d "-5 days" +%Y-%m-%dT%H:%M:%SZ) RECORD_FLAGS="--duration 10" record_clips T tcam CAMT r1.bin >old &&
  RECORD_START=$(date -u +%Y-%m-%dT%H:%M:%SZ) RECORD_FLAGS="--duration 10" record_clips T tcam CAMT r2.bin >new &&
  bwv-pull --store T tcam >/dev/null &&
  faketime -f +28d bwv-retain --store T >deleted && test_cmp old deleted &&
  tree_state T >before &&
  test_must_fail --code 1 faketime -f +20d bwv-retain --store T >deleted 2>err && cat err &&
  test_one_error_line err bwv-retain && grep -q "^bwv-retain: error: clock: the clock says .*; nothing deleted$" err &&
  test ! -s deleted && tree_state T >after && test_cmp before after &&
  faketime -f +29d bwv-retain --store T >deleted && test ! -s deleted &&
  test -e "$(clip_path T $(cat new))/video.mp4" &&
  faketime -f +32d bwv-retain --store T >deleted && test_cmp new deleted &&
  bwv-verify --store T
'

test_expect_success 'in the end the first store verifies' '
  bwv-verify --store S
'

test_done
