#!/usr/bin/env bash
# Security (bwv-security(7)): ids that try to leave the store, links inside a store or on a
# camera that lead outside it, directories others may write to, secret key files others may
# read, and keys replaced by someone who then signed with them. Every refusal: the documented
# exit code, exactly one line on stderr, and the store (and whatever lies outside it) as it was.
# Modes are read, never tried, so all of this holds when the suite runs as root.
. "$(dirname "$0")/lib.sh"
export PATH="$BWV_BUILD/firmware:$PATH"

make_mp4 a.mp4 2

test_expect_success 'setup: a store with two clips, a redaction spec, and a second store' '
  setup_store S &&
  record_clips S cam0 CAM01 a.mp4 a.mp4 >ids && bwv-pull --store S cam0 >/dev/null &&
  bwv-verify --store S &&
  printf "{\"bwv_redaction\":1,\"boxes\":[{\"label\":\"f\",\"reason\":\"r\",\"keyframes\":[{\"t_ms\":0,\"x\":1,\"y\":1,\"w\":8,\"h\":8}]}]}\n" >spec.json &&
  bwv-init --store Other >/dev/null &&
  bwv-flag --store S --hold foi:SETUP --reason "locks are made on first use" "$(sed -n 2p ids)" >/dev/null &&
  mkdir outside && echo "not the store'"'"'s" >outside/file &&
  tree_state S >pristine && tree_state outside >outside.pristine
'
ID=$(sed -n 1p ids)
ID2=$(sed -n 2p ids)
K0=$(jget S/config.json store_key_id)

unchanged() { tree_state S >now && test_cmp pristine now && tree_state outside >outside.now && test_cmp outside.pristine outside.now; }
# refused CODE COMMAND ARGS...: exits CODE with exactly one error line of COMMAND on stderr (in err).
refused() {
  local code=$1 name
  shift
  case $1 in
  on) name=${3%% *} ;;
  with_id) name=${2%-list} ;;
  *) name=$1 ;;
  esac
  test_must_fail --code "$code" "$@" >out 2>err && test_one_error_line err "$name"
}

# on STORE "COMMAND ARGS": the command, with --store STORE after its name (no quoted words in ARGS).
on() {
  local store=$1 words
  read -r -a words <<<"$2"
  "${words[0]}" --store "$store" "${words[@]:1}"
}

# Each command that takes clip ids, given one id operand (or - for stdin).
with_id() { # with_id NAME STORE ID
  case $1 in
  bwv-verify) bwv-verify --store "$2" "$3" ;;
  bwv-flag) bwv-flag --store "$2" --hold foi:SEC-1 --reason "security test" "$3" ;;
  bwv-flag-list) bwv-flag --store "$2" --list "$3" ;;
  bwv-redact) bwv-redact --store "$2" --spec spec.json --reason "security test" "$3" ;;
  bwv-foi-export) bwv-foi-export --store "$2" --request SEC-1 --court --reason "security test" --out bag-x "$3" ;;
  bwv-log) bwv-log --store "$2" "$3" ;;
  esac
}
ID_COMMANDS="bwv-verify bwv-flag bwv-flag-list bwv-redact bwv-foi-export bwv-log"

# --- 1. ids that are paths ----------------------------------------------------------------------

LONG=$(printf 'A%.0s' $(seq 5000))
BAD_IDS=("../../etc/passwd" "/etc/passwd" "$ID/../../../../etc/passwd" "$ID/video.mp4" ".." "." ""
  "$ID/" "./$ID" "$ID-r1/../$ID" "20261124-$LONG-000001" "20261124-${LONG:0:33}-000001"
  "20261124-CAM01-0000000000001" "20261124-CAM01-000001-r${LONG:0:17}" "20261324-CAM01-000001"
  "$ID"$'\n'"../x" "$ID"$'\x1b[2J' "$ID "$'\xef\xbc\x91' "20261124-CAM.01-000001" "20261124-CAM-01-000001")

