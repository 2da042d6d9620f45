#!/usr/bin/env bash
# Signed checkpoints of the custody logs (bwv-custody(5) CHECKPOINTS): bwv-log --checkpoint signs
# and keeps one per host log; an independent RFC 6962 and Ed25519 check in python3 agrees with
# them; bwv-verify finds a log changed or cut after one was taken.
. "$(dirname "$0")/lib.sh"

# An independent checker, from RFC 6962 (hashlib) and RFC 8032's reference Ed25519 verification,
# of C2SP signed notes on stdin: each must be a checkpoint of the store's log of its origin, the
# RFC 6962 root of that log's first SIZE lines, signed by the store key under bwv/STORE_ID.
# Prints "HOST SIZE ROOTHEX" per note. With --verifier-key, prints the store's C2SP verifier key.
cat >check_notes.py <<'EOF'
import base64, hashlib, json, sys

p = 2**255 - 19
q = 2**252 + 27742317777372353535851937790883648493
d = -121665 * pow(121666, p - 2, p) % p
sqrt_m1 = pow(2, (p - 1) // 4, p)

def add(P, Q):
    A, B = (P[1] - P[0]) * (Q[1] - Q[0]) % p, (P[1] + P[0]) * (Q[1] + Q[0]) % p
    C, D = 2 * P[3] * Q[3] * d % p, 2 * P[2] * Q[2] % p
    E, F, G, H = B - A, D - C, D + C, B + A
    return (E * F, G * H, F * G, E * H)

def mul(s, P):
    Q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            Q = add(Q, P)
        P = add(P, P)
        s >>= 1
    return Q

def equal(P, Q):
    return (P[0] * Q[2] - Q[0] * P[2]) % p == 0 and (P[1] * Q[2] - Q[1] * P[2]) % p == 0

def recover_x(y, sign):
    if y >= p:
        return None
    x2 = (y * y - 1) * pow(d * y * y + 1, p - 2, p)
    if x2 % p == 0:
        return None if sign else 0
    x = pow(x2, (p + 3) // 8, p)
    if (x * x - x2) % p != 0:
        x = x * sqrt_m1 % p
    if (x * x - x2) % p != 0:
        return None
    if (x & 1) != sign:
        x = p - x
    return x

gy = 4 * pow(5, p - 2, p) % p
gx = recover_x(gy, 0)
G = (gx, gy, 1, gx * gy % p)

def decompress(s):
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % p)

def ed25519_verify(pk, msg, sig):
    A, R = decompress(pk), decompress(sig[:32])
    s = int.from_bytes(sig[32:], "little")
    if A is None or R is None or s >= q:
        return False
    h = int.from_bytes(hashlib.sha512(sig[:32] + pk + msg).digest(), "little") % q
    return equal(mul(s, G), add(R, mul(h, A)))

def leaf(b): return hashlib.sha256(b"\x00" + b).digest()
def node(l, r): return hashlib.sha256(b"\x01" + l + r).digest()

def mth(leaves):  # RFC 6962 section 2.1
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node(mth(leaves[:k]), mth(leaves[k:]))

store = sys.argv[1]
store_id = json.load(open(store + "/config.json"))["store_id"]
name = "bwv/" + store_id
pubfile = open(store + "/keys/store.pub").read().splitlines()
pk = base64.b64decode(pubfile[1])[10:]  # "Ed", key id (8 bytes), public key (32 bytes)
assert len(pk) == 32
keyhash = hashlib.sha256(name.encode() + b"\n\x01" + pk).digest()[:4]

if sys.argv[2:] == ["--verifier-key"]:
    print(name + "+" + keyhash.hex() + "+" + base64.b64encode(b"\x01" + pk).decode())
    sys.exit(0)

data = sys.stdin.buffer.read()
lines = data.split(b"\n")
assert lines[-1] == b"", "output does not end in a newline"
lines.pop()
i, notes = 0, 0
while i < len(lines):
    body = lines[i:i + 3]
    assert len(body) == 3 and lines[i + 3] == b"", "not a three-line checkpoint and a blank line: %r" % lines[i:i + 4]
    origin, size, root = (l.decode() for l in body)
    i += 4
    sigs = []
    while i < len(lines) and lines[i].startswith("\u2014 ".encode()):
        sigs.append(lines[i])
        i += 1
    assert len(sigs) == 1, "one signature line expected: %r" % sigs
    signer, b64 = sigs[0][len("\u2014 ".encode()):].decode().split(" ")
    assert signer == name, signer
    sig = base64.b64decode(b64, validate=True)
    assert len(sig) == 68 and sig[:4] == keyhash, "key hash"
    assert ed25519_verify(pk, b"\n".join(body) + b"\n", sig[4:]), "Ed25519 signature does not verify"
    prefix = name + "/custody/"
    assert origin.startswith(prefix), origin
    host = origin[len(prefix):]
    assert size.isdigit() and (size == "0" or not size.startswith("0")), size
    n = int(size)
    log = open("%s/custody/%s.jsonl" % (store, host), "rb").read().split(b"\n")
    assert len(log) - 1 >= n, "log shorter than the checkpoint"
    want = mth([leaf(l) for l in log[:n]])
    got = base64.b64decode(root, validate=True)
    assert got == want, "root %s, RFC 6962 says %s" % (got.hex(), want.hex())
    print(host, n, got.hex())
    notes += 1
assert notes > 0, "no notes"
EOF

# The --json lines of bwv-log --checkpoint against the kept files and the verifier key.
cat >check_json.py <<'EOF'
import base64, json, os, sys
store, vkey = sys.argv[1], sys.argv[2]
hosts = []
for line in sys.stdin:
    v = json.loads(line)
    assert v["type"] == "checkpoint", v
    assert v["verifier_key"] == vkey, (v["verifier_key"], vkey)
    path = "%s/custody/checkpoints/%s/%d" % (store, v["host"], v["size"])
    assert os.path.samefile(v["file"], path), (v["file"], path)
    assert open(path).read() == v["note"], "note differs from the kept file"
    body = v["note"].split("\n")
    assert body[1] == str(v["size"]), body
    assert base64.b64decode(body[2]).hex() == v["root"], (body[2], v["root"])
    hosts.append(v["host"])
assert hosts == ["dock02", "testhost"], hosts
EOF

lines_of() { wc -l <"$1" | tr -d " "; }

test_expect_success 'setup: two clips pulled on testhost, a hold placed from dock02' '
  setup_store S &&
  head -c 40000 /dev/urandom >a.bin && head -c 50000 /dev/urandom >b.bin &&
  RECORD_FLAGS="--duration 5" record_clips S cam CAM01 a.bin b.bin >ids &&
  bwv-pull --store S cam >/dev/null &&
  BWV_HOST=dock02 bwv-flag --store S --hold foi:REQ-1 --reason "FOI REQ-1" $(head -1 ids) >/dev/null &&
  test "$(lines_of S/custody/testhost.jsonl)" -ge 3 && test "$(lines_of S/custody/dock02.jsonl)" -eq 1 &&
  bwv-verify --store S
'
n1=$(lines_of S/custody/testhost.jsonl)

test_expect_success 'bwv-log --checkpoint prints one note per host log and keeps it as custody/checkpoints/HOST/SIZE' '
  bwv-log --store S --checkpoint >notes 2>err && test ! -s err &&
  test "$(grep -c "^— bwv/" notes)" -eq 2 &&
  test -f S/custody/checkpoints/testhost/$n1 && test -f S/custody/checkpoints/dock02/1 &&
  test "$(ls S/custody/checkpoints/testhost)" = $n1 && test "$(ls S/custody/checkpoints/dock02)" = 1 &&
  cat S/custody/checkpoints/dock02/1 S/custody/checkpoints/testhost/$n1 >kept &&
  test_cmp kept notes &&
  store_id=$(python3 -c "import json; print(json.load(open(\"S/config.json\"))[\"store_id\"])") &&
  head -2 S/custody/checkpoints/testhost/$n1 >head &&
  printf "bwv/%s/custody/testhost\n%s\n" $store_id $n1 >expect && test_cmp expect head &&
  test -z "$(sed -n 4p S/custody/checkpoints/testhost/$n1)" && sed -n 5p S/custody/checkpoints/testhost/$n1 | grep -q "^— bwv/$store_id [A-Za-z0-9+/]*=*$" &&
  test "$(wc -l <S/custody/checkpoints/testhost/$n1)" -eq 5
'

test_expect_success 'each note is the RFC 6962 root of its log, signed by the store key (checked in python3)' '
  python3 check_notes.py S <notes >checked &&
  printf "dock02 1\ntesthost %s\n" $n1 >expect && cut -d" " -f1-2 checked >got && test_cmp expect got &&
  python3 check_notes.py S <S/custody/checkpoints/testhost/$n1 >/dev/null
'

test_expect_success 'the independent checker refuses a note whose root or signature is altered' '
  for line in 3 5; do
    python3 -c "
import sys
lines = open(sys.argv[1], \"rb\").read().split(b\"\\n\")
l = bytearray(lines[int(sys.argv[2]) - 1])
l[-3] = ord(\"A\") if l[-3] != ord(\"A\") else ord(\"B\")
lines[int(sys.argv[2]) - 1] = bytes(l)
sys.stdout.buffer.write(b\"\\n\".join(lines))
" S/custody/checkpoints/dock02/1 $line >bad &&
    test "$(cmp -l bad S/custody/checkpoints/dock02/1 | wc -l)" -eq 1 &&
    if python3 check_notes.py S <bad >/dev/null 2>&1; then echo "accepted with line $line altered"; exit 1; fi
  done
'

test_expect_success 'bwv-log --checkpoint --json: one line per log with the verifier key, matching the notes' '
  bwv-log --store S --checkpoint --json >json &&
  test "$(wc -l <json)" -eq 2 &&
  python3 check_notes.py S --verifier-key >vkey &&
  python3 check_json.py S "$(cat vkey)" <json &&
  python3 -c "import json,sys; [sys.stdout.write(json.loads(l)[\"note\"]) for l in sys.stdin]" <json >from-json &&
  test_cmp notes from-json &&
  case "$(cat vkey)" in bwv/*+????????+*) ;; *) false ;; esac
'

test_expect_success 'a second --checkpoint with no new entries writes nothing new' '
  tree_state S >before &&
  bwv-log --store S --checkpoint >again &&
  tree_state S >after && test_cmp before after &&
  test_cmp notes again
'

test_expect_success 'after more custody entries a checkpoint of the larger size appears, and verify passes' '
  bwv-flag --store S --category evidence-6y --case OP-1 --reason "assault" $(tail -1 ids) >/dev/null &&
  n2=$(lines_of S/custody/testhost.jsonl) && test $n2 -gt $n1 &&
  bwv-log --store S --checkpoint >notes2 &&
  test -f S/custody/checkpoints/testhost/$n2 && test -f S/custody/checkpoints/testhost/$n1 &&
  test "$(ls S/custody/checkpoints/testhost | wc -l)" -eq 2 && test "$(ls S/custody/checkpoints/dock02)" = 1 &&
  python3 check_notes.py S <notes2 >checked && grep -qx "testhost $n2 [0-9a-f]*" checked &&
  python3 check_notes.py S <notes >/dev/null &&
  bwv-verify --store S >out 2>err && test ! -s out && test ! -s err
'
n2=$(lines_of S/custody/testhost.jsonl)

test_expect_success 'one byte of an early custody line changed: verify exits 1 naming both checkpoints' '
  cp S/custody/testhost.jsonl saved.jsonl &&
  python3 -c "
import sys
p = sys.argv[1]
b = bytearray(open(p, \"rb\").read())
i = b.index(b\"test fixture\")
assert i < b.index(b\"\n\")
b[i] = ord(\"T\")
open(p, \"wb\").write(bytes(b))
" S/custody/testhost.jsonl &&
  cmp -l saved.jsonl S/custody/testhost.jsonl | wc -l | grep -qx 1 &&
  test_must_fail --code 1 bwv-verify --store S >out 2>err &&
  grep -q "testhost.jsonl: its first $n1 lines no longer hash to the signed checkpoint .*/custody/checkpoints/testhost/$n1: the log was changed after it" err &&
  grep -q "testhost.jsonl: its first $n2 lines no longer hash to the signed checkpoint .*/custody/checkpoints/testhost/$n2" err &&
  ! grep -q dock02 err &&
  cp saved.jsonl S/custody/testhost.jsonl && bwv-verify --store S
'

test_expect_success 'the last line deleted after a checkpoint: verify reports lines removed (the chain alone cannot)' '
  setup_device S CAM02 >/dev/null &&
  n3=$(lines_of S/custody/testhost.jsonl) && test $n3 -eq $((n2 + 1)) &&
  bwv-log --store S --checkpoint >/dev/null && test -f S/custody/checkpoints/testhost/$n3 &&
  bwv-verify --store S &&
  cp S/custody/testhost.jsonl saved.jsonl &&
  head -n $n2 saved.jsonl >S/custody/testhost.jsonl &&
  test_must_fail --code 1 bwv-verify --store S >out 2>err &&
  test ! -s out &&
  grep -q "testhost.jsonl: has $n2 lines, fewer than the $n3 of the signed checkpoint .*/custody/checkpoints/testhost/$n3: lines were removed" err &&
  test "$(wc -l <err)" -eq 1 &&
  mv S/custody/checkpoints checkpoints.away && bwv-verify --store S && mv checkpoints.away S/custody/checkpoints &&
  cp saved.jsonl S/custody/testhost.jsonl && bwv-verify --store S
'

test_expect_success 'a kept note copied to another size, or signed under another name, is reported' '
  cp S/custody/checkpoints/testhost/$n1 S/custody/checkpoints/testhost/1 &&
  test_must_fail --code 1 bwv-verify --store S 2>err &&
  grep -q "custody/checkpoints/testhost/1: names bwv/.*/custody/testhost size $n1, not its own log and size" err &&
  rm S/custody/checkpoints/testhost/1 &&
  cp S/custody/checkpoints/dock02/1 saved-note &&
  sed -i "\$s/^— bwv\/[0-9a-f]* /— bwv\/0000000000000000 /" S/custody/checkpoints/dock02/1 &&
  test_must_fail --code 1 bwv-verify --store S 2>err &&
  grep -q "custody/checkpoints/dock02/1: not signed by bwv/" err &&
  cp saved-note S/custody/checkpoints/dock02/1 && bwv-verify --store S
'

test_expect_success 'bwv-log --checkpoint with a clip id: exit 2, one error line, nothing written' '
  tree_state S >before &&
  test_must_fail --code 2 bwv-log --store S --checkpoint $(head -1 ids) >out 2>err &&
  test ! -s out && test_one_error_line err bwv-log &&
  echo $(head -1 ids) | test_must_fail --code 2 bwv-log --store S --checkpoint - >out 2>err &&
  test_one_error_line err bwv-log &&
  tree_state S >after && test_cmp before after
'

test_done
