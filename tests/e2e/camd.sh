#!/usr/bin/env bash
# bwv-camd on the simulated hardware layer: shifts scripted event by event, recorded as real
# H.264/AAC fragmented MP4, pulled and verified by the store; the pre-event buffer, reminders,
# stealth, splitting, power cuts and kills with recovery, receipts, storage full, an unset
# clock, the battery, and bad scripts. Small video everywhere (160x120, 10 fps, ultrafast).
. "$(dirname "$0")/lib.sh"
export PATH="$BWV_BUILD/firmware:$PATH"

START=2026-11-24T07:00:00Z
VIDEO='"video":{"width":160,"height":120,"fps":10,"bitrate_kbps":100,"preset":"ultrafast"}'

# camd_config DIR DEVICE [MEMBERS]: DIR/camd.json for a camera provisioned for store S; MEMBERS
# are further JSON members (default: "pre_event_seconds":30).
camd_config() {
  local members=${3:-'"pre_event_seconds":30'}
  mkdir -p "$1" &&
    printf '{"device":"%s","officer":"PC1234","seal_pub":"%s","store_pub":"%s",%s,%s}\n' "$2" \
      "$TEST_DIR/S/keys/seal.pub" "$TEST_DIR/S/keys/store.pub" "$members" "$VIDEO" >"$1/camd.json"
}

# script DIR NAME LINE...: writes DIR/NAME.txt, one line an argument.
script() {
  local dir=$1 name=$2
  shift 2
  printf '%s\n' "$@" >"$dir/$name.txt"
}

# camd DIR NAME [ARGS]: runs the camera in DIR (storage DIR/camera) on script DIR/NAME.txt,
# logging to DIR/NAME.log; the true time at the start is $CAMD_START, else $START.
camd() {
  local dir=$1 name=$2
  shift 2
  bwv-camd sim --storage "$dir/camera" --script "$dir/$name.txt" --start "${CAMD_START:-$START}" \
    --log "$dir/$name.log" "$@"
}

trust() { bwv-key --store S trust --device "$2" "$1/camera" >/dev/null; } # trust DIR DEVICE

