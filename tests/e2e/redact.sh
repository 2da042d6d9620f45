#!/usr/bin/env bash
# bwv-redact: redacted derivatives of real camera footage (bwv-camd sim, 320x240, 10 fps, sound),
# checked with stock ffmpeg, ffprobe, minisign and sha256sum: fills hold their colour on every
# frame of their range and follow their keyframes, the rest of the picture and the sound are kept,
# muted sound is silent, untouched GOPs are copied packet for packet, nothing of the container's
# metadata or SEI survives, the same inputs give the same bytes; footage from elsewhere; refusals
# that leave the store as it was; retention of derivatives; kills mid-render.
. "$(dirname "$0")/lib.sh"
export PATH="$BWV_BUILD/firmware:$PATH"
command -v faketime >/dev/null || { echo "faketime is missing (scripts/install-deps installs it)"; exit 1; }
mc() { python3 "$BWV_SOURCE/tests/e2e/media_check.py" "$@"; }
at() { local offset=$1; shift; faketime -f "$offset" "$@"; }

test_expect_success 'setup: a 12 s clip recorded by bwv-camd with sound, pulled' '
  bwv-init --store S --organisation "Test Constabulary" >/dev/null &&
  small_camd_config S CAM07 >camd.json &&
  printf "%s\n" "00:00:00 power_on" "00:00:01 dock" "00:00:02 undock" "00:00:10 double_press" "+12 hold" >shift.txt &&
  bwv-camd sim --storage cam --config camd.json --script shift.txt --start "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --log camd.log &&
  bwv-key --store S trust --device CAM07 --reason test cam/device.pub >/dev/null &&
  bwv-pull --store S cam >/dev/null &&
  bwv-ls --store S >ids && test $(wc -l <ids) -eq 1 &&
  cp -a S S2
'
ID=$(cat ids)
O=$(clip_path S "$ID")
D1=$O-r1

cat >spec.json <<EOF
{
  "bwv_redaction": 1,
  "clip_id": "$ID",
  "boxes": [
    {"label": "face-1", "reason": "bystander",
     "keyframes": [{"t_ms": 2000, "x": 10, "y": 20, "w": 60, "h": 50},
                   {"t_ms": 5000, "x": 240, "y": 170, "w": 60, "h": 50}]}
  ],
  "audio": [{"from_ms": 7000, "to_ms": 9000, "label": "name-1", "reason": "a name", "method": "mute"}]
}
EOF

test_expect_success 'bwv-redact prints the derivative id and leaves the original as it was' '
  tree_state "$O" >before &&
  bwv-redact --store S --spec spec.json --reason "FOI REQ-7" "$ID" >out 2>err &&
  echo "$ID-r1" >expect && test_cmp expect out && test ! -s err &&
  tree_state "$O" >after && test_cmp before after &&
  test -f "$D1/video.mp4" && test -f "$D1/manifest.json" && test -f "$D1/manifest.json.minisig" &&
  test -z "$(ls S/tmp)"
'

test_expect_success 'the derivative verifies, with bwv-verify and with stock minisign and sha256sum' '
  bwv-verify --store S &&
  bwv-verify --store S "$ID-r1" &&
  minisign -Vm "$D1/manifest.json" -p S/keys/store.pub >/dev/null &&
  test "$(sha "$D1/video.mp4")" = "$(jget "$D1/manifest.json" video sha256)" &&
  test "$(stat -c %s "$D1/video.mp4")" = "$(jget "$D1/manifest.json" video size)"
'

