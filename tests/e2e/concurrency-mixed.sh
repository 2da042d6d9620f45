#!/usr/bin/env bash
# Everything at once, BWV_STRESS_ROUNDS rounds (default 3): eight bwv-pull of eight cameras, each
# camera with three new clips, while bwv-retain (on a clock moved on with faketime, so that
# clips expire as the rounds go), two bwv-flag (a hold placed on the last round's clips, the hold
# before it released) and bwv-verify run beside them, each on its own host's custody log. After
# every round: each pull stored exactly its camera's new clips; every receipt on a camera names a
# clip the store holds with those exact hashes; every clip ever recorded is in the store, with its
# video or deleted by policy (a tombstone and one retain-delete entry), never while held; one
# ingest entry each. At the end a last bwv-retain leaves exactly the held clips' videos, and
# bwv-verify passes. A bwv-verify that runs during the others may see work half done (a clip
# renamed into place before its custody entry) and exit 1; it must not exit otherwise.
. "$(dirname "$0")/lib.sh"
command -v faketime >/dev/null || { echo "faketime is missing (scripts/install-deps installs it)"; exit 1; }

rounds=${BWV_STRESS_ROUNDS:-3}
cams="01 02 03 04 05 06 07 08"

# Clip j (from 0) of every camera starts at base + j * 10 min, base being 25 days before the
# setup; its retention (31 days) ends at setup + 6 days + j * 10 min. Round r (from 1) records
# clips j = 3r-3 .. 3r-1; its bwv-retain runs at setup + 6 days + (3r-2) * 10 min - 5 min, when
# clips up to j = 3r-3 have expired: the first of this round's, and all of the rounds before.
now() { date -u +%s; }
at_epoch() { local t=$1; shift; faketime -f "+$((t - $(now)))" "$@"; } # run at that time, ticking
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

test_expect_success 'setup: a store and eight cameras' '
  bwv-init --store S >/dev/null &&
  for d in $cams; do setup_device S CAM$d >/dev/null || exit 1; done &&
  now >setup-time && echo $(( $(cat setup-time) - 25 * 86400 )) >base &&
  : >recorded
'
setup=$(cat setup-time)
base=$(cat base)

for r in $(seq 1 "$rounds"); do
test_expect_success "round $r: 8 pulls, bwv-retain, 2 bwv-flag and bwv-verify at once" '
  r='"$r"' &&
  for d in $cams; do
    for i in 0 1 2; do head -c $((100000 + RANDOM * 4)) /dev/urandom >v$d-$i.bin; done &&
    j=$((3 * r - 3)) &&
    RECORD_START=$(iso $((base + j * 600))) RECORD_FLAGS="--duration 60 --gap 540" \
      record_clips S cam$d CAM$d v$d-0.bin v$d-1.bin v$d-2.bin >new$d || exit 1
    cat new$d >>recorded
  done &&
  prev=$((r - 1)) && : >hold-ids && : >release-ids &&
  if [ $r -ge 2 ]; then for d in 01 02 03 04; do cat round$prev-new$d >>hold-ids; done; fi &&
  if [ $r -ge 3 ]; then cp round$prev-hold-ids release-ids; fi &&
  cp hold-ids round$r-hold-ids &&
  for d in $cams; do cp new$d round$r-new$d; done
  # (Each on a line of its own: "a && b &" would put the whole list in the background.)
  for d in $cams; do
    BWV_HOST=dock$d bwv-pull --store S --wait 60 cam$d >pulled$d 2>pull-err$d &
  done
  BWV_HOST=retainer at_epoch $((setup + 6 * 86400 + (3 * r - 2) * 600 - 300)) \
    bwv-retain --store S --wait 60 >retained$r 2>retain-err &
  { rc=0; if [ -s hold-ids ]; then BWV_HOST=flagger bwv-flag --store S --hold foi:R$r --reason "round $r" - <hold-ids >flagged 2>flag-err || rc=$?; fi; echo $rc >flag-rc; } &
  { rc=0; if [ -s release-ids ]; then BWV_HOST=flagger2 bwv-flag --store S --release foi:R$prev --reason "round $r" - <release-ids >released 2>release-err || rc=$?; fi; echo $rc >release-rc; } &
  { rc=0; bwv-verify --store S >/dev/null 2>verify-err || rc=$?; echo $rc >verify-rc; } &
  wait
  for d in $cams; do
    sort new$d >want && sort pulled$d >got && test_cmp want got && test ! -s pull-err$d || { cat pull-err$d; exit 1; }
  done &&
  test ! -s retain-err &&
  # A hold and a deletion cross only in the policy lock: a clip bwv-retain deleted first cannot be
  # held, and says so; any other error is a failure.
  for f in flag release; do
    touch $f-err && test "$(cat $f-rc)" -le 1 && { ! grep -v "deleted by policy" $f-err || exit 1; } || exit 1
  done &&
  echo "bwv-verify during the round: exit $(cat verify-rc), $(wc -l <verify-err) problems" &&
  test "$(cat verify-rc)" -le 1