# The ids of the clips on a camera, oldest first.
camera_ids() { for f in "$1"/camera/clips/*.json; do [ -e "$f" ] && basename "$f" .json; done; }

stored() { clip_path S "$1"; } # stored ID: the clip's directory in S


# eval "$(mf FILE)": a manifest's top-level fields as m_FIELD (strings bare, the rest as JSON),
# with m_video_size, m_video_sha256, m_fragments (how many) and m_span (end - start, seconds).
mf() {
  python3 -c 'import datetime,json,shlex,sys
m = json.load(open(sys.argv[1]))
out = {k: v if isinstance(v, str) else json.dumps(v) for k, v in m.items() if not isinstance(v, (dict, list))}
out.update(video_size=m["video"]["size"], video_sha256=m["video"]["sha256"], fragments=len(m["video"].get("fragments", [])))
t = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
out["span"] = int((t(m["end"]) - t(m["start"])).total_seconds())
print(" ".join("m_%s=%s" % (k, shlex.quote(str(v))) for k, v in out.items()))' "$1"
}

# Frames in the video stream, counted by decoding.
frames() { ffprobe -v error -count_frames -select_streams v -show_entries stream=nb_read_frames -of csv=p=0 "$1"; }

# ffprobe's start_time of the first stream of a type (v or a).
start_time() { ffprobe -v error -select_streams "$2" -show_entries stream=start_time -of csv=p=0 "$1" | head -1; }

# near A B: |A - B| < 0.1
near() { python3 -c 'import sys; sys.exit(abs(float(sys.argv[1]) - float(sys.argv[2])) >= 0.1)' "$1" "$2" ||
  { echo "$1 is not near $2"; return 1; }; }

# logged LOG WHAT: the virtual ms of every log line that says exactly WHAT, one a line.
logged() { awk -v w="$2" '{ ms = $1; $1 = ""; $2 = ""; sub(/^ +/, ""); if ($0 == w) print ms }' "$1"; }

test_expect_success 'setup: a store, and a second one for forged receipts' '
  bwv-init --store S >/dev/null && bwv-init --store Other >/dev/null
'

# --- 1. a shift -----------------------------------------------------------------------------

test_expect_success 'a shift: two activations make two clips; pull and verify accept them' '
  camd_config shift CAM0042 &&
  script shift run "00:00:00 power_on" "00:00:05 dock" "00:01:00 undock" \
    "01:00:00 double_press" "+60 hold" "+40 trigger holster" "+30 hold" "+10 dock" &&
  camd shift run &&
  grep -q " recording started by double_press$" shift/run.log &&
  grep -q " recording started by holster$" shift/run.log &&
  test "$(grep -c " clip .* finished: " shift/run.log)" -eq 2 &&
  camera_ids shift >shift/ids && test "$(wc -l <shift/ids)" -eq 2 &&
  test -z "$(ls shift/camera/tmp)" &&
  trust shift CAM0042 &&
  bwv-pull --store S shift/camera >shift/pulled &&
  test_cmp shift/ids shift/pulled &&
  bwv-verify --store S
'

test_expect_success 'a shift: stock minisign verifies both manifests with the device key' '
  pub=$(sed -n 2p shift/camera/device.pub) && test -n "$pub" &&
  for id in $(cat shift/ids); do
    minisign -V -H -P "$pub" -m "$(stored $id)/manifest.json" >out &&
    grep -q "Trusted comment: bwv-manifest $id " out || exit 1
  done
'

test_expect_success 'a shift: the chain: seq 1 and 2, clip 2 names the hash of clip 1 manifest' '
  a=$(stored $(sed -n 1p shift/ids))/manifest.json && b=$(stored $(sed -n 2p shift/ids))/manifest.json &&
  eval "$(mf $a)" &&
  test "$m_seq" = 1 && test "$m_prev_manifest_sha256" = null && test "$m_trigger" = double_press &&
  test "$m_device" = CAM0042 && test "$m_officer" = PC1234 && test "$m_recovered" = false && test "$m_stealth" = false &&
  eval "$(mf $b)" &&
  test "$m_seq" = 2 && test "$m_prev_manifest_sha256" = "$(sha256sum <$a | cut -c1-64)" && test "$m_trigger" = holster
'

test_expect_success 'a shift: the clock was set by the first dock, and each manifest says so' '
  grep -q "^5000 2026-11-24T07:00:05Z clock set by the dock to 2026-11-24T07:00:05Z$" shift/run.log &&
  for id in $(cat shift/ids); do test "$(jget $(stored $id)/manifest.json clock_set)" = 2026-11-24T07:00:05Z || exit 1; done
'

test_expect_success 'a shift: H.264 + AAC at 10 fps, an IDR exactly every 10 frames, no x264 banner' '
  for id in $(cat shift/ids); do
    v=$(stored $id)/video.mp4 &&
    ffprobe -v error -show_entries stream=codec_name -of csv=p=0 $v >codecs &&
    printf "h264\naac\n" >expect && test_cmp expect codecs &&
    test "$(ffprobe -v error -select_streams v -show_entries stream=r_frame_rate,avg_frame_rate -of csv=p=0 $v)" = "10/1,10/1" &&
    ffprobe -v error -select_streams v -show_entries packet=pts,flags -of csv $v >packets &&
    test -s packets &&
    awk -F, "{ key = (\$3 ~ /K/); if (key != ((NR - 1) % 10 == 0)) { print \"frame \" NR - 1 \": flags \" \$3; bad = 1 } }
             NR > 1 && \$2 - last != 1024 { print \"frame \" NR - 1 \": pts step \" \$2 - last; bad = 1 }
             { last = \$2 } END { if (NR % 10) { print NR \" frames: a short GOP\"; bad = 1 }; exit bad }" packets &&
    test "$(grep -c x264 $v)" = 0 || exit 1
  done
'

test_expect_success 'a shift: each clip holds its pre-event and recording seconds of frames' '
  test "$(frames $(stored $(sed -n 1p shift/ids))/video.mp4)" -eq $(( (30 + 60) * 10 )) &&
  test "$(frames $(stored $(sed -n 2p shift/ids))/video.mp4)" -eq $(( (30 + 30) * 10 ))
'

test_expect_success 'a shift: manifest fragments tile video.mp4, one per GOP, and their hashes match dd' '
  for id in $(cat shift/ids); do
    m=$(stored $id)/manifest.json && v=$(stored $id)/video.mp4 &&
    # The fragments tile the file; the first, second, third and last are printed for dd.
    python3 -c "import json,sys
m = json.load(open(sys.argv[1]))[\"video\"]; f = m[\"fragments\"]; at = 0
for x in f:
    assert x[\"offset\"] == at, (x, at); at += x[\"size\"]
assert at == m[\"size\"], (at, m[\"size\"])
# the init segment, a fragment per GOP, and at a stop maybe one of the sound the encoder held
assert len(f) - 1 - int(sys.argv[2]) // 10 in (0, 1), (len(f), sys.argv[2])
for x in f[:3] + f[-1:]: print(x[\"offset\"], x[\"size\"], x[\"sha256\"])" $m "$(frames $v)" >frags &&
    test "$(stat -c %s $v)" = "$(jget $m video size)" &&
    test "$(wc -l <frags)" -eq 4 &&
    while read -r off size sha; do
      got=$(dd if=$v bs=65536 iflag=skip_bytes,count_bytes skip=$off count=$size status=none | sha256sum | cut -c1-64) &&
      test "$got" = "$sha" || { echo "$id: the fragment at $off"; exit 1; }
    done <frags
  done
'

# --- 2. the pre-event buffer ----------------------------------------------------------------

test_expect_success 'pre-event: three cameras (30 s video only, 30 s with audio, none) record 20 s' '
  camd_config pre CAMPRE &&
  camd_config prea CAMPREA "\"pre_event_seconds\":30,\"pre_event_audio\":true" &&
  camd_config pre0 CAMPRE0 "\"pre_event_seconds\":0" &&
  for d in pre prea pre0; do
    script $d run "00:00:00 power_on" "00:00:05 dock" "00:01:00 undock" "01:00:00 double_press" "+20 hold" "+5 dock" || exit 1
  done &&
  { camd pre run & p1=$!; camd prea run & p2=$!; camd pre0 run & p3=$!; wait $p1 && wait $p2 && wait $p3; } &&
  trust pre CAMPRE && trust prea CAMPREA && trust pre0 CAMPRE0 &&
  bwv-pull --store S pre/camera prea/camera pre0/camera >pulled && test "$(wc -l <pulled)" -eq 3 &&
  bwv-verify --store S
'

test_expect_success 'pre-event 30: the clip starts 30 s before the press and holds (30 + 20) s of frames' '
  id=$(camera_ids pre) && eval "$(mf $(stored $id)/manifest.json)" &&
  test "$m_start" = 2026-11-24T07:59:30Z && test "$m_end" = 2026-11-24T08:00:20Z && test "$m_pre_event_seconds" = 30 &&
  test "$(frames $(stored $id)/video.mp4)" -eq $(( (30 + 20) * 10 ))
'

# The loudest sample of a stretch of a video's sound, in dB (-91 or below is digital silence).
max_volume() {
  ffmpeg -nostdin -hide_banner -ss "$2" -t "$3" -i "$1" -vn -af volumedetect -f null - 2>&1 |
    sed -n "s/.*max_volume: \(-*[0-9.inf]*\) dB.*/\1/p"
}

