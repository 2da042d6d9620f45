#!/usr/bin/env bash
# From a docked camera to a verified store: what bwv-pull accepts, what it refuses, and what
# bwv-verify finds afterwards.
. "$(dirname "$0")/lib.sh"

make_mp4 a.mp4 2
make_mp4 b.mp4 3
# A video larger than one 1 MiB chunk, so damage can be located to a chunk.
head -c 3500000 /dev/urandom >big.bin

test_expect_success 'pull three clips, then verify passes' '
  setup_store S &&
  record_clips S cam CAM01 a.mp4 b.mp4 big.bin >recorded &&
  bwv-pull --store S cam >pulled &&
  test_cmp recorded pulled &&
  bwv-verify --store S >out 2>err &&
  test ! -s out && test ! -s err
'

test_expect_success 'every pulled clip has a receipt on the camera' '
  for id in $(cat recorded); do test -s cam/receipts/$id.receipt && test -s cam/receipts/$id.receipt.minisig; done
'

test_expect_success 'a second pull changes nothing and writes receipts again' '
  tree_state S >before &&
  bwv-pull --store S cam >again &&
  test ! -s again &&
  tree_state S >after &&
  test_cmp before after
'

test_expect_success 'bwv-ls lists the clips newest first, and --json carries the fields' '
  tac recorded >expect &&
  bwv-ls --store S >actual &&
  test_cmp expect actual &&
  bwv-ls --store S --json | head -1 | python3 -c "import json,sys; v=json.loads(sys.stdin.read()); assert v[\"type\"]==\"clip\" and v[\"device\"]==\"CAM01\" and v[\"seq\"]==3, v" &&
  bwv-ls --store S --device NOPE >none && test ! -s none &&
  bwv-ls --store S --since 2026-11-24T09:01:00Z >since && test "$(wc -l <since)" -eq 2 &&
  bwv-ls --store S -z | tr "\0" "\n" >z && test_cmp expect z
'

test_expect_success 'bwv-log shows the ingest of a clip, and --json the stored line' '
  id=$(head -1 recorded) &&
  bwv-log --store S $id >log &&
  grep -q " ingest $id " log &&
  bwv-log --store S --json $id | python3 -c "import json,sys; v=json.loads(sys.stdin.readline()); assert v[\"type\"]==\"custody\" and v[\"action\"]==\"ingest\", v"
'

test_expect_success 'the camera deletes exactly the receipted clips' '
  bwv-fakecam collect --camera cam --store-pub S/keys/store.pub >deleted &&
  test_cmp recorded deleted &&
  test -z "$(ls cam/clips)"
'

test_expect_success 'a flipped byte in a stored video: verify exits 1 naming the clip and byte range' '
  id=$(tail -1 recorded) &&
  v=$(clip_path S $id)/video.mp4 &&
  cp $v saved &&
  printf "\377" | dd of=$v bs=1 seek=1500000 conv=notrunc status=none &&
  test_must_fail --code 1 bwv-verify --store S >out 2>err &&
  echo $id >expect && test_cmp expect out &&
  grep -q "$id: video.mp4: bytes 1048576-2097151 do not match the manifest (chunk 1)" err &&
  cp saved $v && bwv-verify --store S
'

test_expect_success 'verify with ids checks only those, and reads ids from stdin' '
  bwv-verify --store S $(head -1 recorded) &&
  bwv-ls --store S | bwv-verify --store S - &&
  bwv-verify --store S --json $(head -1 recorded) | tail -1 | grep -q "\"type\":\"summary\",\"clips\":1,"
'

test_expect_success 'a stored clip removed is reported missing' '
  cp -a S S.bak &&
  id=$(sed -n 2p recorded) &&
  rm -rf "$(clip_path S $id)" &&
  test_must_fail --code 1 bwv-verify --store S 2>err &&
  grep -q "CAM01: chain gap: clip seq 2 is missing" err &&
  grep -q "$id: missing: custody records its ingest" err &&
  test_must_fail --code 1 bwv-verify --store S $id 2>err2 &&
  grep -q "$id: no such clip in the store" err2 &&
  rm -rf S && mv S.bak S
'

test_expect_success 'an untrusted device: pull refuses, leaves the clip unreceipted' '
  mkdir -p keys-CAM09 && bwv-fakecam keygen --device CAM09 --key keys-CAM09/device.key --pub keys-CAM09/device.pub &&
  record_clips S cam9 CAM09 a.mp4 >r9 &&
  tree_state S >before &&
  test_must_fail --code 1 bwv-pull --store S cam9 >out 2>err &&
  test ! -s out &&
  grep -q "$(cat r9): device CAM09 key .* is not trusted by this store" err &&
  test -z "$(ls cam9/receipts)" &&
  tree_state S >after && test_cmp before after