test_expect_success 'its manifest names the original, its manifest and video, the spec and the encoder' '
  m=$D1/manifest.json &&
  test "$(jget $m derived_from clip_id)" = "$ID" &&
  test "$(jget $m derived_from manifest_sha256)" = "$(sha "$O/manifest.json")" &&
  test "$(jget $m derived_from video_sha256)" = "$(sha "$O/video.mp4")" &&
  test "$(jget $m derived_from spec_sha256)" = "$(sha spec.json)" &&
  test "$(jget $m derived_from reason)" = "FOI REQ-7" &&
  test "$(jget $m derived_from method)" = redaction &&
  jget $m derived_from encoder | grep -q "libx264 320x240@10 .*qp=10 preset=ultrafast" &&
  test "bwv store public key $(jget $m key_id)" = "$(sed -n "1s/^untrusted comment: //p" S/keys/store.pub)" &&
  test "$(jget $m device)" = CAM07 && test "$(jget $m seq)" = 1 &&
  test "$(jget $m start)" = "$(jget "$O/manifest.json" start)"
'

test_expect_success 'smart: only the 4 GOPs the box touches (2 s to 5 s) are re-encoded' '
  test "$(jget "$D1/manifest.json" derived_from render)" = smart &&
  test "$(jget "$D1/manifest.json" derived_from gops)" = 12 &&
  test "$(jget "$D1/manifest.json" derived_from reencoded_gops)" = 4
'

test_expect_success 'smart: the packets of untouched GOPs are identical to the original'"'"'s' '
  ffmpeg -v error -nostdin -i "$O/video.mp4" -map 0:v -c copy -f framemd5 - | grep -v "^#" >orig.md5 &&
  ffmpeg -v error -nostdin -i "$D1/video.mp4" -map 0:v -c copy -f framemd5 - | grep -v "^#" >deriv.md5 &&
  test $(wc -l <orig.md5) -eq 120 && test $(wc -l <deriv.md5) -eq 120 &&
  awk "{ g = int((NR - 1) / 10) } g < 2 || g > 5" orig.md5 >orig.untouched &&
  awk "{ g = int((NR - 1) / 10) } g < 2 || g > 5" deriv.md5 >deriv.untouched &&
  test $(wc -l <orig.untouched) -eq 80 && test_cmp orig.untouched deriv.untouched &&
  ! cmp -s orig.md5 deriv.md5
'

test_expect_success 'inside the moving box every pixel is the fill colour (within 4 levels) on every frame from 2 s to 5 s' '
  mc fill "$O/video.mp4" "$D1/video.mp4" spec.json >fill &&
  read -r frames pixels worst <fill &&
  echo "frames $frames pixels $pixels worst $worst" &&
  test "$frames" -eq 31 && test "$pixels" -eq $((31 * 60 * 50)) && test "$worst" -le 4
'

test_expect_success 'the box follows its keyframes: outside it the picture is the original within encoding error' '
  mc outside "$O/video.mp4" "$D1/video.mp4" spec.json >outside &&
  read -r frames mean <outside && echo "frames $frames worst mean difference $mean" &&
  test "$frames" -eq 120 && awk -v m="$mean" "BEGIN { exit !(m < 1.0) }" &&
  printf "{\"bwv_redaction\":1,\"boxes\":[{\"label\":\"x\",\"reason\":\"x\",\"keyframes\":[{\"t_ms\":2000,\"x\":240,\"y\":170,\"w\":60,\"h\":50},{\"t_ms\":5000,\"x\":10,\"y\":20,\"w\":60,\"h\":50}]}]}" >reversed.json &&
  mc outside "$O/video.mp4" "$D1/video.mp4" reversed.json >wrong &&
  read -r frames mean <wrong && echo "against the reversed path: $mean" &&
  awk -v m="$mean" "BEGIN { exit !(m > 3.0) }"
'

test_expect_success 'sound: silent in the muted range, unchanged elsewhere' '
  test "$(mc rms "$D1/video.mp4" 7030 8970)" = 0.000000 &&
  for r in "500 6900" "9100 11500"; do
    a=$(mc rms "$O/video.mp4" $r) && b=$(mc rms "$D1/video.mp4" $r) && echo "$r: $a $b" &&
    awk -v a="$a" -v b="$b" "BEGIN { exit !(a > 0.05 && (b - a) / a < 0.02 && (a - b) / a < 0.02) }" || return 1
  done
