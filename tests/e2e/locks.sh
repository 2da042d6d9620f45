#!/usr/bin/env bash
# The lock protocol: a pull waits for, or gives up on, a lock held elsewhere with the documented
# try-later exit code (4), and leaves the store unchanged.
. "$(dirname "$0")/lib.sh"

# Holds an OFD lock (as bwv takes them) on FILE until killed: hold_lock FILE shared|exclusive
hold_lock() {
  python3 - "$1" "$2" <<'PY' &
import fcntl, os, struct, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
kind = fcntl.F_WRLCK if sys.argv[2] == "exclusive" else fcntl.F_RDLCK
fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack("hhqqi", kind, 0, 0, 0, 0))
open("lock.held", "w").close()
time.sleep(600)
PY
  holder=$!
  while [ ! -e lock.held ]; do sleep 0.05; done
  rm -f lock.held
}

make_mp4 a.mp4 2

test_expect_success 'setup' '
  setup_store S && record_clips S cam CAM01 a.mp4 >ids
'

test_expect_success 'store locked exclusively (maintenance): pull --wait 0 exits 4, store unchanged' '
  hold_lock S/locks/store exclusive &&
  tree_state S >before &&
  test_must_fail --code 4 bwv-pull --store S --wait 0 cam 2>err; rc=$?; kill $holder
  [ $rc -eq 0 ] && test_one_error_line err bwv-pull && grep -q "try again later" err &&
  tree_state S >after && test_cmp before after && test -z "$(ls cam/receipts)"
'

test_expect_success 'a shared hold does not stop a pull' '
  hold_lock S/locks/store shared &&
  bwv-pull --store S --wait 0 cam >out; rc=$?; kill $holder
  [ $rc -eq 0 ] && test_cmp ids out
'

test_expect_success 'a pull waits for a device lock that is released within --wait' '
  record_clips S cam CAM01 a.mp4 >ids2 &&
  hold_lock S/locks/device-CAM01 exclusive &&
  (sleep 1; kill $holder) &
  bwv-pull --store S --wait 10 cam >out && test_cmp ids2 out
'

test_done