# frame_indexes VIDEO: the sim camera's frame number (frames since boot, 10 a second) of the first
# and the last frame of a video, read from the 24-bit bar the synthetic source draws along the top.
frame_indexes() {
  ffmpeg -nostdin -v error -i "$1" -f rawvideo -pix_fmt gray - | python3 -c "
import sys
w, h = 160, 120
raw = sys.stdin.buffer.read()
bar, cell = max(2, h // 16), max(1, w // 24)
def index(f):
    img = raw[f * w * h:(f + 1) * w * h]
    return sum(1 << b for b in range(24) if img[(bar // 2) * w + b * cell + cell // 2] > 128)
print(index(0), index(len(raw) // (w * h) - 1))"
}

test_expect_success 'pre-event 30: the first frame was captured 30 s before the press, the last at the hold' '
  read -r first last < <(frame_indexes $(stored $(camera_ids pre))/video.mp4) &&
  echo "# frames $first to $last (the press at frame 36000, the hold at 36200)" &&
  test "$first" -eq $(( (3600 - 30) * 10 )) && test "$last" -eq $(( (3600 + 20) * 10 - 1 ))
'

test_expect_success 'pre-event 30 without pre-event audio: no sound before the press, sound after it' '
  v=$(stored $(camera_ids pre))/video.mp4 &&
  near "$(start_time $v v)" 0 && near "$(start_time $v a)" 0 &&
  before=$(max_volume $v 0 29.5) && after=$(max_volume $v 30.5 19) &&
  echo "# max volume before the press: $before dB, after: $after dB" &&
  python3 -c "import sys; b, a = (float(x) for x in sys.argv[1:]); sys.exit(not (b <= -90 and a > -40))" "$before" "$after"
'

test_expect_success 'pre-event 30 with "pre_event_audio": true: audio from the start of the clip' '
  id=$(camera_ids prea) && eval "$(mf $(stored $id)/manifest.json)" && v=$(stored $id)/video.mp4 &&
  test "$m_start" = 2026-11-24T07:59:30Z && test "$m_pre_event_seconds" = 30 &&
  test "$(frames $v)" -eq $(( (30 + 20) * 10 )) &&
  near "$(start_time $v a)" 0 &&
  before=$(max_volume $v 0 29.5) &&
  python3 -c "import sys; sys.exit(not float(sys.argv[1]) > -40)" "$before"
'

test_expect_success 'pre-event bounded in bytes: 1 MiB of a 4000 kbit/s camera holds whole GOPs, under 9 s' '
  VIDEO="\"video\":{\"width\":640,\"height\":360,\"fps\":10,\"bitrate_kbps\":4000,\"preset\":\"ultrafast\"}" \
    camd_config preb CAMPREB "\"pre_event_seconds\":30,\"pre_event_max_mib\":1" &&
  script preb run "00:00:00 power_on" "00:00:05 dock" "00:01:00 undock" "01:00:00 double_press" "+10 hold" &&
  camd preb run && trust preb CAMPREB &&
  id=$(camera_ids preb) && bwv-pull --store S preb/camera >/dev/null && eval "$(mf $(stored $id)/manifest.json)" &&
  echo "# pre-event kept: $m_pre_event_seconds s" &&
  test "$m_pre_event_seconds" -ge 1 && test "$m_pre_event_seconds" -le 8 &&
  test "$(frames $(stored $id)/video.mp4)" -eq $(( (m_pre_event_seconds + 10) * 10 ))
'

test_expect_success 'pre-event 0: the clip starts at the press with exactly 20 s of frames' '
  id=$(camera_ids pre0) && eval "$(mf $(stored $id)/manifest.json)" && v=$(stored $id)/video.mp4 &&
  test "$m_start" = 2026-11-24T08:00:00Z && test "$m_end" = 2026-11-24T08:00:20Z && test "$m_pre_event_seconds" = 0 &&
  test "$(frames $v)" -eq $(( 20 * 10 )) &&
  near "$(start_time $v a)" 0
'

# --- 3. reminders and stealth ---------------------------------------------------------------

test_expect_success 'reminders: a 5-minute recording beeps at 120 s and 240 s, never while ready' '
  camd_config rem CAMREM && camd_config stl CAMSTL "\"pre_event_seconds\":30,\"stealth\":true" &&
  script rem run "00:00:00 power_on" "00:00:05 dock" "00:01:00 undock" "00:10:00 double_press" "+300 hold" "+300 end" &&
  script stl run "00:00:00 power_on" "00:00:05 dock" "00:01:00 undock" "00:10:00 double_press" "+130 hold" "+300 end" &&
  { camd rem run & p1=$!; camd stl run & p2=$!; wait $p1 && wait $p2; } &&
  logged rem/run.log alert_start >start && echo 600000 >expect && test_cmp expect start &&
  logged rem/run.log alert_reminder >reminders &&
  printf "720000\n840000\n" >expect && test_cmp expect reminders &&
  logged rem/run.log alert_stop >stop && echo 900000 >expect && test_cmp expect stop &&
  logged rem/run.log led_flash_on >on && echo 600000 >expect && test_cmp expect on &&
  logged rem/run.log led_flash_off >off && echo 900000 >expect && test_cmp expect off
'

test_expect_success 'stealth: no LED, no start, reminder or stop alerts; the manifest says stealth' '
  grep -q " recording started by double_press$" stl/run.log &&
  grep -q " clip .* finished: $(( (30 + 130) * 10 )) frames$" stl/run.log &&
  ! grep -E " (led_flash_on|led_flash_off|alert_start|alert_reminder|alert_stop)$" stl/run.log &&
  test "$(jget stl/camera/clips/$(camera_ids stl).json stealth)" = true &&
  test "$(jget rem/camera/clips/$(camera_ids rem).json stealth)" = false
'

# --- 4. splitting ---------------------------------------------------------------------------

test_expect_success 'split: 150 s at "max_clip_seconds": 60 makes three continuous clips, no frame lost' '
  camd_config split CAMSPLIT "\"pre_event_seconds\":30,\"max_clip_seconds\":60" &&
  script split run "00:00:00 power_on" "00:00:05 dock" "00:01:00 undock" "00:10:00 double_press" "+150 hold" "+5 dock" &&
  camd split run &&
  camera_ids split >split/ids && test "$(wc -l <split/ids)" -eq 3 &&
  trust split CAMSPLIT &&
  bwv-pull --store S split/camera >pulled && test_cmp split/ids pulled &&
  bwv-verify --store S &&
  total=0 && n=0 && prev_end= && prev_sha= &&
  for id in $(cat split/ids); do
    n=$((n + 1)) && m=$(stored $id)/manifest.json && v=$(stored $id)/video.mp4 &&
    f=$(frames $v) && total=$((total + f)) && eval "$(mf $m)" &&
    test "$m_seq" = $n &&
    if [ $n -eq 1 ]; then
      test "$m_trigger" = double_press && test "$m_start" = 2026-11-24T07:09:30Z &&
      test "$m_pre_event_seconds" = 30 && test "$m_prev_manifest_sha256" = null
    else
      test "$m_trigger" = continuation && test "$m_start" = "$prev_end" &&
      test "$m_pre_event_seconds" = 0 && test "$m_prev_manifest_sha256" = "$prev_sha"
    fi &&
    test "$m_span" -eq $((f / 10)) &&
    read -r first last < <(frame_indexes $v) &&
    if [ $n -gt 1 ]; then test "$first" -eq $((prev_last + 1)); fi && prev_last=$last &&
    ffprobe -v error -select_streams v -show_entries packet=flags -of csv=p=0 $v | head -1 | grep -q K &&
    prev_end=$m_end && prev_sha=$(sha256sum <$m | cut -c1-64) || { echo "clip $n: $id"; exit 1; }
  done &&
  test "$prev_end" = 2026-11-24T07:12:30Z &&
  test $total -eq $(( (30 + 150) * 10 ))
'

# --- 5. power cuts and kills ----------------------------------------------------------------

# One camera cut at press + $2 s, then booted and docked: powercut_camera N SECONDS
powercut_camera() {
  local d=pc$1 dev=CAMPC$1 s=$2
  camd_config $d $dev &&
    script $d cut "00:00:00 power_on" "00:00:05 dock" "00:01:00 undock" "00:10:00 double_press" "+$s power_cut" &&
    script $d boot "00:00:00 power_on" "+5 dock" &&
    camd $d cut &&
    CAMD_START=2026-11-24T12:00:00Z camd $d boot &&
    echo ok >$d/ok
}

test_expect_success 'power cuts at 20 random moments of a recording; each camera boots and recovers' '
  RANDOM=42 &&
  for n in $(seq 1 20); do echo "$n $((3 + RANDOM % 198))"; done >cuts &&
  running=0 &&
  while read -r n s; do
    powercut_camera $n $s >pc$n.out 2>&1 &
    running=$((running + 1))
    if [ $running -ge 6 ]; then wait -n || true; running=$((running - 1)); fi
  done <cuts &&
  wait &&
  for n in $(seq 1 20); do test -e pc$n/ok || { echo "camera $n:"; cat pc$n.out; exit 1; }; done
'

test_expect_success 'power cuts: the first boot recovers the clip; nothing is left in tmp/' '
  while read -r n s; do
    d=pc$n &&
    grep -q " power cut: " $d/cut.log &&
    ! grep -q " clip .* finished" $d/cut.log &&
    id=$(camera_ids $d) && test -n "$id" && test "$(echo $id | wc -w)" -eq 1 &&
    grep -q " recovery: $id: recovered [0-9]* complete fragments after a power cut$" $d/boot.log &&
    test -z "$(ls $d/camera/tmp)" &&
    grep -q "^  \"recovered\": true,$" $d/camera/clips/$id.json || { echo "camera $n, cut at press + $s s"; exit 1; }
  done <cuts
'

test_expect_success 'power cuts: every recovered clip is pulled and the store verifies' '
  while read -r n s; do trust pc$n CAMPC$n || exit 1; done <cuts &&
  bwv-pull --store S $(for n in $(seq 1 20); do echo pc$n/camera; done) >pulled &&
  test "$(wc -l <pulled)" -eq 20 &&
  bwv-verify --store S
'

test_expect_success 'power cuts: each recovered video plays, losing at most the last second' '
  while read -r n s; do
    id=$(camera_ids pc$n) && m=$(stored $id)/manifest.json && v=$(stored $id)/video.mp4 &&
    eval "$(mf $m)" && echo "$m_span" >pc$n/span &&
    test "$m_recovered" = true && test "$m_start" = 2026-11-24T07:09:30Z && test "$m_pre_event_seconds" = 30 &&
    f=$(frames $v) && echo $f >pc$n/frames &&
    test $f -ge $(( (s + 30 - 1) * 10 )) && test $f -le $(( (s + 30) * 10 )) &&
    ffmpeg -nostdin -v error -i $v -f null - 2>err && test ! -s err || { echo "camera $n, cut at press + $s s: $f frames"; cat err; exit 1; }
  done <cuts
'

test_expect_success 'power cuts: a recovered manifest ends where its video ends' '
  while read -r n s; do
    f=$(cat pc$n/frames) && span=$(cat pc$n/span) &&
    test $span -eq $(( (f + 9) / 10 )) || { echo "camera $n: $f frames, but the manifest spans $span s"; exit 1; }
  done <cuts
'

test_expect_success 'kill -9 of bwv-camd mid-recording: the next boot recovers, pull and verify pass' '
  camd_config kill CAMKILL &&
  script kill run "00:00:00 power_on" "00:00:05 dock" "00:00:10 undock" "00:00:20 double_press" "+600 hold" "+5 dock" &&
  script kill boot "00:00:00 power_on" "+5 dock" &&
  RANDOM=4242 && ms=$((300 + RANDOM % 1201)) &&
  { bwv-camd sim --storage kill/camera --script kill/run.txt --start $START --log kill/run.log & pid=$!; } &&
  sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))" &&
  kill -9 $pid && { wait $pid; test $? -eq 137; } &&
  CAMD_START=2026-11-24T12:00:00Z camd kill boot &&
  test -z "$(ls kill/camera/tmp)" &&
  if grep -q " recovery: .*: recovered [0-9]* complete fragments after a power cut$" kill/boot.log; then
    id=$(camera_ids kill) && test "$(echo $id | wc -w)" -eq 1 &&
    echo "killed after $ms ms, in the recording: recovered $id" >kill/outcome &&
    test "$(jget kill/camera/clips/$id.json recovered)" = true &&
    trust kill CAMKILL && bwv-pull --store S kill/camera >pulled && echo $id >expect && test_cmp expect pulled &&
    bwv-verify --store S &&
    ffmpeg -nostdin -v error -i $(stored $id)/video.mp4 -f null - 2>err && test ! -s err &&
    f=$(frames $(stored $id)/video.mp4) && test $((f % 10)) -eq 0 && echo "$f frames" >>kill/outcome
  else
    echo "killed after $ms ms, before the recording: nothing to recover" >kill/outcome &&
    ! grep -q " recording started" kill/run.log &&
    { ! grep -q " recovery: " kill/boot.log || grep -q " recovery: .*: nothing to recover$" kill/boot.log; } &&
    test -z "$(camera_ids kill)"
  fi
'

[ -e kill/outcome ] && sed "s/^/# /" kill/outcome

# --- 6. receipts ----------------------------------------------------------------------------

# make_receipt TEMPLATE ID MANIFEST_SHA VIDEO_SHA KEY: prints a receipt like TEMPLATE for clip ID
# with these hashes, and writes its signature by the minisign secret KEY as ID.receipt.minisig
# beside TEMPLATE (print it to ID.receipt there).
make_receipt() {
  local dir
  dir=$(dirname "$1")
  python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))
r["clip_id"], r["manifest_sha256"], r["video_sha256"] = sys.argv[2:5]
print(json.dumps(r, indent=2))' "$1" "$2" "$3" "$4" >"$dir/$2.receipt.new" &&
    minisign -S -s "$5" -m "$dir/$2.receipt.new" -x "$dir/$2.receipt.minisig" \
      -t "bwv-receipt $2 $(sha256sum <"$dir/$2.receipt.new" | cut -c1-64)" </dev/null >/dev/null &&
    cat "$dir/$2.receipt.new" && rm "$dir/$2.receipt.new"
}

test_expect_success 'receipts: after a pull, the next dock deletes exactly the receipted clips' '
  camd_config rc CAMRC &&
  script rc shift1 "00:00:00 power_on" "00:00:05 dock" "00:01:00 undock" \
    "00:10:00 double_press" "+20 hold" "+40 double_press" "+20 hold" "+5 dock" &&
  camd rc shift1 && camera_ids rc >rc/ab && test "$(wc -l <rc/ab)" -eq 2 &&
  ! grep -q "receipted, deleted" rc/shift1.log &&
  trust rc CAMRC && bwv-pull --store S rc/camera >pulled && test_cmp rc/ab pulled &&
  # Two more clips, not pulled: no dock in this shift.
  script rc shift2 "00:00:00 power_on" "00:01:00 double_press" "+20 hold" "+40 trigger vehicle" "+20 hold" "+5 end" &&
  CAMD_START=2026-11-24T09:00:00Z camd rc shift2 &&
  camera_ids rc | grep -v -x -F -f rc/ab >rc/cd && test "$(wc -l <rc/cd)" -eq 2 &&
  test "$(jget rc/camera/clips/$(sed -n 2p rc/cd).json trigger)" = vehicle &&
  # C: its own hashes, but signed by another store key; D: signed by this store key, but with
  # the hashes of clip A.
  a=$(sed -n 1p rc/ab) && c=$(sed -n 1p rc/cd) && d=$(sed -n 2p rc/cd) &&
  make_receipt rc/camera/receipts/$a.receipt $c "$(sha256sum <rc/camera/clips/$c.json | cut -c1-64)" \
    "$(jget rc/camera/clips/$c.json video sha256)" Other/keys/store.key >rc/camera/receipts/$c.receipt &&
  make_receipt rc/camera/receipts/$a.receipt $d "$(jget rc/camera/receipts/$a.receipt manifest_sha256)" \
    "$(jget rc/camera/receipts/$a.receipt video_sha256)" S/keys/store.key >rc/camera/receipts/$d.receipt &&
  minisign -V -p Other/keys/store.pub -m rc/camera/receipts/$c.receipt >/dev/null &&
  minisign -V -p S/keys/store.pub -m rc/camera/receipts/$d.receipt >/dev/null &&
  script rc dock "00:00:00 power_on" "+1 dock" &&
  CAMD_START=2026-11-24T10:00:00Z camd rc dock &&
  sed -n "s/^[0-9]* [^ ]* receipted, deleted //p" rc/dock.log | sort >deleted &&
  test_cmp rc/ab deleted &&
  camera_ids rc >left && test_cmp rc/cd left &&
  for id in $c $d; do
    test -e rc/camera/clips/$id.mp4.sealed && test -e rc/camera/clips/$id.json.minisig &&
    grep -q " receipt refused: .*$id\.receipt: " rc/dock.log || { echo "$id"; exit 1; }
  done &&
  grep " receipt refused: .*$c\.receipt: " rc/dock.log | grep -q -i "signature\|signed by" &&
  grep " receipt refused: .*$d\.receipt: " rc/dock.log | grep -q "does not match this camera" &&
  test_must_fail grep " receipt refused: .*$a\.receipt" rc/dock.log
'

test_expect_success 'receipts: a genuine pull of the remaining clips, and the next dock deletes them' '
  bwv-pull --store S rc/camera >pulled && test_cmp rc/cd pulled &&
  cp rc/dock.txt rc/dock2.txt && CAMD_START=2026-11-24T11:00:00Z camd rc dock2 &&
  sed -n "s/^[0-9]* [^ ]* receipted, deleted //p" rc/dock2.log | sort >deleted &&
  test_cmp rc/cd deleted &&
  ! grep -q "receipt refused" rc/dock2.log &&
  test -z "$(camera_ids rc)" &&
  bwv-verify --store S
'

# --- 7. storage full ------------------------------------------------------------------------

test_expect_success 'storage full: below the reserve a press is refused and nothing is written' '
  camd_config full CAMFULL &&
  script full run "00:00:00 power_on" "00:00:05 dock" "00:01:00 undock" "00:02:00 storage_free 10M" \
    "00:02:30 double_press" "+10 end" &&
  camd full run --capacity 300M &&
  grep -q "^120000 [^ ]* storage full: " full/run.log &&
  logged full/run.log alert_refused >refused && echo 150000 >expect && test_cmp expect refused &&
  ! grep -q "recording started" full/run.log &&
  test -z "$(ls full/camera/clips)" && test -z "$(ls full/camera/tmp)"
'

test_expect_success 'storage full during a recording: the clip is finished, not lost; refused after' '
  camd_config fill CAMFILL &&
  script fill run "00:00:00 power_on" "00:00:05 dock" "00:01:00 undock" "00:02:30 double_press" \
    "+20 storage_free 10M" "+10 double_press" "+10 end" &&
  camd fill run --capacity 300M &&
  grep -q "^170000 [^ ]* storage full: " fill/run.log &&
  logged fill/run.log alert_refused >refused && printf "170000\n180000\n" >expect && test_cmp expect refused &&
  test "$(grep -c " recording started" fill/run.log)" -eq 1 &&
  grep -q "^170000 [^ ]* clip [^ ]* finished: $(( (30 + 20) * 10 )) frames$" fill/run.log &&
  id=$(camera_ids fill) && test -n "$id" && test -z "$(ls fill/camera/tmp)" &&
  test "$(jget fill/camera/clips/$id.json recovered)" = false &&
  trust fill CAMFILL && bwv-pull --store S fill/camera >pulled && echo $id >expect && test_cmp expect pulled &&
  bwv-verify --store S $id &&
  test "$(frames $(stored $id)/video.mp4)" -eq $(( (30 + 20) * 10 ))
'

# --- 8. an unset clock ----------------------------------------------------------------------

test_expect_success 'clock unset: beeps at power-on and every 20 s while ready; a dock stops them' '
  camd_config clk CAMCLK &&
  script clk run "00:00:00 power_on" "00:01:05 double_press" "+30 hold" "00:02:30 dock" "+10 undock" "+60 end" &&
  camd clk run &&
  logged clk/run.log alert_clock >beeps &&
  awk "\$1 < 65000" beeps >before && printf "0\n20000\n40000\n60000\n" >expect && test_cmp expect before &&
  test -z "$(awk "\$1 >= 65000 && \$1 < 95000" beeps)" &&
  awk "\$1 >= 95000 && \$1 < 150000" beeps >after &&
  test "$(wc -l <after)" -ge 2 &&
  awk "NR > 1 && \$1 - last != 20000 { bad = 1 } { last = \$1 } END { exit bad }" after &&
  test -z "$(awk "\$1 >= 150000" beeps)" &&
  grep -q "^150000 [^ ]* clock set by the dock to 2026-11-24T07:02:30Z$" clk/run.log
'

test_expect_success 'clock unset: the clip recorded then says "clock_set": null, and still verifies' '
  id=$(camera_ids clk) && test -n "$id" &&
  test "$(jget clk/camera/clips/$id.json clock_set)" = null &&
  trust clk CAMCLK && bwv-pull --store S clk/camera >pulled && echo $id >expect && test_cmp expect pulled &&
  bwv-verify --store S $id
'

# --- 9. the battery -------------------------------------------------------------------------

test_expect_success 'battery: low warns once; critical while recording finishes the clip and powers down' '
  camd_config bat CAMBAT &&
  script bat run "00:00:00 power_on" "00:00:05 dock" "00:01:00 undock" "00:02:00 battery 14" "+10 battery 12" \
    "00:03:00 double_press" "+40 battery 2" "+10 double_press" "+10 end" &&
  camd bat run &&
  logged bat/run.log alert_battery >warned && echo 120000 >expect && test_cmp expect warned &&
  grep -q "^220000 [^ ]* clip [^ ]* finished: $(( (30 + 40) * 10 )) frames$" bat/run.log &&
  logged bat/run.log "power down" >down && echo 220000 >expect && test_cmp expect down &&
  test "$(grep -c " recording started" bat/run.log)" -eq 1 &&
  id=$(camera_ids bat) && test -z "$(ls bat/camera/tmp)" &&
  eval "$(mf bat/camera/clips/$id.json)" && test "$m_recovered" = false && test "$m_end" = 2026-11-24T07:03:40Z &&
  trust bat CAMBAT && bwv-pull --store S bat/camera >pulled && echo $id >expect && test_cmp expect pulled &&
  bwv-verify --store S $id
'

# --- 10. bad scripts ------------------------------------------------------------------------

test_expect_success 'a bad script: exit 2, one error line naming file:line, nothing written' '
  camd_config bad CAMBAD &&
  for line in "00:00:05 jump" "00:61:05 dock" "5 dock" "+1x dock" "00:00:05 battery 101" "00:00:05 dock now" \
              "00:00:05" "00:00:05 trigger pocket" "00:00:05 storage_free lots"; do
    printf "00:00:00 power_on\n%s\n+5 end\n" "$line" >bad/script.txt &&
    test_must_fail --code 2 bwv-camd sim --storage bad/camera --script bad/script.txt --log bad/log 2>err &&
    test_one_error_line err bwv-camd &&
    grep -q "^bwv-camd: error: bad/script.txt:2: " err &&
    test ! -e bad/camera && test ! -e bad/camera.internal && test ! -e bad/log || { echo "line: $line"; cat err; exit 1; }
  done &&
  printf "00:00:10 dock\n00:00:05 undock\n" >bad/back.txt &&
  test_must_fail --code 2 bwv-camd sim --storage bad/camera --script bad/back.txt 2>err &&
  test_one_error_line err bwv-camd && grep -q "^bwv-camd: error: bad/back.txt:2: time goes backwards" err
'

test_expect_success 'a bad script on a camera in use: its storage and state are unchanged' '
  tree_state bat/camera >before && tree_state bat/camera.internal >>before &&
  printf "00:00:00 power_on\n00:00:05 dock\n00:00:10 warp\n" >bat/bad.txt &&
  test_must_fail --code 2 camd bat bad 2>err &&
  test_one_error_line err bwv-camd && grep -q "bat/bad.txt:3: unknown event \"warp\"" err &&
  tree_state bat/camera >after && tree_state bat/camera.internal >>after &&
  test_cmp before after
'

test_expect_success 'in the end the store holds every clip and verifies' '
  bwv-verify --store S
'

test_done