'

test_expect_success 'it decodes with zero errors, every frame and all the sound' '
  ffmpeg -v error -nostdin -i "$D1/video.mp4" -f null - 2>errors && test ! -s errors &&
  test "$(ffprobe -v error -count_frames -select_streams v -show_entries stream=nb_read_frames -of csv=p=0 "$D1/video.mp4")" = 120 &&
  test "$(ffprobe -v error -select_streams a -show_entries stream=codec_name,sample_rate,channels -of csv=p=0 "$D1/video.mp4")" = "aac,48000,1"
'

test_expect_success 'the same inputs give the same bytes (another copy of the store)' '
  bwv-redact --store S2 --spec spec.json --reason "another reason" "$ID" >out &&
  test "$(sha "$(clip_path S2 "$ID")-r1/video.mp4")" = "$(sha "$D1/video.mp4")"
'

test_expect_success 'repeating a redaction finds the derivative and changes nothing' '
  tree_state S >before &&
  bwv-redact --store S --spec spec.json --reason "FOI REQ-7" "$ID" >out 2>err &&
  echo "$ID-r1" >expect && test_cmp expect out && test ! -s err &&
  tree_state S >after && test_cmp before after &&
  bwv-redact --store S --spec spec.json -v "$ID" 2>err >/dev/null && grep -q "already made" err
'

test_expect_success 'the redaction is in the custody log: who, the original, the spec, the result' '
  bwv-log --store S --json "$ID-r1" >log && test $(grep -c "\"action\":\"redact\"" log) -eq 1 &&
  grep -q "\"original\":\"$ID\"" log && grep -q "\"spec_sha256\":\"$(sha spec.json)\"" log &&
  grep -q "\"video_sha256\":\"$(sha "$D1/video.mp4")\"" log && grep -q "\"reason\":\"FOI REQ-7\"" log
'

test_expect_success '--full re-encodes every GOP: a second derivative, the same fill, verifies' '
  bwv-redact --store S --spec spec.json --full --json "$ID" >out &&
  grep -q "\"type\":\"derivative\",\"clip\":\"$ID-r2\"" out && grep -q "\"render\":\"full\"" out &&
  test "$(jget "$O-r2/manifest.json" derived_from reencoded_gops)" = 12 &&
  read -r frames pixels worst < <(mc fill "$O/video.mp4" "$O-r2/video.mp4" spec.json) &&
  test "$frames" -eq 31 && test "$worst" -le 4 &&
  ffmpeg -v error -nostdin -i "$O-r2/video.mp4" -f null - 2>errors && test ! -s errors &&
  bwv-redact --store S2 --spec spec.json --full "$ID" >/dev/null &&
  test "$(sha "$(clip_path S2 "$ID")-r2/video.mp4")" = "$(sha "$O-r2/video.mp4")" &&
  bwv-verify --store S
'

# The progress bar needs a pseudo-terminal, which some build sandboxes (a chroot without devpts) lack.
if script -qec true /dev/null >/dev/null 2>&1; then
test_expect_success 'a progress bar on a terminal, counting GOPs (none when stderr is not one, above)' '
  sed "s/\"x\": 10,/\"x\": 14,/" spec.json >tty.json &&
  script -qec "bwv-redact --store S2 --spec tty.json $ID" tty.log >/dev/null &&
  grep -aq "bwv-redact \[#* *\] *[0-9]*% 1 / 12" tty.log &&
  grep -aq "bwv-redact \[#*\] 100% 12 / 12" tty.log && grep -aq "$ID-r" tty.log
'
else
  echo "skipped - a progress bar on a terminal: script(1) cannot make a pseudo-terminal here"
fi


