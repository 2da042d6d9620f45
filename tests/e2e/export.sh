#!/usr/bin/env bash
# bwv-foi-export: disclosure bags (bwv-bag(5)) of real camera footage (bwv-camd sim, two clips,
# redacted with bwv-redact), checked from the bag's root with nothing but stock sha256sum,
# sha512sum, minisign, sh and python3: the payload and tag manifests, the store's signature on
# the tag manifest, every command of README.txt as written, Payload-Oxum, the custody proofs;
# refusals that export nothing and record nothing; --court; the disclosure in the store's custody.
. "$(dirname "$0")/lib.sh"
export PATH="$BWV_BUILD/firmware:$PATH"

test_expect_success 'setup: two clips recorded by bwv-camd with sound, pulled; the first redacted; both held' '
  bwv-init --store S --organisation "Test Constabulary" >/dev/null &&
  small_camd_config S CAM07 >camd.json &&
  printf "%s\n" "00:00:00 power_on" "00:00:01 dock" "00:00:02 undock" "00:00:10 double_press" "+4 hold" \
    "+5 double_press" "+4 hold" >shift.txt &&
  bwv-camd sim --storage cam --config camd.json --script shift.txt --start "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --log camd.log &&
  bwv-key --store S trust --device CAM07 --reason test cam/device.pub >/dev/null &&
  bwv-pull --store S cam >/dev/null &&
  bwv-ls --store S | sort >ids && test $(wc -l <ids) -eq 2 &&
  printf "{\"bwv_redaction\":1,\"boxes\":[{\"label\":\"face-1\",\"reason\":\"bystander\",\"keyframes\":[{\"t_ms\":1000,\"x\":10,\"y\":20,\"w\":60,\"h\":50},{\"t_ms\":2000,\"x\":100,\"y\":20,\"w\":60,\"h\":50}]}]}\n" >spec.json &&
  bwv-redact --store S --spec spec.json --reason "FOI REQ-7" "$(sed -n 1p ids)" >/dev/null &&
  bwv-flag --store S --hold foi:REQ-7 --reason "FOI request REQ-7 received" $(cat ids) >/dev/null
'
A=$(sed -n 1p ids)
B=$(sed -n 2p ids)
KEYID=$(jget "$(clip_path S "$A")/manifest.json" key_id)

# The commands of a bag's README.txt: the lines indented by exactly four spaces.
readme_commands() { grep '^    [^ ]' "$1/README.txt" | sed 's/^    //'; }
# Runs every README command as written, with sh, from the bag's root; each must succeed.
run_readme() { # run_readme BAG
  local n=0 c
  readme_commands "$1" >"$1.commands" && test -s "$1.commands" || return 1
  while IFS= read -r c; do
    (cd "$1" && sh -c "$c") </dev/null >"$1.run" 2>&1 || { echo "README command failed: $c"; cat "$1.run"; return 1; }
    n=$((n + 1))
  done <"$1.commands"
  echo "$1: $n README commands passed"
}
# The stock checks, from the bag's root.
stock_checks() { # stock_checks BAG
  (cd "$1" &&
    sha512sum --quiet -c manifest-sha512.txt &&
    sha256sum --quiet -c manifest-sha256.txt &&
    sha512sum --quiet -c tagmanifest-sha512.txt &&
    minisign -Vm tagmanifest-sha512.txt -p keys/store.pub >/dev/null)
}
# The custody logs and checkpoints of the store, to compare before and after.
custody_state() { tree_state S/custody; }
# No hidden temporary bag left beside the bags.
no_temp_bags() { test -z "$(find . -maxdepth 1 -name '.*.tmp-*')"; }
# refuse OUT ARGS...: exit 1, one error line, nothing on stdout, no bag, the store as it was.
refuse() {
  local bag=$1
  shift
  tree_state S >before &&
  test_must_fail --code 1 bwv-foi-export --store S --out "$bag" "$@" >stdout 2>err &&
  cat err && test ! -s stdout && ! grep -v "^bwv-foi-export: error: .*; nothing exported$" err &&
  test ! -e "$bag" && no_temp_bags &&
  tree_state S >after && test_cmp before after
}

