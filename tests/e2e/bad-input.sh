#!/usr/bin/env bash
# Hostile and broken input: one clear line on stderr, the documented exit code, and the store
# exactly as it was.
. "$(dirname "$0")/lib.sh"

make_mp4 a.mp4 2

test_expect_success 'setup: a store with one clip, and a camera with one more' '
  setup_store S &&
  record_clips S cam0 CAM01 a.mp4 >r0 && bwv-pull --store S cam0 >/dev/null &&
  tree_state S >pristine
'

unchanged() { tree_state S >now && test_cmp pristine now; }

for cmd in bwv-verify bwv-log; do
  test_expect_success "$cmd: ids with ../ are usage errors (2)" '
    test_must_fail --code 2 '"$cmd"' --store S ../../etc/passwd 2>err &&
    test_one_error_line err '"$cmd"' && grep -q "not a clip id" err &&
    echo "20261124-CAM01-000001/../../x" | test_must_fail --code 2 '"$cmd"' --store S - 2>err &&
    test_one_error_line err '"$cmd"' && unchanged
  '
done

for cmd in bwv-verify bwv-ls bwv-log "bwv-key list" "bwv-pull cam0"; do
  test_expect_success "$cmd: a path that is not a store exits 3" '
    mkdir -p notastore &&
    test_must_fail --code 3 '"$cmd"' --store notastore 2>err &&
    test_one_error_line err '"${cmd%% *}"' && grep -q "not a bwv store" err &&
    test_must_fail --code 3 '"$cmd"' --store does-not-exist 2>err &&
    test_one_error_line err '"${cmd%% *}"'
  '
done

test_expect_success 'no --store, no BWV_STORE, not inside a store: exit 3' '
  test_must_fail --code 3 bwv-ls 2>err && test_one_error_line err bwv-ls &&
  (cd S && bwv-ls >../inside) && test_cmp r0 inside &&
  BWV_STORE=S bwv-ls >env && test_cmp r0 env
'

test_expect_success 'a store of an unknown format version exits 3 and names it' '
  cp -a S S9 && echo "bwv-store 9" >S9/bwv-store &&
  test_must_fail --code 3 bwv-verify --store S9 2>err &&
  test_one_error_line err bwv-verify && grep -q "unknown store format" err
'

test_expect_success 'unknown options and missing operands are usage errors (2)' '
  test_must_fail --code 2 bwv-verify --store S --bogus 2>err && test_one_error_line err bwv-verify &&
  test_must_fail --code 2 bwv-pull --store S 2>err && test_one_error_line err bwv-pull &&
  test_must_fail --code 2 bwv-ls --store S --since yesterday 2>err && test_one_error_line err bwv-ls &&
  unchanged
'

test_expect_success 'bwv-init refuses a non-empty directory and an existing store' '
  mkdir full && touch full/x &&
  test_must_fail --code 2 bwv-init --store full 2>err && test_one_error_line err bwv-init &&
  test_must_fail --code 2 bwv-init --store S 2>err && test_one_error_line err bwv-init &&
  grep -q "already a bwv store" err && unchanged
'

test_expect_success 'a secret key readable by others is refused (5)' '
  cp -a S Sperm && chmod 644 Sperm/keys/store.key &&
  record_clips Sperm camp CAM01 a.mp4 >/dev/null &&
  test_must_fail --code 5 bwv-pull --store Sperm camp 2>err &&
  test_one_error_line err bwv-pull && grep -q "chmod 600" err
'