cat >more.json <<EOF
{
  "bwv_redaction": 1,
  "boxes": [
    {"label": "plate-1", "reason": "a parked car", "method": "pixelate", "block": 16,
     "keyframes": [{"t_ms": 1000, "x": 100, "y": 100, "w": 64, "h": 48}, {"t_ms": 1500, "x": 100, "y": 100, "w": 64, "h": 48}]},
    {"label": "face-2", "reason": "a child", "method": "fill", "color": "#ffffff",
     "keyframes": [{"t_ms": 3000, "x": 0, "y": 0, "w": 320, "h": 40}, {"t_ms": 3900, "x": 0, "y": 0, "w": 320, "h": 40}]}
  ],
  "frames": [{"from_ms": 10000, "to_ms": 11000, "label": "screen", "reason": "an address", "method": "fill"}],
  "audio": [{"from_ms": 2000, "to_ms": 4000, "label": "name-2", "reason": "a name", "method": "bleep"}]
}
EOF

test_expect_success 'pixelation, a white fill, a whole-frame range and a bleep' '
  bwv-redact --store S --spec more.json "$ID" >out && echo "$ID-r3" >expect && test_cmp expect out &&
  read -r frames pixels worst < <(mc fill "$O/video.mp4" "$O-r3/video.mp4" more.json) &&
  echo "white fill: $frames frames, worst $worst" && test "$frames" -eq 10 && test "$worst" -le 4 &&
  printf "{\"bwv_redaction\":1,\"boxes\":[{\"label\":\"f\",\"reason\":\"f\",\"keyframes\":[{\"t_ms\":10000,\"x\":0,\"y\":0,\"w\":320,\"h\":240},{\"t_ms\":10999,\"x\":0,\"y\":0,\"w\":320,\"h\":240}]}]}" >whole.json &&
  read -r frames pixels worst < <(mc fill "$O/video.mp4" "$O-r3/video.mp4" whole.json) &&
  echo "frame range: $frames frames, worst $worst" && test "$frames" -eq 10 && test "$worst" -le 4 &&
  c=$(mc crossings "$O-r3/video.mp4" 2100 3900) && echo "bleep: $c crossings/s" && test "$c" -ge 1980 && test "$c" -le 2020 &&
  c=$(mc crossings "$O-r3/video.mp4" 5000 7000) && echo "kept: $c crossings/s" && test "$c" -ge 870 && test "$c" -le 890 &&
  ffmpeg -v error -nostdin -i "$O-r3/video.mp4" -f null - 2>errors && test ! -s errors &&
  bwv-verify --store S "$ID-r3"
'

test_expect_success 'no container metadata, no SEI and no encoder banner in a derivative' '
  for d in "$D1" "$O-r2" "$O-r3"; do
    test "$(mc nals "$d/video.mp4")" = "1 5 7 8" &&
    ffprobe -v error -show_entries format_tags:stream_tags -of flat "$d/video.mp4" >tags &&
    ! grep -Ei "location|comment|serial|encoder|creation_time|title|artist" tags &&
    ! grep -aq -e x264 -e Lavf -e Lavc "$d/video.mp4" || return 1
  done
'