test_expect_success 'an original with no redacted copy is refused: exit 1, one line naming it, nothing made or recorded' '
  refuse refused1 --request REQ-7 "$A" "$B" &&
  grep -q "$B: has no redacted copy" err && ! grep -q "$A:" err &&
  refuse refused2 --request REQ-7 --reason "a reason, but not a court" "$B" &&
  refuse refused3 --request REQ-7 --court "$B" && grep -q "$B: has no redacted copy" err
'

test_expect_success 'every refused clip is named, one error line each, and nothing goes' '
  refuse refused4 --request REQ-7 "$B" 20261124-CAM07-000099 "$A" &&
  test $(wc -l <err) -eq 2 &&
  grep -q "$B: has no redacted copy" err && grep -q "20261124-CAM07-000099: " err
'

test_expect_success 'a clip not held for the request is refused; with --reason it goes' '
  refuse refused5 --request REQ-8 "$A" && grep -q "$A: not under a hold for request REQ-8" err &&
  refuse refused6 --request REQ-8 "$A-r1" && grep -q "$A-r1: not under a hold for request REQ-8" err &&
  custody_state >before &&
  bwv-foi-export --store S --request REQ-8 --reason "disclosed under s.40 review" --out bag8 "$A" >stdout &&
  echo "$A-r1" >expect && test_cmp expect stdout && no_temp_bags &&
  stock_checks bag8 && run_readme bag8 &&
  grep -qx "External-Identifier: REQ-8" bag8/bag-info.txt &&
  bwv-log --store S --json "$A-r1" | grep "\"action\":\"disclose\"" | grep "\"request\":\"REQ-8\"" |
    grep -q "\"reason\":\"disclosed under s.40 review\""
'

test_expect_success '--court --reason exports an original with no redacted copy, with its device key' '
  bwv-foi-export --store S --request REQ-7 --court --reason "court order 2026/118" --json --out bagc1 "$B" >stdout &&
  grep -q "\"type\":\"exported\",\"clip\":\"$B\",\"role\":\"original\"" stdout && test $(wc -l <stdout) -eq 1 &&
  test -f "bagc1/data/$B/video.mp4" && test -f "bagc1/keys/CAM07-$KEYID.pub" &&
  test "$(sed -n 2p "bagc1/keys/CAM07-$KEYID.pub")" = "$(sed -n 2p cam/device.pub)" &&
  (cd bagc1 && minisign -Vm "data/$B/manifest.json" -p "keys/CAM07-$KEYID.pub" >/dev/null) &&
  stock_checks bagc1 && run_readme bagc1 &&
  grep -qx "Bwv-Clips: 1" bagc1/bag-info.txt && grep -q "disclosure to a court" bagc1/bag-info.txt &&
  (cd bagc1 && python3 custody/verify-proofs.py >/dev/null)
'

test_expect_success 'the disclosure: two redacted copies for REQ-7, each id printed, the bag put in place whole' '
  bwv-redact --store S --spec spec.json --reason "FOI REQ-7" "$B" >/dev/null &&
  custody_state >custody-before && cp S/custody/testhost.jsonl log-before &&
  bwv-foi-export --store S --request REQ-7 --recipient "J. Smith, 1 High Street" --out bag "$A" "$B" >stdout 2>stderr &&
  printf "%s\n" "$A-r1" "$B-r1" >expect && test_cmp expect stdout && test ! -s stderr &&
  test -d bag && no_temp_bags &&
  find bag -type f | sed "s|^bag/||" | LC_ALL=C sort >files &&
  for id in "$A-r1" "$B-r1"; do
    for f in video.mp4 manifest.json manifest.json.minisig; do grep -qx "data/$id/$f" files || return 1; done
  done &&
  for f in bagit.txt bag-info.txt manifest-sha256.txt manifest-sha512.txt tagmanifest-sha512.txt \
    tagmanifest-sha512.txt.minisig README.txt index.html keys/store.pub custody/entries.jsonl \
    custody/testhost.checkpoint custody/verify-proofs.py; do grep -qx "$f" files || { echo "no $f"; return 1; }; done &&
  ! grep -q "^data/$A/" files && ! grep -q "^keys/CAM07" files &&
  cmp bag/keys/store.pub S/keys/store.pub &&
  cmp "bag/data/$A-r1/video.mp4" "$(clip_path S "$A")-r1/video.mp4" &&
  cmp "bag/data/$B-r1/manifest.json" "$(clip_path S "$B")-r1/manifest.json"