for cmd in $ID_COMMANDS; do
  test_expect_success "$cmd: ids that are paths, overlong or with control characters are usage errors (2)" '
    for id in "${BAD_IDS[@]}"; do
      refused 2 with_id '"$cmd"' S "$id" || { echo "not refused: $id"; exit 1; }
      grep -q "not a clip id" err && test ! -s out || { cat err; exit 1; }
    done &&
    test ! -e bag-x && unchanged
  '
  test_expect_success "$cmd: the same read from stdin, NUL bytes included, are usage errors (2)" '
    for id in "../../etc/passwd" "/etc/passwd" "$ID/../../x" "20261124-$LONG-000001"; do
      printf "%s\n" "$id" | refused 2 with_id '"$cmd"' S - || { echo "not refused: $id"; exit 1; }
    done &&
    printf "%s\0../../x\n" "$ID" | refused 2 with_id '"$cmd"' S - && grep -q "\\\\x00" err &&
    test ! -e bag-x && unchanged
  '
done

test_expect_success 'bwv-ls: a device that is a path is a usage error (2)' '
  refused 2 bwv-ls --store S --device ../../etc && refused 2 bwv-ls --store S --device "CAM01/.." &&
  unchanged
'

test_expect_success 'BWV_HOST that is a path is a usage error (2): custody logs stay in custody/' '
  BWV_HOST=../../outside/x refused 2 bwv-flag --store S --hold foi:SEC-1 --reason r "$ID" &&
  BWV_HOST=.. refused 2 bwv-flag --store S --hold foi:SEC-1 --reason r "$ID" &&
  unchanged && test ! -e outside/x.jsonl
'

# --- 2. links inside a store ----------------------------------------------------------------------

# copy NAME: a copy of S to tamper with; its state in NAME.before
copy() { rm -rf "$1" && cp -a S "$1" && tree_state "$1" >"$1.before"; }
same() { tree_state "$1" >"$1.after" && test_cmp "$1.before" "$1.after" && unchanged; }

test_expect_success 'a clip directory linked outside the store: every command refuses it (1), nothing is written there' '
  copy L1 && d=$(clip_path L1 $ID) && mv "$d" outside/clip && ln -s "$PWD/outside/clip" "$d" &&
  tree_state L1 >L1.before && tree_state outside >outside.pristine &&
  for cmd in bwv-verify bwv-flag bwv-flag-list bwv-redact bwv-foi-export; do
    refused 1 with_id $cmd L1 "$ID" || { echo "$cmd: not refused"; exit 1; }
    grep -q "not a directory; refused" err || { cat err; exit 1; }
  done &&
  test_must_fail --code 1 bwv-ls --store L1 >out 2>err && test_one_error_line err bwv-ls && grep -qx "$ID2" out &&
  test ! -e outside/clip/flags.json && test ! -e bag-x && same L1
'

test_expect_success 'a date directory linked outside the store is refused (1)' '
  copy L2 && d=$(dirname "$(clip_path L2 $ID)") && mv "$d" outside/day && ln -s "$PWD/outside/day" "$d" &&
  tree_state L2 >L2.before && tree_state outside >outside.pristine &&
  for cmd in bwv-verify bwv-flag bwv-redact bwv-foi-export; do
    refused 1 with_id $cmd L2 "$ID" || { echo "$cmd: not refused"; exit 1; }
    grep -q "a link?" err || { cat err; exit 1; }
  done &&
  test ! -e outside/day/$ID/flags.json && same L2
'

for top in clips custody devices expiry index keys locks tmp; do
  test_expect_success "a store whose $top/ is a link is refused by every command (1), naming it" '
    copy T && mv T/'"$top"' outside/'"$top"' && ln -s "$PWD/outside/'"$top"'" T/'"$top"' &&
    tree_state T >T.before && tree_state outside >outside.pristine &&
    for c in "bwv-verify" "bwv-ls" "bwv-log" "bwv-retain" "bwv-key list" "bwv-pull cam0" \
      "bwv-flag --hold foi:X --reason r $ID" "bwv-redact --spec spec.json $ID" \
      "bwv-foi-export --request X --court --reason r --out bag-x $ID" "bwv-log --checkpoint"; do
      refused 1 on T "$c" || { echo "$c: not refused"; cat err; exit 1; }
      grep -q "T/'"$top"': is a symbolic link" err || { cat err; exit 1; }
    done &&
    same T && rm -rf outside/'"$top"' && tree_state outside >outside.pristine
  '
