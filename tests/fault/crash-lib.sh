# Helpers for the kill -9 suites (tests/e2e/*crash*.sh), sourced after tests/e2e/lib.sh.
#
#   BWV_CRASH_RUNS   how many runs each suite kills (each suite has its own default, at least 5)
#   BWV_CRASH_SEED   seed for $RANDOM, to repeat a run's sleeps (default: the suite's PID); the
#                    summary line names the seed used
#
# A suite counts into files in its scratch directory (crash-kills, crash-reruns, crash-failures)
# and prints one line, outside any test, that bench/crash reads:
#   # crash-summary: CMD runs=N kills=K reruns-needed=R failures=F seed=S [extra=...]
# kills: SIGKILLs delivered to a process still running; reruns-needed: re-runs that had work left
# by a kill to complete; failures: invariant checks that failed (each also fails its test).

crash_seed=${BWV_CRASH_SEED:-$$}
RANDOM=$crash_seed
: >crash-kills
: >crash-reruns
: >crash-failures

# faketime(1) forks and waits for its command: kill -9 of it would leave the command running. To
# kill a command on a fake clock, run it as `env LD_PRELOAD=$crash_libfaketime FAKETIME=+32d CMD &`
# (env execs it, so $! is the command itself).
crash_libfaketime=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -1)

# Run a command in the background as `CMD &` (a binary, not a shell function: $! must be the
# process to kill, not a subshell that would leave it running).

# crash_window_ms CMD...: runs CMD once and prints its wall time in ms, plus 2.
crash_window_ms() {
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null 2>&1
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000 + 2))
}

# crash_kill_at_random PID WINDOW_FILE: sleeps a random fraction of the window (ms, read from
# WINDOW_FILE), then kill -9 PID and reaps it. Returns 0 when the kill reached a running process
# (counted in crash-kills), 1 when it had already exited. The window follows the machine: wider
# after a kill that landed, narrower after one that came too late, so that kills keep landing at
# moments spread over the whole run however loaded the machine is.
crash_kill_at_random() {
  local pid=$1 file=$2 window ms killed=1
  window=$(cat "$file")
  ms=$((RANDOM * 32768 + RANDOM))
  ms=$((ms % window))
  sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
  if kill -9 "$pid" 2>/dev/null; then
    killed=0
    echo "$ms" >>crash-kills
    echo $((window * 5 / 4 + 1)) >"$file"
  else
    echo $((window * 2 / 3 + 1)) >"$file"
  fi
  wait "$pid" 2>/dev/null || true
  # libfaketime, preloaded, keeps a semaphore and a shared memory object named by its pid, removed
  # at exit: a SIGKILL leaves them, and a later faketime(1) that gets the same pid fails on them
  # ("sem_open: File exists").
  rm -f -- "/dev/shm/sem.faketime_sem_$pid" "/dev/shm/faketime_shm_$pid"
  return $killed
}

# crash_fail MESSAGE: records a failed invariant (the calling test must still fail on it).
crash_fail() { echo "$*" >>crash-failures; echo "invariant failed: $*"; }

# crash_summary CMD RUNS [EXTRA]: writes the summary line to crash-summary.
crash_summary() {
  echo "# crash-summary: $1 runs=$2 kills=$(wc -l <crash-kills) reruns-needed=$(wc -l <crash-reruns)" \
    "failures=$(wc -l <crash-failures) seed=$crash_seed${3:+ $3}" >crash-summary
}

crash_print_summary() { [ -e crash-summary ] && cat crash-summary; }