'

test_expect_success 'from the bag root: sha512sum -c, sha256sum -c, the tag manifest, and minisign on it pass' '
  (cd bag && sha512sum -c manifest-sha512.txt && sha256sum -c manifest-sha256.txt &&
    sha512sum -c tagmanifest-sha512.txt && minisign -Vm tagmanifest-sha512.txt -p keys/store.pub) >checks &&
  cat checks && test $(grep -c ": OK$" checks) -eq $((6 + 6 + 10)) &&
  grep -q "Signature and comment signature verified" checks &&
  grep -qx "Trusted comment: bwv-bag REQ-7 $(sha bag/tagmanifest-sha512.txt)" checks
'

test_expect_success 'every README command (the lines indented by four spaces) passes, run as written from the bag root' '
  run_readme bag &&
  test $(wc -l <bag.commands) -eq $((5 + 2 * 2)) &&
  grep -qx "minisign -Vm tagmanifest-sha512.txt -p keys/store.pub" bag.commands &&
  grep -qx "python3 custody/verify-proofs.py" bag.commands &&
  grep -qx "minisign -Vm data/$A-r1/manifest.json -p keys/store.pub" bag.commands
'

test_expect_success 'the manifests list every payload file, both ways, and nothing else; hash lines are "HEX  PATH"' '
  (cd bag && find data -type f | LC_ALL=C sort) >payload &&
  ! grep -Evq "^[0-9a-f]{64}  data/[^ ]+$" bag/manifest-sha256.txt &&
  ! grep -Evq "^[0-9a-f]{128}  data/[^ ]+$" bag/manifest-sha512.txt &&
  cut -c67- bag/manifest-sha256.txt >m256 && test_cmp payload m256 &&
  cut -c131- bag/manifest-sha512.txt >m512 && test_cmp payload m512
'

test_expect_success 'the tag manifest covers every tag file but itself and its signature' '
  (cd bag && find . -type f ! -path "./data/*" ! -name "tagmanifest-sha512.txt*" | sed "s|^\./||" | LC_ALL=C sort) >tagfiles &&
  cut -c131- bag/tagmanifest-sha512.txt >tm && test_cmp tagfiles tm &&
  test $(wc -l <tm) -eq 10
'

test_expect_success 'bagit.txt and bag-info.txt: the version, the request, the store, the recipient, Payload-Oxum' '
  printf "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n" >expect && test_cmp expect bag/bagit.txt &&
  bytes=$(find bag/data -type f -printf "%s\n" | awk "{ s += \$1 } END { print s }") &&
  files=$(find bag/data -type f | wc -l) && test "$files" -eq 6 &&
  grep -x "Payload-Oxum: $bytes.$files" bag/bag-info.txt &&
  grep -qx "Source-Organization: Test Constabulary" bag/bag-info.txt &&
  grep -qx "External-Identifier: REQ-7" bag/bag-info.txt &&
  grep -qx "Bwv-Store-Id: $(jget S/config.json store_id)" bag/bag-info.txt &&
  grep -qx "Bwv-Recipient: J. Smith, 1 High Street" bag/bag-info.txt &&
  grep -qx "Bwv-Clips: 2" bag/bag-info.txt &&
  grep -qx "Bagging-Date: [0-9]\{4\}-[0-9][0-9]-[0-9][0-9]" bag/bag-info.txt