done

test_expect_success 'files linked outside the store: manifest, video, flags, custody log, lock' '
  copy L3 && d=$(clip_path L3 $ID) && cp "$d/video.mp4" outside/video.mp4 &&
  rm "$d/video.mp4" && ln -s "$PWD/outside/video.mp4" "$d/video.mp4" &&
  echo "{}" >outside/flags.json && ln -s "$PWD/outside/flags.json" "$d/flags.json" &&
  tree_state L3 >L3.before && tree_state outside >outside.pristine &&
  refused 1 with_id bwv-flag L3 "$ID" && grep -q "flags.json: is a symbolic link" err &&
  refused 1 with_id bwv-foi-export L3 "$ID" && grep -q "symbolic link" err &&
  refused 1 with_id bwv-redact L3 "$ID" &&
  test_must_fail --code 1 bwv-verify --store L3 "$ID" 2>err && grep -q "video.mp4: is a symbolic link" err &&
  test ! -e bag-x && same L3 &&

  copy L4 && d=$(clip_path L4 $ID) && cp "$d/manifest.json" outside/manifest.json &&
  rm "$d/manifest.json" && ln -s "$PWD/outside/manifest.json" "$d/manifest.json" &&
  tree_state L4 >L4.before && tree_state outside >outside.pristine &&
  for cmd in bwv-verify bwv-flag bwv-flag-list bwv-redact bwv-foi-export; do
    refused 1 with_id $cmd L4 "$ID" || { echo "$cmd: not refused"; exit 1; }
    grep -q "is a symbolic link" err || { cat err; exit 1; }
  done && same L4 &&

  copy L5 && cp L5/custody/testhost.jsonl outside/log.jsonl && rm L5/custody/testhost.jsonl &&
  ln -s "$PWD/outside/log.jsonl" L5/custody/testhost.jsonl &&
  tree_state L5 >L5.before && tree_state outside >outside.pristine &&
  refused 1 bwv-flag --store L5 --release foi:SETUP --reason r "$ID2" &&
  grep -q "testhost.jsonl: is a symbolic link; refused" err && same L5 &&
  # A hold takes effect before it is recorded (bwv-flag(1)): refused all the same, nothing written outside.
  refused 1 with_id bwv-flag L5 "$ID" && grep -q "testhost.jsonl: is a symbolic link; refused" err &&
  tree_state outside >outside.now && test_cmp outside.pristine outside.now &&

  copy L6 && rm L6/locks/policy && ln -s "$PWD/outside/lock" L6/locks/policy &&
  tree_state L6 >L6.before && tree_state outside >outside.pristine &&
  refused 1 with_id bwv-flag L6 "$ID" && grep -q "locks/policy: is a symbolic link; refused" err &&
  test ! -e outside/lock && same L6
'

test_expect_success 'bwv-retain removes nothing through a linked expiry day, and deletes no linked video' '
  copy R1 && day=$(ls R1/expiry | head -1) && mv R1/expiry/$day outside/$day &&
  ln -s "$PWD/outside/$day" R1/expiry/$day &&
  tree_state R1 >R1.before && tree_state outside >outside.pristine &&
  refused 1 bwv-retain --store R1 && grep -q "expiry/$day: is a symbolic link" err &&
  refused 1 bwv-flag --store R1 --hold foi:X --reason r "$ID" &&
  ls outside/$day | grep -qx "$ID" &&
  refused 1 bwv-retain --store R1 --reindex && ls outside/$day | grep -qx "$ID" &&
  rm -rf outside/$day && tree_state outside >outside.pristine &&

  copy R2 && d=$(clip_path R2 $ID) && cp "$d/video.mp4" outside/v.mp4 && rm "$d/video.mp4" &&
  ln -s "$PWD/outside/v.mp4" "$d/video.mp4" && tree_state R2 >R2.before && tree_state outside >outside.pristine &&
  { faketime -f +400d bwv-retain --store R2 >gone 2>err; test $? -eq 1; } &&
  grep -q "$ID/video.mp4: not a regular file" err && test ! -e "$d/deleted.json" && test -L "$d/video.mp4" &&
  ! grep -qx "$ID" gone && cmp outside/v.mp4 a.mp4
