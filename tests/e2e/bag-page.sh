#!/usr/bin/env bash
# A bag's index.html in headless Chromium (Debian's chromium): each clip's video shows its first
# picture where the page puts it. The screenshot is compared with one of the same page in which
# every <video> is an <img> of stock ffmpeg's decode of that picture (tests/e2e/page_check.py).
. "$(dirname "$0")/lib.sh"
export PATH="$BWV_BUILD/firmware:$PATH"
page() { python3 "$BWV_SOURCE/tests/e2e/page_check.py" "$@"; }

test_expect_success 'setup: two clips from bwv-camd, one redacted, exported for a court with both originals' '
  command -v chromium >/dev/null || { echo "chromium is not installed (scripts/install-deps installs it)"; exit 1; } &&
  bwv-init --store S --organisation "Test Constabulary" >/dev/null &&
  small_camd_config S CAM07 >camd.json &&
  printf "%s\n" "00:00:00 power_on" "00:00:01 dock" "00:00:02 undock" "00:00:10 double_press" "+4 hold" \
    "+5 double_press" "+4 hold" >shift.txt &&
  bwv-camd sim --storage cam --config camd.json --script shift.txt --start 2026-11-24T09:00:00Z --log camd.log &&
  bwv-key --store S trust --device CAM07 --reason test cam/device.pub >/dev/null &&
  bwv-pull --store S cam >/dev/null &&
  bwv-ls --store S | sort >ids && test $(wc -l <ids) -eq 2 &&
  printf "{\"bwv_redaction\":1,\"boxes\":[{\"label\":\"face-1\",\"reason\":\"bystander\",\"keyframes\":[{\"t_ms\":0,\"x\":10,\"y\":20,\"w\":120,\"h\":100}]}]}\n" >spec.json &&
  bwv-redact --store S --spec spec.json --reason "court bundle" "$(sed -n 1p ids)" >/dev/null &&
  bwv-foi-export --store S --request CASE-9 --out bag --court --reason "R v Smith: exhibit bundle" $(cat ids) >exported &&
  test $(wc -l <exported) -eq 3 &&
  page variants bag >videos && test "$(cat videos)" -eq 3
'

# 320x240 clips are drawn 640x480 (index.html's video rule: 40em wide); a section is under 1000 px.
height=$((300 + 1000 * 3))
area=$((3 * 640 * 480))

test_expect_success 'the page draws in headless Chromium, and the reference pages with it' '
  for p in index ref bare broken; do page shot "bag/$p.html" "$p.png" $height || exit 1; done
'

test_expect_success 'without controls, each video shows its first picture exactly where ffmpeg'"'"'s decode goes' '
  n=$(page diff bare.png ref.png) && echo "$n pixels differ" &&
  test "$n" -le $((area / 100))
'

test_expect_success 'index.html as shipped shows the same pictures under the video controls' '
  n=$(page diff index.png ref.png) && echo "$n pixels differ (the controls drawn over the pictures)" &&
  test "$n" -le $((area * 35 / 100))
'

test_expect_success 'the comparison sees a page whose videos do not show (their files missing)' '
  n=$(page diff broken.png ref.png) && echo "$n pixels differ" &&
  test "$n" -ge $((area * 60 / 100))
'

test_done