'

test_expect_success 'index.html plays each clip from data/' '
  for id in "$A-r1" "$B-r1"; do grep -q "<video [^>]*src=\"data/$id/video.mp4\"" bag/index.html || return 1; done
'

# Alters one character of the first line of an entries.jsonl: the action ingest -> ingesT.
alter_line() { grep -q 'ingest' <(head -1 "$1") && sed -i '1s/ingest/ingesT/' "$1"; }
# Alters one character of the first proof element of the first line.
alter_proof() { sed -i '1{s/"proof":\["A/"proof":["B/;t;s/"proof":\["./"proof":["A/}' "$1"; }

test_expect_success 'custody/verify-proofs.py passes, and fails when a line or a proof element is altered' '
  (cd bag && python3 custody/verify-proofs.py) >proofs && cat proofs &&
  n=$(wc -l <bag/custody/entries.jsonl) && test "$n" -eq 6 &&
  grep -qx "$n entries, 0 failed" proofs &&
  cp -a bag bag-line && alter_line bag-line/custody/entries.jsonl &&
  ! cmp -s bag/custody/entries.jsonl bag-line/custody/entries.jsonl &&
  test_must_fail --code 1 python3 bag-line/custody/verify-proofs.py >proofs && grep -q "^FAILED: " proofs &&
  cp -a bag bag-proof && alter_proof bag-proof/custody/entries.jsonl &&
  ! cmp -s bag/custody/entries.jsonl bag-proof/custody/entries.jsonl &&
  test_must_fail --code 1 python3 bag-proof/custody/verify-proofs.py >proofs && grep -q "^FAILED: " proofs &&
  test_must_fail sh -c "cd bag-line && sha512sum --quiet -c tagmanifest-sha512.txt" 2>/dev/null
'

test_expect_success 'the proofs cover each clip and its original: ingest, redact, this disclosure, and nothing else' '
  python3 -c "import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l); x = json.loads(e[\"line\"]); print(x[\"action\"], x[\"clip\"])" bag/custody/entries.jsonl >covered &&
  for id in "$A" "$B"; do
    grep -qx "ingest $id" covered && grep -qx "redact $id-r1" covered && grep -qx "disclose $id-r1" covered || return 1
  done &&
  test $(wc -l <covered) -eq 6 && ! grep -q "^flag-" covered &&
  head -1 bag/custody/testhost.checkpoint | grep -qx "bwv/$(jget S/config.json store_id)/custody/testhost" &&
  test "$(sed -n 2p bag/custody/testhost.checkpoint)" -eq "$(wc -l <S/custody/testhost.jsonl)" &&
  sed -n 4p bag/custody/testhost.checkpoint | grep -qx "" &&
  sed -n 5p bag/custody/testhost.checkpoint | grep -q "^— bwv/$(jget S/config.json store_id) "
'