'

# --- 3. who may write to a store ----------------------------------------------------------------

STORE_COMMANDS=("bwv-verify" "bwv-ls" "bwv-log" "bwv-flag --list" "bwv-retain --dry-run" "bwv-key list"
  "bwv-pull cam0" "bwv-log --checkpoint")
all_refused() { # all_refused CODE STORE PATTERN
  for c in "${STORE_COMMANDS[@]}" "bwv-flag --hold foi:X --reason r $ID" "bwv-redact --spec spec.json $ID" \
    "bwv-foi-export --request X --court --reason r --out bag-x $ID" "bwv-retain"; do
    refused "$1" on "$2" "$c" || { echo "$c: not refused"; cat err; return 1; }
    grep -q "$3" err || { echo "$c:"; cat err; return 1; }
  done
}

test_expect_success 'a store root writable by others is refused by every command (5), sticky bit or not' '
  copy W1 && chmod 0757 W1 && all_refused 5 W1 "W1: writable by any user (mode 0757).*chmod o-w" &&
  chmod 1777 W1 && all_refused 5 W1 "W1: writable by any user (mode 1777)" &&
  chmod 0750 W1 && same W1
'

test_expect_success 'a top-level directory writable by others is refused (5), naming it' '
  copy W2 && for top in clips custody devices expiry index keys locks tmp; do
    chmod o+w W2/$top && all_refused 5 W2 "W2/$top: writable by any user" && chmod o-w W2/$top || exit 1
  done && same W2
'

test_expect_success 'a group may share a store (g+w, setgid), but not write to its keys (5)' '
  copy W3 && chmod 2770 W3 && chmod g+w W3/clips W3/custody W3/tmp W3/locks &&
  bwv-verify --store W3 && bwv-ls --store W3 >/dev/null &&
  chmod 0750 W3/keys && bwv-verify --store W3 &&
  chmod 0770 W3/keys && all_refused 5 W3 "W3/keys: writable by its group (mode 0770).*chmod go-w" &&
  chmod 0700 W3/keys && same W3
'

test_expect_success 'bwv-init refuses a directory others may write to (5), and makes its own 0750' '
  mkdir open && chmod 1777 open &&
  refused 5 bwv-init --store open && grep -q "open: writable by any user" err && test -z "$(ls -A open)" &&
  (umask 0 && bwv-init --store made) && test "$(stat -c %a made)" = 750 &&
  test "$(stat -c %a made/keys)" = 700 && test "$(stat -c %a made/keys/store.key)" = 600 &&
  test "$(stat -c %a made/keys/seal.key)" = 600 && bwv-verify --store made
'

# --- 4. secret key files ----------------------------------------------------------------------------

test_expect_success 'a store key file others may read is refused (5) by every command that signs' '
  record_clips S camk CAM01 a.mp4 >/dev/null &&
  for mode in 0640 0604 0644 0620; do
    copy K1 && chmod $mode K1/keys/store.key &&
    for c in "bwv-pull camk" "bwv-redact --spec spec.json $ID" "bwv-log --checkpoint" \
      "bwv-foi-export --request X --court --reason r --out bag-x $ID"; do
      refused 5 on K1 "$c" || { echo "$c: not refused"; cat err; exit 1; }
      grep -q "K1/keys/store.key: secret key file grants access to group or others (mode $mode); chmod 600 it" err ||
        { cat err; exit 1; }
    done && chmod 0600 K1/keys/store.key && same K1 && test -z "$(ls camk/receipts)" || exit 1
  done
'