'

test_expect_success "round $r: receipts match the store; nothing lost, nothing deleted while held" '
  bwv-log --store S --json >log.json &&
  python3 - S recorded log.json $cams <<-\EOF &&
	import collections, glob, hashlib, json, os, sys
	store, ids = sys.argv[1], open(sys.argv[2]).read().split()
	log = [json.loads(l) for l in open(sys.argv[3])]
	ingest = collections.Counter(e["clip"] for e in log if e["action"] == "ingest")
	deleted = collections.Counter(e["clip"] for e in log if e["action"] == "retain-delete")
	bad = []
	# Every receipt names a stored clip, with its manifest and video hashes.
	for d in sys.argv[4:]:
	    for r in glob.glob(f"cam{d}/receipts/*.receipt"):
	        rc = json.load(open(r))
	        id = rc["clip_id"]
	        m = os.path.join(store, "clips", id[0:4], id[4:6], id[6:8], id, "manifest.json")
	        if not os.path.exists(m):
	            bad.append(f"{r}: no such clip stored"); continue
	        mb = open(m, "rb").read()
	        if rc["manifest_sha256"] != hashlib.sha256(mb).hexdigest() or rc["video_sha256"] != json.loads(mb)["video"]["sha256"]:
	            bad.append(f"{r}: does not match the stored clip")
	for id in ids:
	    d = os.path.join(store, "clips", id[0:4], id[4:6], id[6:8], id)
	    video, tomb = os.path.exists(d + "/video.mp4"), os.path.exists(d + "/deleted.json")
	    flags = json.load(open(d + "/flags.json")) if os.path.exists(d + "/flags.json") else {"holds": {}}
	    if ingest[id] != 1: bad.append(f"{id}: {ingest[id]} ingest entries")
	    if video == tomb: bad.append(f"{id}: video {video}, tombstone {tomb}")
	    if tomb and deleted[id] != 1: bad.append(f"{id}: deleted, {deleted[id]} retain-delete entries")
	    if not tomb and deleted[id]: bad.append(f"{id}: on record as deleted, but its video is there")
	    if tomb and flags["holds"]: bad.append(f"{id}: deleted while held by {list(flags['holds'])}")
	print("\n".join(bad[:10]))
	print(f"{len(ids)} clips recorded, {sum(1 for i in ids if deleted[i])} deleted by policy", file=sys.stderr)
	sys.exit(1 if bad else 0)
	EOF
  for d in $cams; do
    bwv-fakecam collect --camera cam$d --store-pub S/keys/store.pub >/dev/null &&
    test -z "$(ls cam$d/clips)" || { echo "cam$d keeps $(ls cam$d/clips)"; exit 1; }
  done
'
done

test_expect_success 'a last bwv-retain leaves the held clips only; bwv-verify passes' '
  BWV_HOST=retainer at_epoch $((setup + 6 * 86400 + 3 * '"$rounds"' * 600 + 3600)) bwv-retain --store S >/dev/null &&
  bwv-verify --store S &&
  for id in $(cat recorded); do
    d=$(clip_path S $id)
    if test -e $d/video.mp4; then
      grep -q "\"foi:R" $d/flags.json || { echo "$id kept without a hold"; exit 1; }
    else
      test -s $d/deleted.json || { echo "$id: no video and no tombstone"; exit 1; }
      ! grep -q "\"foi:R" $d/flags.json 2>/dev/null || { echo "$id: deleted while held"; exit 1; }
    fi
  done &&
  test "$(bwv-ls --store S | wc -l)" -eq "$(wc -l <recorded)"
'

test_done