test_expect_success 'footage from elsewhere: SEI, tags and B-frames; metadata gone, a full re-encode' '
  bwv-fakecam keygen --device CAM08 --key k8.key --pub k8.pub &&
  bwv-key --store S trust --device CAM08 --reason test k8.pub >/dev/null &&
  ffmpeg -nostdin -v error -f lavfi -i "testsrc2=size=320x240:rate=30" -f lavfi -i "sine=frequency=440:sample_rate=48000" \
    -t 4 -c:v libx264 -preset veryfast -g 30 -bf 2 -pix_fmt yuv420p -c:a aac -ac 1 -b:a 64k \
    -metadata location="+51.5074-000.1278/" -metadata comment="serial SN-12345" -metadata:s:v title=CAMSERIAL \
    -movflags +frag_keyframe+empty_moov+default_base_moof bframes.mp4 &&
  ffmpeg -nostdin -v error -f lavfi -i "testsrc2=size=320x240:rate=30" -f lavfi -i "sine=frequency=440:sample_rate=48000" \
    -t 4 -c:v libx264 -preset veryfast -g 30 -keyint_min 30 -sc_threshold 0 -bf 0 -x264-params repeat-headers=1 \
    -pix_fmt yuv420p -c:a aac -ac 1 -b:a 64k -metadata location="+51.5074-000.1278/" -metadata comment="serial SN-12345" \
    -movflags +frag_keyframe+empty_moov+default_base_moof closed.mp4 &&
  echo "nals: $(mc nals bframes.mp4)" && mc nals bframes.mp4 | grep -qw 6 && grep -aq x264 closed.mp4 &&
  bwv-fakecam record --camera cam8 --device CAM08 --officer PC8 --key k8.key --seal S/keys/seal.pub \
    --state k8.json --start "$(date -u +%Y-%m-%dT%H:%M:%SZ)" bframes.mp4 closed.mp4 >ids8 &&
  bwv-pull --store S cam8 >/dev/null &&
  b=$(sed -n 1p ids8) && c=$(sed -n 2p ids8) &&
  printf "{\"bwv_redaction\":1,\"boxes\":[{\"label\":\"x\",\"reason\":\"x\",\"keyframes\":[{\"t_ms\":2000,\"x\":0,\"y\":0,\"w\":100,\"h\":100},{\"t_ms\":2500,\"x\":0,\"y\":0,\"w\":100,\"h\":100}]}]}" >late.json &&
  bwv-redact --store S --spec late.json "$b" >/dev/null && bwv-redact --store S --spec late.json "$c" >/dev/null &&
  test "$(jget "$(clip_path S "$b")-r1/manifest.json" derived_from render)" = full &&
  test "$(jget "$(clip_path S "$c")-r1/manifest.json" derived_from render)" = smart &&
  for v in "$(clip_path S "$b")-r1/video.mp4" "$(clip_path S "$c")-r1/video.mp4"; do
    test "$(mc nals "$v")" = "1 5 7 8" &&
    ffprobe -v error -show_entries format_tags:stream_tags -of flat "$v" >tags &&
    ! grep -Ei "location|comment|serial|title|encoder" tags &&
    ! grep -aq -e x264 -e SN-12345 -e CAMSERIAL "$v" &&
    ffmpeg -v error -nostdin -i "$v" -f null - 2>errors && test ! -s errors || return 1
  done &&
  read -r frames pixels worst < <(mc fill "$(clip_path S "$b")/video.mp4" "$(clip_path S "$b")-r1/video.mp4" late.json) &&
  test "$frames" -eq 16 && test "$worst" -le 4 &&
  bwv-verify --store S
'

test_expect_success 'repeating on footage from elsewhere (rendered in full though smart was asked) finds the first' '
  b=$(sed -n 1p ids8) &&
  bwv-redact --store S --spec late.json "$b" >out && echo "$b-r1" >expect && test_cmp expect out &&
  test "$(jget "$(clip_path S "$b")-r1/manifest.json" derived_from requested)" = smart &&
  test ! -e "$(clip_path S "$b")-r2"
'

test_expect_success 'bwv-pull refuses a derivative offered by a camera, even signed by a trusted device key' '
  rm -rf cam9 && bwv-fakecam record --camera cam9 --device CAM08 --officer PC8 --key k8.key --seal S/keys/seal.pub \
    --state k8.json --start "$(date -u +%Y-%m-%dT%H:%M:%SZ)" closed.mp4 >id9 &&
  x=$(cat id9) && d=$(clip_path S "$(sed -n 2p ids8)")-r1/manifest.json &&
  python3 -c "import json,sys