test_expect_success 'a sealing key file others may read is refused (5)' '
  copy K2 && chmod 0640 K2/keys/seal.key &&
  refused 5 bwv-pull --store K2 camk && grep -q "K2/keys/seal.key: .*(mode 0640); chmod 600 it" err &&
  chmod 0600 K2/keys/seal.key && same K2 && test -z "$(ls camk/receipts)"
'

test_expect_success 'the camera refuses its device key when others may read it' '
  small_camd_config S CAM09 >camd.json &&
  printf "%s\n" "00:00:00 power_on" >boot.txt && mkdir c9 &&
  bwv-camd sim --storage c9/camera --config camd.json --script boot.txt --start 2026-11-24T07:00:00Z --log c9/log &&
  test "$(stat -c %a c9/camera.internal/device.key)" = 600 &&
  chmod 0644 c9/camera.internal/device.key &&
  test_must_fail --code 5 bwv-camd sim --storage c9/camera --config camd.json --script boot.txt \
    --start 2026-11-24T07:00:00Z --log c9/log2 2>err &&
  grep -q "device.key: secret key file grants access to group or others (mode 0644); chmod 600 it" err
'

# --- 5. keys replaced ---------------------------------------------------------------------------------

test_expect_success 'a replaced store key is refused where it signs and reported by bwv-verify' '
  copy X1 && bwv-log --store X1 --checkpoint >/dev/null && bwv-verify --store X1 &&
  bwv-verify --store X1 --key-id "$K0" && bwv-verify --store X1 --key-id "$(echo "$K0" | tr A-F a-f)" &&
  cp Other/keys/store.pub Other/keys/store.key X1/keys/ && tree_state X1 >X1.before &&
  test_must_fail --code 1 bwv-verify --store X1 2>err && test_one_error_line err bwv-verify &&
  grep -q "X1/keys/store.pub: holds key $(jget Other/config.json store_key_id), not the key $K0 config.json names as store_key_id" err &&
  refused 1 bwv-log --store X1 --checkpoint && grep -q "X1/keys/store.pub: holds key" err &&
  refused 1 bwv-pull --store X1 camk && grep -q "X1/keys/store.key: holds key" err &&
  same X1 && test -z "$(ls camk/receipts)"
'

test_expect_success 'keys and config.json both replaced, checkpoints signed again: only --key-id can tell' '
  copy X2 && bwv-log --store X2 --checkpoint >/dev/null &&
  cp Other/keys/store.pub Other/keys/store.key X2/keys/ &&
  python3 -c "import json,sys; c=json.load(open(sys.argv[1])); c[\"store_key_id\"]=sys.argv[2]; open(sys.argv[1],\"w\").write(json.dumps(c, indent=2)+\"\n\")" \
    X2/config.json "$(jget Other/config.json store_key_id)" &&
  rm -rf X2/custody/checkpoints && bwv-log --store X2 --checkpoint >/dev/null &&
  bwv-verify --store X2 &&
  test_must_fail --code 1 bwv-verify --store X2 --key-id "$K0" 2>err && test_one_error_line err bwv-verify &&
  grep -q "X2/config.json: names store key $(jget Other/config.json store_key_id), not the key $K0 given with --key-id" err
'

test_expect_success 'a replaced sealing public key (cameras would seal to it) is reported by bwv-verify' '
  copy X3 && cp Other/keys/seal.pub X3/keys/seal.pub &&
  test_must_fail --code 1 bwv-verify --store X3 2>err && test_one_error_line err bwv-verify &&
  grep -q "X3/keys/seal.pub: holds key .*seal_key_id" err
'

test_expect_success 'bwv-verify --key-id: a malformed key id is a usage error (2)' '
  refused 2 bwv-verify --store S --key-id XYZ && refused 2 bwv-verify --store S --key-id 0123456789ABCDEF0 &&
  refused 2 bwv-verify --store S --key-id "" && unchanged
'