# Each broken camera is pulled into S; S must not change and nothing is receipted.
broken_camera() { # broken_camera NAME: a fresh camera with one recorded clip, its id in NAME.id
  rm -rf "$1" && cp -a cam0 "$1" && rm -f "$1"/receipts/* "$1"/clips/* &&
  record_clips S "$1" CAM01 a.mp4 >"$1.id"
}

test_expect_success 'a symlinked manifest on the camera is refused' '
  broken_camera c1 && id=$(cat c1.id) &&
  mv c1/clips/$id.json elsewhere.json && ln -s ../../elsewhere.json c1/clips/$id.json &&
  test_must_fail --code 1 bwv-pull --store S c1 2>err &&
  grep -q "$id.json: is a symbolic link; refused" err &&
  test -z "$(ls c1/receipts)" && unchanged
'

test_expect_success 'a symlinked sealed video on the camera is refused' '
  broken_camera c2 && id=$(cat c2.id) &&
  mv c2/clips/$id.mp4.sealed sealed.bin && ln -s /etc/passwd c2/clips/$id.mp4.sealed &&
  test_must_fail --code 1 bwv-pull --store S c2 2>err &&
  grep -q "is a symbolic link; refused" err && unchanged
'

test_expect_success 'a symlinked clips directory on the camera is refused' '
  broken_camera c3 && mv c3/clips c3-real && ln -s ../c3-real c3/clips &&
  test_must_fail bwv-pull --store S c3 2>err && test_one_error_line err bwv-pull && unchanged
'

test_expect_success 'a truncated manifest is refused' '
  broken_camera c4 && id=$(cat c4.id) &&
  head -c 200 c4/clips/$id.json >t && cat t >c4/clips/$id.json &&
  test_must_fail --code 1 bwv-pull --store S c4 2>err &&
  test_one_error_line err bwv-pull && grep -q "$id.json: invalid JSON" err && unchanged
'

test_expect_success 'an oversized manifest is refused before it is read' '
  broken_camera c5 && id=$(cat c5.id) &&
  head -c 5000000 /dev/zero | tr "\0" " " >>c5/clips/$id.json &&
  test_must_fail --code 1 bwv-pull --store S c5 2>err &&
  test_one_error_line err bwv-pull && grep -q "too large" err && unchanged
'

test_expect_success 'invalid UTF-8 in a manifest is refused' '
  broken_camera c6 && id=$(cat c6.id) &&
  sed -i "s/PC1234/PC\xff\xfe34/" c6/clips/$id.json &&
  test_must_fail --code 1 bwv-pull --store S c6 2>err &&
  test_one_error_line err bwv-pull && grep -q "invalid JSON" err && unchanged
'

test_expect_success 'a float or a duplicate key in a manifest is refused' '
  broken_camera c7 && id=$(cat c7.id) &&
  sed -i "s/\"pre_event_seconds\": [0-9]*/\"pre_event_seconds\": 30.0/" c7/clips/$id.json &&
  test_must_fail --code 1 bwv-pull --store S c7 2>err && grep -q "floating-point" err &&
  broken_camera c8 && id=$(cat c8.id) &&
  sed -i "s/\"officer\": \"PC1234\",/\"officer\": \"PC1234\", \"officer\": \"PC1\",/" c8/clips/$id.json &&
  test_must_fail --code 1 bwv-pull --store S c8 2>err && grep -q "duplicate key" err && unchanged
'

test_expect_success 'a manifest with an unknown format version is refused by name' '
  broken_camera c9 && id=$(cat c9.id) &&
  sed -i "s/\"bwv_manifest\": 1/\"bwv_manifest\": 2/" c9/clips/$id.json &&
  test_must_fail --code 1 bwv-pull --store S c9 2>err && grep -q "unknown manifest format version 2" err && unchanged
'

test_expect_success 'a stray file on the camera is named, and the clips are still pulled' '
  broken_camera c10 && id=$(cat c10.id) && touch c10/clips/notes.txt &&
  test_must_fail --code 1 bwv-pull --store S c10 >out 2>err &&
  grep -q "notes.txt: not a bwv clip file" err && test_cmp c10.id out &&
  tree_state S >pristine
'

test_expect_success 'a directory that is not a camera is named; other cameras are still pulled' '
  mkdir notacam && broken_camera c11 &&
  test_must_fail --code 1 bwv-pull --store S notacam c11 >out 2>err &&
  test_one_error_line err bwv-pull && grep -q "notacam: not a bwv camera" err && test_cmp c11.id out &&
  tree_state S >pristine
'

test_expect_success 'a symlinked clip directory in the store is reported, not followed' '
  cp -a S Ssym && id=$(cat r0) && d=$(clip_path Ssym $id) &&
  mv $d moved && ln -s "$PWD/moved" $d &&
  test_must_fail --code 1 bwv-verify --store Ssym 2>err &&
  grep -q "not a directory; refused" err
'

test_expect_success 'a symlinked video in the store is reported, not followed' '
  cp -a S Ssym2 && id=$(cat r0) && v=$(clip_path Ssym2 $id)/video.mp4 &&
  mv $v moved.mp4 && ln -s "$PWD/moved.mp4" $v &&
  test_must_fail --code 1 bwv-verify --store Ssym2 2>err &&
  grep -q "$id: video.mp4: is a symbolic link" err
'

test_done