m = json.load(open(sys.argv[1])); m[\"clip_id\"] = sys.argv[2] + \"-r1\"
m[\"derived_from\"] = json.load(open(sys.argv[3]))[\"derived_from\"]; m[\"derived_from\"][\"clip_id\"] = sys.argv[2]
open(sys.argv[1], \"w\").write(json.dumps(m, indent=2) + \"\\n\")" cam9/clips/$x.json "$x" "$d" &&
  for f in json mp4.sealed; do mv cam9/clips/$x.$f cam9/clips/$x-r1.$f; done && rm cam9/clips/$x.json.minisig &&
  printf "\n" | minisign -S -s k8.key -m cam9/clips/$x-r1.json -x cam9/clips/$x-r1.json.minisig >/dev/null 2>&1 &&
  minisign -Vm cam9/clips/$x-r1.json -p k8.pub >/dev/null &&
  tree_state S >before &&
  test_must_fail --code 1 bwv-pull --store S cam9 2>err >/dev/null && cat err &&
  grep -q "$x-r1: a derivative.s manifest, which no camera makes; refused" err &&
  test ! -e "$(clip_path S "$x")-r1" && test ! -e "$(clip_path S "$x")"
'

# refuse CODE SPEC ID: bwv-redact exits CODE with one error line and the store as it was.
refuse() {
  tree_state S >before &&
  test_must_fail --code "$1" bwv-redact --store S --spec "$2" "$3" >out 2>err &&
  test_one_error_line err bwv-redact && cat err && test ! -s out &&
  tree_state S >after && test_cmp before after
}

test_expect_success 'refused with exit 2: a spec for another clip, beyond the clip, outside the frame, malformed' '
  sed "s/$ID/20261124-CAM07-000099/" spec.json >other.json && refuse 2 other.json "$ID" &&
  grep -q "is for clip 20261124-CAM07-000099" err &&
  sed "s/\"t_ms\": 5000/\"t_ms\": 13000/" spec.json >long.json && refuse 2 long.json "$ID" &&
  sed "s/\"x\": 240/\"x\": 400/" spec.json >wide.json && refuse 2 wide.json "$ID" &&
  echo "{\"bwv_redaction\": 1, \"boxes\": [{]}" >bad.json && refuse 2 bad.json "$ID" &&
  refuse 2 missing.json "$ID" &&
  refuse 2 spec.json "$ID-r1" && grep -q "redact the original" err &&
  refuse 2 spec.json "not-an-id"
'

test_expect_success 'refused with exit 1: an unknown clip, an original whose video no longer matches its manifest' '
  grep -v "\"clip_id\"" spec.json >nocid.json && refuse 1 nocid.json 20261124-CAM07-000099 &&
  cp "$O/video.mp4" keep.mp4 && printf "\\377" | dd of="$O/video.mp4" bs=1 seek=5000 conv=notrunc 2>/dev/null &&
  sed "s/\"x\": 10,/\"x\": 12,/" spec.json >fresh.json &&
  refuse 1 fresh.json "$ID" && grep -q "does not match its signed manifest" err &&
  cp keep.mp4 "$O/video.mp4" && bwv-verify --store S
'

test_expect_success 'bwv-verify catches a derivative whose link is wrong, even signed by the store key' '
  cp -a S S3 && d=$(clip_path S3 "$ID")-r1 &&
  sed -i "s/\"video_sha256\": \"[0-9a-f]*\"/\"video_sha256\": \"$(printf %064d 0)\"/" "$d/manifest.json" &&
  grep -q "\"video_sha256\": \"$(printf %064d 0)\"" "$d/manifest.json" &&
  printf "\n" | minisign -S -s S3/keys/store.key -m "$d/manifest.json" -x "$d/manifest.json.minisig" \
    -t "bwv-manifest $ID-r1 $(sha "$d/manifest.json")" >/dev/null 2>&1 &&
  minisign -Vm "$d/manifest.json" -p S3/keys/store.pub >/dev/null &&
  test_must_fail --code 1 bwv-verify --store S3 "$ID-r1" 2>err && cat err &&
  grep -q "derived_from.video_sha256 is not" err
'

test_expect_success 'retention: a hold on the original holds its derivatives' '
  bwv-flag --store S --hold foi:REQ-7 --reason "FOI request" "$ID" >/dev/null &&
  bwv-flag --store S --list --json "$ID-r1" >list && grep -q "\"holds_in_effect\":\\[\"foi:REQ-7 (on $ID)\"\\]" list &&
  at +32d bwv-retain --store S >deleted && ! grep -q "^$ID" deleted &&
  test -f "$D1/video.mp4" && test -f "$O-r3/video.mp4"
'

test_expect_success 'retention: a derivative flagged on its own outlives its original; the others go with it' '
  bwv-flag --store S --category evidence-6y --reason "disclosed copy" "$ID-r1" >/dev/null &&
  bwv-flag --store S --release foi:REQ-7 --reason "answered" "$ID" >/dev/null &&
  bwv-flag --store S --list --json "$ID-r2" >list && grep -q "\"rule\":\"follows $ID: uncategorised (31 days)\"" list &&
  at +32d bwv-retain --store S >deleted && sort deleted >got &&
  printf "%s\n" "$ID" "$ID-r2" "$ID-r3" | sort >want && grep -v CAM08 got >got7 && test_cmp want got7 &&
  test -f "$D1/video.mp4" && test ! -e "$O/video.mp4" && test -f "$O-r2/deleted.json" &&
  at +32d bwv-verify --store S &&
  test_must_fail --code 1 bwv-redact --store S --spec fresh.json "$ID" 2>err && grep -q "deleted by policy" err
'

crash_runs=${BWV_CRASH_RUNS:-5}
test_expect_success "kills at random instants, $crash_runs times: a re-run completes, one derivative per spec, the store verifies" '
  . "$BWV_SOURCE/tests/fault/crash-lib.sh" &&
  cp -a S2 S2timing && crash_window_ms bwv-redact --store S2timing --full --spec spec.json "$ID" >window-ms && rm -rf S2timing &&
  landed=0 tries=0
  while [ "$(wc -l <crash-kills)" -lt '"$crash_runs"' ] && [ $tries -lt $((4 * '"$crash_runs"')) ]; do
    tries=$((tries + 1))
    sed "s/\"x\": 10,/\"x\": $((20 + tries)),/" spec.json >k.json || exit 1
    bwv-redact --store S2 --full --spec k.json "$ID" >/dev/null 2>&1 &
    if crash_kill_at_random $! window-ms && ! grep -q "$(sha k.json)" S2/custody/*.jsonl; then landed=$((landed + 1)); fi
    # Either no derivative of this spec, or a whole one (its custody or expiry entry may be missing).
    for d in $(grep -l "$(sha k.json)" "$(clip_path S2 "$ID")"-r*/manifest.json 2>/dev/null); do
      d=${d%/manifest.json}
      test -s $d/manifest.json.minisig && test "$(sha $d/video.mp4)" = "$(jget $d/manifest.json video sha256)" ||
        { crash_fail "try $tries: $d is not whole"; exit 1; }
    done
    before=$(cat S2/custody/*.jsonl | sha256sum; find S2/clips S2/expiry | sort | sha256sum)
    bwv-redact --store S2 --full --spec k.json "$ID" >/dev/null || { crash_fail "try $tries: the re-run failed"; exit 1; }
    [ "$before" = "$(cat S2/custody/*.jsonl | sha256sum; find S2/clips S2/expiry | sort | sha256sum)" ] || echo $tries >>crash-reruns
    test $(grep -l "$(sha k.json)" "$(clip_path S2 "$ID")"-r*/manifest.json | wc -l) -eq 1 || { crash_fail "try $tries: not one derivative"; exit 1; }
  done
  crash_summary bwv-redact $tries "landed-before-custody=$landed" &&
  echo "$landed of $tries kills landed before the custody entry" &&
  test "$(wc -l <crash-kills)" -ge '"$crash_runs"' &&
  test -z "$(ls S2/tmp)" &&
  bwv-verify --store S2
'
[ -e crash-summary ] && cat crash-summary

test_done