test_expect_success 'bwv-verify --bag --key-id: a bag is the store'"'"'s only if its key is the one published' '
  bwv-flag --store S --hold foi:REQ-S --reason "security test" "$ID" >/dev/null &&
  bwv-foi-export --store S --request REQ-S --court --reason "security test" --out bag "$ID" >/dev/null &&
  tree_state S >pristine &&
  bwv-verify --bag bag --key-id "$K0" &&
  refused 1 bwv-verify --bag bag --key-id "$(jget Other/config.json store_key_id)" &&
  grep -q "bag/keys/store.pub: holds store key $K0, not the key .* given with --key-id" err
'

# --- 6. camera storage ------------------------------------------------------------------------------------

# camera NAME [DEVICE]: a fresh camera with the device's next clip (CAM02's by default), its id in NAME.id.
camera() { rm -rf "$1" && record_clips S "$1" "${2:-CAM02}" a.mp4 >"$1.id"; }

test_expect_success 'a camera whose receipts/ or tmp/ is a link is refused (1), and nothing is written through it' '
  setup_device S CAM02 >/dev/null && tree_state S >pristine &&
  for sub in receipts tmp clips; do
    camera cl CAM01 && mkdir -p outside/cam-$sub && mv cl/$sub/* outside/cam-$sub/ 2>/dev/null; rmdir cl/$sub &&
    ln -s "$PWD/outside/cam-$sub" cl/$sub && tree_state outside >outside.pristine &&
    refused 1 bwv-pull --store S cl && grep -q "cl/$sub: missing or not a directory" err &&
    unchanged && rm -rf outside/cam-$sub && tree_state outside >outside.pristine || exit 1
  done
'

test_expect_success 'a receipt planted on the camera as a link is replaced, not written through' '
  camera cr && id=$(cat cr.id) &&
  ln -s "$PWD/outside/file" cr/receipts/$id.receipt && ln -s "$PWD/outside/file" cr/receipts/$id.receipt.minisig &&
  bwv-pull --store S cr >out && test_cmp cr.id out &&
  test -f cr/receipts/$id.receipt && ! test -L cr/receipts/$id.receipt && ! test -L cr/receipts/$id.receipt.minisig &&
  tree_state outside >outside.now && test_cmp outside.pristine outside.now &&
  tree_state S >pristine
'

# Names that begin with a dot are a writer's temporary files to every reader, and passed over.
test_expect_success 'names on a camera that are not clip ids (.., newlines, slashes in the manifest) are refused' '
  camera cn && id=$(cat cn.id) &&
  touch "cn/clips/..json" "cn/clips/...mp4.sealed" "cn/clips/..$id.json.minisig" &&
  touch "cn/clips/$id..json" "cn/clips/${id%-*}-0000"$'"'"'\n'"'"'"01.json" "cn/clips/$id.json~" &&
  test_must_fail --code 1 bwv-pull --store S cn >out 2>err &&
  test "$(wc -l <err)" -eq 3 && test "$(grep -c "not a bwv clip file; ignored" err)" -eq 3 &&
  grep -qF "0000\\x0a01.json: not a bwv clip file" err && test_cmp cn.id out &&
  tree_state S >pristine &&

  camera cd && id=$(cat cd.id) &&
  sed -i "s/\"device\": \"CAM02\"/\"device\": \"..\/..\/outside\"/" cd/clips/$id.json && grep -q outside cd/clips/$id.json &&
  refused 1 bwv-pull --store S cd && grep -q "not a device id" err && unchanged &&

  camera cm && id=$(cat cm.id) && other=${id%-*}-000099 &&
  for f in cm/clips/$id.*; do mv "$f" "cm/clips/$other${f#cm/clips/$id}"; done &&
  refused 1 bwv-pull --store S cm && grep -q "manifest names clip $id" err && unchanged &&
  test -z "$(ls cm/receipts)"
'

test_expect_success 'bwv-key trust refuses a camera whose device.pub is a link (1)' '
  camera ck && Other_pub=$(cd Other/keys && pwd)/store.pub && rm ck/device.pub && ln -s "$Other_pub" ck/device.pub &&
  refused 1 bwv-key --store S trust --device CAM77 ck && grep -q "device.pub: is a symbolic link" err && unchanged
'

test_done
