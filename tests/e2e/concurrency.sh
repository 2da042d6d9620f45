#!/usr/bin/env bash
# Several bwv-pull at once: different cameras in parallel, and one camera docked twice at once
# (moved between docks mid-pull). Every clip is stored once, every receipt matches, chains hold.
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: a store and four cameras with five clips each' '
  bwv-init --store S &&
  for d in 1 2 3 4; do
    setup_device S CAM0$d &&
    for i in 1 2 3 4 5; do head -c $((400000 + d * 1000 + i)) /dev/urandom >v$d$i.bin; done &&
    record_clips S cam$d CAM0$d v${d}1.bin v${d}2.bin v${d}3.bin v${d}4.bin v${d}5.bin >>recorded || exit 1
  done
'

test_expect_success 'four pulls of four cameras at once, plus each camera pulled twice at once' '
  for d in 1 2 3 4; do
    BWV_HOST=dock$d bwv-pull --store S cam$d >out-a$d 2>err-a$d &
    BWV_HOST=dockx$d bwv-pull --store S cam$d >out-b$d 2>err-b$d &
  done &&
  wait &&
  cat err-* >errs && test ! -s errs &&
  cat out-* | sort >pulled && sort recorded >expect && test_cmp expect pulled
'

test_expect_success 'every clip is stored once, receipted, and the store verifies' '
  bwv-ls --store S | sort >stored && test_cmp expect stored &&
  for d in 1 2 3 4; do test "$(ls cam$d/receipts/*.receipt | wc -l)" -eq 5 || exit 1; done &&
  bwv-verify --store S &&
  test "$(bwv-log --store S | grep -c " ingest ")" -eq 20 &&
  ls S/custody >logs && test "$(wc -l <logs)" -ge 2
'

test_done