# The checkpoints' note signatures, checked with openssl as bwv-bag(5) shows (CHECKING BY HAND).
check_notes() { # check_notes BAG
  local t c
  t=$(mktemp -d) &&
    { printf '\060\052\060\005\006\003\053\145\160\003\041\000'; sed -n 2p "$1/keys/store.pub" | base64 -d | tail -c 32; } >"$t/store.der" &&
    for c in "$1"/custody/*.checkpoint; do
      head -n 3 "$c" >"$t/body" && sed -n 5p "$c" | cut -d" " -f3 | base64 -d | tail -c 64 >"$t/sig" &&
        openssl pkeyutl -verify -pubin -inkey "$t/store.der" -keyform DER -rawin -in "$t/body" -sigfile "$t/sig" ||
        { rm -r "$t"; return 1; }
    done
  rm -r "$t"
}

if command -v openssl >/dev/null; then
  test_expect_success 'the checkpoints are signed by the store key (openssl, as bwv-bag(5) shows), and a changed one is not' '
    check_notes bag && check_notes bagc1 &&
    cp -a bag bag-note && sed -i "2s/.*/1/" bag-note/custody/testhost.checkpoint &&
    test_must_fail check_notes bag-note >/dev/null
  '
fi

test_expect_success 'the disclosure is in the store'"'"'s custody log, one entry per clip, and the store verifies' '
  bwv-log --store S --json "$A-r1" "$B-r1" | grep "\"action\":\"disclose\"" | grep "\"request\":\"REQ-7\"" |
    grep "\"recipient\":\"J. Smith, 1 High Street\"" >disclosed &&
  test $(wc -l <disclosed) -eq 2 &&
  grep -q "\"clip\":\"$A-r1\"" disclosed && grep -q "\"clip\":\"$B-r1\"" disclosed &&
  grep -q "\"manifest_sha256\":\"$(sha "bag/data/$A-r1/manifest.json")\"" disclosed &&
  grep -q "\"video_sha256\":\"$(sha "bag/data/$B-r1/video.mp4")\"" disclosed &&
  grep -q "\"role\":\"redacted\"" disclosed && grep -q "\"court\":false" disclosed &&
  test $(($(wc -l <S/custody/testhost.jsonl) - $(wc -l <log-before))) -eq 2 &&
  cmp log-before <(head -n "$(wc -l <log-before)" S/custody/testhost.jsonl) &&
  bwv-verify --store S
'

test_expect_success '--court: the originals too, with the device key; the links and README commands check' '
  bwv-foi-export --store S --request REQ-7 --court --out bagc "$A" "$B-r1" >stdout &&
  printf "%s\n" "$A" "$A-r1" "$B" "$B-r1" >expect && LC_ALL=C sort stdout >got && test_cmp expect got &&
  for id in "$A" "$A-r1" "$B" "$B-r1"; do test -f "bagc/data/$id/video.mp4" || return 1; done &&
  test -f "bagc/keys/CAM07-$KEYID.pub" &&
  grep -qx "    minisign -Vm data/$A/manifest.json -p keys/CAM07-$KEYID.pub" bagc/README.txt &&
  stock_checks bagc && run_readme bagc &&
  test "$(jget "bagc/data/$A-r1/manifest.json" derived_from manifest_sha256)" = "$(sha "bagc/data/$A/manifest.json")" &&
  test "$(jget "bagc/data/$B-r1/manifest.json" derived_from video_sha256)" = "$(sha "bagc/data/$B/video.mp4")" &&
  bwv-log --store S --json "$A" | grep "\"action\":\"disclose\"" | grep -q "\"role\":\"original\"" &&
  bwv-verify --store S
'

test_expect_success '--out that exists is a usage error (exit 2): nothing made or recorded' '
  mkdir there && touch file && tree_state S >before &&
  test_must_fail --code 2 bwv-foi-export --store S --request REQ-7 --out there "$A" 2>err &&
  test_one_error_line err bwv-foi-export && test -z "$(ls -A there)" &&
  test_must_fail --code 2 bwv-foi-export --store S --request REQ-7 --out file "$A" 2>err &&
  test_one_error_line err bwv-foi-export && test ! -s file &&
  test_must_fail --code 2 bwv-foi-export --store S --request REQ-7 --out bag "$A" 2>err &&
  test_one_error_line err bwv-foi-export && no_temp_bags &&
  tree_state S >after && test_cmp before after
'

test_expect_success 'a one-byte change in data/ makes sha512sum -c (and sha256sum -c) fail' '
  cp -a bag bag-bad && f="bag-bad/data/$A-r1/video.mp4" &&
  b=$(od -An -tx1 -j 5000 -N1 "$f" | tr -d " ") &&
  if [ "$b" = 00 ]; then printf "\001"; else printf "\000"; fi | dd of="$f" bs=1 seek=5000 conv=notrunc 2>/dev/null &&
  ! cmp -s "bag/data/$A-r1/video.mp4" "$f" &&
  test_must_fail sh -c "cd bag-bad && sha512sum --quiet -c manifest-sha512.txt" >out 2>&1 &&
  grep -q "data/$A-r1/video.mp4: FAILED" out &&
  test_must_fail sh -c "cd bag-bad && sha256sum --quiet -c manifest-sha256.txt" >/dev/null 2>&1 &&
  stock_checks bag
'

test_expect_success 'bwv-verify --bag passes on every bag made here, and names the store key' '
  for b in bag bag8 bagc1 bagc; do
    bwv-verify -v --bag $b 2>err || { cat err; return 1; }
    grep -q "0 problems" err && grep -q "signed by store key $(sed -n "1s/.* //p" S/keys/store.pub)" err || return 1
  done &&
  bwv-verify --bag bag --json | grep -q "\"type\":\"bag\".*\"ok\":true"
'

# bag_fails NAME CMD...: a copy of bag changed by CMD (run inside it) must fail bwv-verify --bag.
bag_fails() {
  local name=$1
  shift
  rm -rf "$name" && cp -a bag "$name" && (cd "$name" && eval "$*") &&
    test_must_fail --code 1 bwv-verify --bag "$name" 2>err && head -3 err
}

test_expect_success 'bwv-verify --bag fails after a one-byte change anywhere in the bag' '
  for f in $(cd bag && find . -type f | sort); do
    rm -rf b1 && cp -a bag b1 &&
    size=$(stat -c %s "b1/$f") && at=$((size / 2)) &&
    byte=$(od -An -tu1 -j $at -N1 "b1/$f" | tr -d " ") &&
    printf "\\$(printf %03o $(((byte + 1) % 256)))" | dd of="b1/$f" bs=1 seek=$at conv=notrunc 2>/dev/null &&
    ! cmp -s "bag/$f" "b1/$f" || return 1
    if bwv-verify --bag b1 2>/dev/null; then echo "a change in $f was not caught"; return 1; fi
  done
'

test_expect_success 'bwv-verify --bag fails on the altered bags, added and removed files, and a wrong key' '
  test_must_fail --code 1 bwv-verify --bag bag-line 2>err && grep -q "inclusion proof" err &&
  test_must_fail --code 1 bwv-verify --bag bag-proof 2>err && grep -q "inclusion proof" err &&
  bag_fails b2 "echo extra >data/extra.txt" && grep -q "not in manifest-sha256.txt" err &&
  bag_fails b3 "rm data/$A-r1/manifest.json.minisig" &&
  bag_fails b4 "echo x >extra-tag.txt" && grep -q "not in tagmanifest-sha512.txt" err &&
  bag_fails b5 "sed -i s/Payload-Oxum:.*/Payload-Oxum:\ 1.1/ bag-info.txt" &&
  bag_fails b6 "bwv-init --store ../other --organisation x >/dev/null && cp ../other/keys/store.pub keys/store.pub" &&
  grep -q "signature" err &&
  bag_fails b7 "ln -sf /etc/passwd data/$A-r1/video.mp4" &&
  bag_fails b8 "rm -r keys && ln -s ../outside-keys keys" && grep -q "keys: a symbolic link" err &&
  test_must_fail --code 2 bwv-verify --bag bag "$A" 2>err && test_one_error_line err bwv-verify &&
  test_must_fail bwv-verify --bag no-such-bag 2>err && test_one_error_line err bwv-verify
'

test_expect_success 'bwv-verify --bag reads nothing through a linked directory (a FIFO there would block it)' '
  mkdir outside && mkfifo outside/store.pub outside/hostname &&
  cp -a bag b9 && rm -r b9/keys && ln -s ../outside b9/keys &&
  echo "$(printf x | sha512sum | cut -c1-128)  keys/hostname" >>b9/tagmanifest-sha512.txt &&
  rc=0 && timeout 20 bwv-verify --bag b9 2>err || rc=$? &&
  test $rc -eq 1 && grep -q "b9/keys: a symbolic link" err
'

test_done