'

test_expect_success 'a revoked device: pull refuses its new clips; stored ones still verify' '
  setup_device S CAM02 &&
  record_clips S cam2 CAM02 a.mp4 >r2a &&
  bwv-pull --store S cam2 >/dev/null &&
  bwv-key --store S revoke --reason "camera stolen" CAM02 &&
  bwv-key --store S list | grep -q "^CAM02 .* revoked" &&
  record_clips S cam2 CAM02 b.mp4 >r2b &&
  test_must_fail --code 1 bwv-pull --store S cam2 2>err &&
  grep -q "$(cat r2b): device CAM02 key .* was revoked" err &&
  test ! -e cam2/receipts/$(cat r2b).receipt &&
  bwv-verify --store S &&
  test_must_fail --code 1 bwv-key --store S trust --device CAM02 keys-CAM02/device.pub
'

test_expect_success 'a tampered manifest is refused' '
  setup_device S CAM03 &&
  record_clips S cam3 CAM03 a.mp4 >r3 &&
  id=$(cat r3) &&
  sed -i "s/PC1234/PC9999/" cam3/clips/$id.json &&
  test_must_fail --code 1 bwv-pull --store S cam3 2>err &&
  grep -q "$id: manifest: signature verification failed" err &&
  test ! -e cam3/receipts/$id.receipt && test ! -e "$(clip_path S $id)"
'

test_expect_success 'a video that does not match its manifest is refused and left on the camera' '
  setup_device S CAM04 &&
  record_clips S cam4 CAM04 a.mp4 >r4 &&
  id=$(cat r4) &&
  # Re-seal other content under the same manifest: the AEAD holds, the hash does not.
  mkdir other && record_clips S other CAM04 b.mp4 >/dev/null &&
  cp other/clips/*.mp4.sealed cam4/clips/$id.mp4.sealed &&
  test_must_fail --code 1 bwv-pull --store S cam4 2>err &&
  grep -q "$id: video does not match its manifest" err &&
  test -e cam4/clips/$id.mp4.sealed && test ! -e cam4/receipts/$id.receipt &&
  test ! -e "$(clip_path S $id)" && test -z "$(ls S/tmp)"
'

test_expect_success 'a damaged sealed video is refused' '
  setup_device S CAM05 &&
  record_clips S cam5 CAM05 big.bin >r5 &&
  id=$(cat r5) &&
  printf "\0" | dd of=cam5/clips/$id.mp4.sealed bs=1 seek=2000000 conv=notrunc status=none &&
  test_must_fail --code 1 bwv-pull --store S cam5 2>err &&
  grep -q "authentication failed" err && test ! -e cam5/receipts/$id.receipt
'

test_expect_success 'a gap in the chain is reported; the clips around it are ingested' '
  setup_device S CAM06 &&
  record_clips S cam6 CAM06 a.mp4 >r6a &&
  RECORD_FLAGS="--skip 1" record_clips S cam6 CAM06 b.mp4 >r6b &&
  test_must_fail --code 1 bwv-pull --store S cam6 >out 2>err &&
  cat r6a r6b >expect && test_cmp expect out &&
  grep -q "CAM06: chain gap: clips seq 2 are neither on this camera nor in the store" err &&
  test_must_fail --code 1 bwv-verify --store S 2>verr &&
  grep -q "CAM06: chain gap: clip seq 2 is missing" verr
'

test_expect_success 'a forged receipt, or one from another store, deletes nothing' '
  # The camera was provisioned for S2, but another store (Other) pulls it and receipts.
  setup_store Other CAM07 &&
  bwv-init --store S2 &&
  record_clips Other cam7 CAM07 a.mp4 >r7 &&
  id=$(cat r7) &&
  bwv-pull --store Other cam7 >/dev/null &&
  test_must_fail bwv-fakecam collect --camera cam7 --store-pub S2/keys/store.pub 2>err &&
  grep -q "signed by key" err && test -e cam7/clips/$id.mp4.sealed &&
  sed -i "s/\"video_sha256\": \"./\"video_sha256\": \"0/" cam7/receipts/$id.receipt &&
  test_must_fail bwv-fakecam collect --camera cam7 --store-pub Other/keys/store.pub &&
  test -e cam7/clips/$id.mp4.sealed
'

test_done
