#!/usr/bin/env bash
# Stock tools agree with bwv: minisign checks bwv's signatures, bwv checks minisign's, and
# sha256sum agrees with the manifest.
. "$(dirname "$0")/lib.sh"

make_mp4 a.mp4 2
make_mp4 b.mp4 3

test_expect_success 'setup: two clips pulled into a store' '
  setup_store S && record_clips S cam CAM01 a.mp4 b.mp4 >ids && bwv-pull --store S cam >/dev/null
'

test_expect_success 'minisign -V -H -P <device key> accepts every stored manifest' '
  for id in $(cat ids); do
    minisign -V -H -P "$(tail -1 keys-CAM01/device.pub)" -m "$(clip_path S $id)/manifest.json" >out &&
    grep -q "Trusted comment: bwv-manifest $id " out || exit 1
  done
'

test_expect_success 'minisign with the key file, and the trusted comment names the manifest hash' '
  id=$(head -1 ids) && m=$(clip_path S $id)/manifest.json &&
  minisign -V -p keys-CAM01/device.pub -m $m >out &&
  grep -q "Trusted comment: bwv-manifest $id $(sha256sum <$m | cut -c1-64)" out
'

test_expect_success 'minisign refuses a manifest changed by one byte' '
  id=$(head -1 ids) && m=$(clip_path S $id)/manifest.json &&
  sed "s/PC1234/PC1235/" $m >changed.json && cp $m.minisig changed.json.minisig &&
  test_must_fail minisign -V -H -P "$(tail -1 keys-CAM01/device.pub)" -m changed.json
'

test_expect_success 'sha256sum of each stored video equals the manifest value' '
  for id in $(cat ids); do
    d=$(clip_path S $id) &&
    want=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[\"video\"][\"sha256\"])" $d/manifest.json) &&
    got=$(sha256sum $d/video.mp4 | cut -c1-64) &&
    test "$want" = "$got" || exit 1
  done
'

test_expect_success 'the stored video is the MP4 the camera recorded, and ffprobe reads it' '
  id=$(head -1 ids) && cmp a.mp4 $(clip_path S $id)/video.mp4 &&
  ffprobe -v error -show_entries stream=codec_name -of csv=p=0 $(clip_path S $id)/video.mp4 >codecs &&
  grep -qx h264 codecs && grep -qx aac codecs
'

test_expect_success 'bwv accepts a device key and manifest signatures made by minisign' '
  minisign -G -W -p mini.pub -s mini.key -f >/dev/null &&
  bwv-key --store S trust --device CAM02 mini.pub &&
  cp mini.key keys-CAM02.key && mkdir -p keys-CAM02 && cp mini.key keys-CAM02/device.key && cp mini.pub keys-CAM02/device.pub &&
  record_clips S cam2 CAM02 a.mp4 >id2 && id=$(cat id2) &&
  rm cam2/clips/$id.json.minisig &&
  minisign -S -s mini.key -m cam2/clips/$id.json -x cam2/clips/$id.json.minisig -t "signed by stock minisign" </dev/null >/dev/null &&
  bwv-pull --store S cam2 >out && test_cmp id2 out &&
  bwv-verify --store S $id &&
  grep -q "trusted comment: signed by stock minisign" $(clip_path S $id)/manifest.json.minisig
'

test_expect_success 'bwv refuses a legacy (non-prehashed) signature from a different key' '
  minisign -G -W -p other.pub -s other.key -f >/dev/null &&
  record_clips S cam3 CAM02 b.mp4 >id3 && id=$(cat id3) &&
  minisign -S -l -s other.key -m cam3/clips/$id.json -x cam3/clips/$id.json.minisig </dev/null >/dev/null &&
  test_must_fail --code 1 bwv-pull --store S cam3 2>err && grep -q "signed by key" err
'

test_expect_success 'receipts verify with minisign and the store public key' '
  r=$(ls cam/receipts/*.receipt | head -1) &&
  minisign -V -p S/keys/store.pub -m $r >/dev/null
'

test_done
