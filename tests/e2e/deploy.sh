#!/usr/bin/env bash
# Deployment files: the cron file (checked line by line, then its jobs run for real against a test
# store), the systemd units (systemd-analyze verify where it works, and their keys in any case),
# `cmake --install` to a prefix and to /usr, and the Debian package made by cpack.
. "$(dirname "$0")/lib.sh"

cron_file=$BWV_SOURCE/scripts/cron/bwv-retain
units=$BWV_BUILD/scripts/systemd # configured by CMake from scripts/systemd/*.in

# --- helpers ----------------------------------------------------------------------------------

# Checks a cron.d file and prints its jobs' commands, one a line: cron_jobs FILE
cron_jobs() {
  python3 - "$1" <<'PY'
import re, shlex, sys, os
path = sys.argv[1]
text = open(path).read()
errors = []
if not re.fullmatch(r"[A-Za-z0-9_-]+", os.path.basename(path)):
    errors.append("cron ignores cron.d files whose names have other characters than [A-Za-z0-9_-]")
if not text.endswith("\n"):
    errors.append("no newline at the end: cron ignores the last line")
ranges = [("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day of month", 1, 31, {}),
          ("month", 1, 12, {m: i + 1 for i, m in enumerate(
              "jan feb mar apr may jun jul aug sep oct nov dec".split())}),
          ("day of week", 0, 7, {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())})]
def value(tok, lo, hi, names):
    if tok.lower() in names: return names[tok.lower()]
    if not tok.isdigit(): raise ValueError(tok)
    v = int(tok)
    if not lo <= v <= hi: raise ValueError(f"{tok} not in {lo}-{hi}")
    return v
def check_field(field, lo, hi, names):
    for item in field.split(","):
        base, _, step = item.partition("/")
        if step and not (step.isdigit() and int(step) > 0): raise ValueError(item)
        if base == "*": continue
        a, dash, b = base.partition("-")
        if dash:
            if value(a, lo, hi, names) > value(b, lo, hi, names): raise ValueError(item)
        elif step: raise ValueError(item)
        else: value(a, lo, hi, names)
variables, jobs = {}, []
for n, line in enumerate(text.splitlines(), 1):
    s = line.strip()
    if not s or s.startswith("#"): continue
    m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)", s)
    if m:
        variables[m.group(1)] = m.group(2); continue
    parts = s.split(None, 6)
    if len(parts) < 7:
        errors.append(f"line {n}: not 5 time fields, a user and a command: {s}"); continue
    for field, (name, lo, hi, names) in zip(parts[:5], ranges):
        try: check_field(field, lo, hi, names)
        except ValueError as e: errors.append(f"line {n}: bad {name} field {field!r} ({e})")
    user, command = parts[5], parts[6]
    if user != "bwv": errors.append(f"line {n}: runs as {user!r}, not bwv")
    if "%" in command: errors.append(f"line {n}: an unescaped % is a newline to cron")
    words = shlex.split(command)
    if os.path.basename(words[0]) != "bwv-retain":
        errors.append(f"line {n}: runs {words[0]!r}, not bwv-retain")
    jobs.append(command)
for var in ("SHELL", "PATH"):
    if var not in variables: errors.append(f"no {var}= line")
if not jobs: errors.append("no job line")
if errors:
    print("\n".join(errors), file=sys.stderr); sys.exit(1)
print("\n".join(jobs))
PY
}

# Runs a cron job's command as cron would, with the store and lock wait replaced, logger replaced by
# a function that appends to ./syslog, and the build's commands on PATH. stdout+stderr (what cron
# would mail) go to ./mail: run_cron_job COMMAND STORE [WAIT]
run_cron_job() {
  local cmd shell
  cmd=$(printf '%s\n' "$1" | sed -e "s|/srv/bwv/store|$2|g" -e "s|--wait [0-9]*|--wait ${3:-0}|g")
  shell=$(sed -n 's/^SHELL *= *//p' "$cron_file")
  PATH="$BWV_BUILD/cmd:/usr/bin:/bin" "${shell:-/bin/sh}" -c \
    'logger() { while IFS= read -r line; do printf "%s: %s\n" "$*" "$line"; done >>syslog; }; '"$cmd" >mail 2>&1
}

# Nothing that cron would mail, nothing logged; else shows both.
quiet() {
  test ! -s mail && test ! -s syslog ||
    { echo "mailed:"; cat mail; echo "logged:"; cat syslog 2>/dev/null; return 1; }
}

# Checks a unit's keys: unit_keys FILE SECTION.KEY=VALUE ... (a value ~WORD: WORD is one of the
# space-separated words; !~WORD: it is not; ^PREFIX: starts with; $SUFFIX: ends with; ? absent)
unit_keys() {
  python3 - "$@" <<'PY'
import configparser, sys
path, wants = sys.argv[1], sys.argv[2:]
cp = configparser.ConfigParser(strict=False, interpolation=None, comment_prefixes=("#", ";"),
                               empty_lines_in_values=False)
cp.optionxform = str
cp.read(path)
bad = []
for want in wants:
    key, _, expect = want.partition("=")
    section, _, name = key.partition(".")
    got = cp.get(section, name, fallback=None)
    words = (got or "").split()
    if expect == "?": ok = got is None
    elif got is None: ok = False
    elif expect.startswith("!~"): ok = expect[2:] not in words
    elif expect.startswith("~"): ok = expect[1:] in words
    elif expect.startswith("^"): ok = got.startswith(expect[1:])
    elif expect.startswith("$"): ok = got.endswith(expect[1:])
    else: ok = got == expect
    if not ok: bad.append(f"{path}: [{section}] {name}={got!r}, want {expect!r}")
if bad:
    print("\n".join(bad), file=sys.stderr); sys.exit(1)
PY
}

# The program of a unit's ExecStart= (after systemd's prefixes such as - @ + !).
exec_start() { sed -n 's/^ExecStart=[-@+!:]*\([^ ]*\).*/\1/p' "$1"; }

# Copies of the units whose ExecStart= names the built commands: verify checks that they exist.
units_for_build() { # units_for_build DIR
  mkdir -p "$1" &&
    for u in bwv-retain.service bwv-retain.timer bwv-pull@.service bwv-dock@.service; do
      sed "s|^ExecStart=\([-@+!:]*\)[^ ]*/|ExecStart=\1$BWV_BUILD/cmd/|" "$units/$u" >"$1/$u" || return 1
    done
}

analyze() { SYSTEMD_LOG_LEVEL=notice systemd-analyze "$@"; }

# systemd-analyze verify must accept a good unit and refuse a bad one, or it proves nothing here.
verify_works=no calendar_works=no
if command -v systemd-analyze >/dev/null; then
  analyze calendar daily >/dev/null 2>&1 && ! analyze calendar "*-*-* 25:00:00" >/dev/null 2>&1 &&
    calendar_works=yes
  mkdir -p probe
  printf '[Unit]\nDescription=probe\n[Service]\nType=oneshot\nExecStart=/bin/true\n' >probe/good.service
  printf '[Unit]\nDescription=probe\n[Service]\nType=oneshot\nExecStart=/nonexistent/bin/x\n' >probe/bad.service
  if analyze verify --man=no probe/good.service >probe/out 2>&1 && test ! -s probe/out &&
    ! analyze verify --man=no probe/bad.service >/dev/null 2>&1; then
    verify_works=yes
  else
    echo "# systemd-analyze verify does not work here ($(head -n 1 probe/out)); checking unit keys only"
  fi
else
  echo "# systemd-analyze is missing (scripts/install-deps installs systemd); checking unit keys only"
fi

# --- the cron file ----------------------------------------------------------------------------

test_expect_success 'cron file: every job has 5 valid time fields, user bwv, runs bwv-retain' '
  cron_jobs "$cron_file" >jobs && test "$(wc -l <jobs)" -ge 2 &&
  grep -q -- "--store /srv/bwv/store" jobs && ! grep -v -- "--store /srv/bwv/store" jobs &&
  grep -q "^# .*--store" "$cron_file"
'

test_expect_success 'cron checker refuses bad lines (it is not vacuous)' '
  printf "SHELL=/bin/sh\nPATH=/usr/bin:/bin\n61 2 * * * bwv bwv-retain\n" >bad-minute &&
  test_must_fail cron_jobs bad-minute 2>err && grep -q "bad minute" err &&
  printf "SHELL=/bin/sh\nPATH=/usr/bin:/bin\n17 2 * * * root bwv-retain\n" >bad-user &&
  test_must_fail cron_jobs bad-user 2>err && grep -q "not bwv" err &&
  printf "SHELL=/bin/sh\nPATH=/usr/bin:/bin\n17 2 * * bwv bwv-retain\n" >bad-fields &&
  test_must_fail cron_jobs bad-fields 2>err &&
  printf "SHELL=/bin/sh\nPATH=/usr/bin:/bin\n17 2 * * * bwv date +%%s\n" >bad-percent &&
  test_must_fail cron_jobs bad-percent 2>err && grep -q "unescaped %" err
'

test_expect_success 'setup: a store with one expired clip (recorded 60 days ago) and one fresh clip' '
  setup_store S &&
  head -c 40000 /dev/urandom >old.bin && head -c 40000 /dev/urandom >new.bin &&
  RECORD_START=$(date -u -d "60 days ago" +%Y-%m-%dT%H:%M:%SZ) record_clips S cam CAM01 old.bin >old-id &&
  RECORD_START=$(date -u -d "1 hour ago" +%Y-%m-%dT%H:%M:%SZ) record_clips S cam CAM01 new.bin >new-id &&
  bwv-pull --store S cam >/dev/null
'
old_id=$(cat old-id 2>/dev/null); new_id=$(cat new-id 2>/dev/null)

test_expect_success 'first cron job, for real: exit 0, nothing mailed or logged, expired video deleted' '
  job=$(sed -n 1p jobs) && rm -f syslog &&
  run_cron_job "$job" "$TEST_DIR/S" && quiet &&
  test ! -e "$(clip_path S "$old_id")/video.mp4" && test -e "$(clip_path S "$old_id")/deleted.json" &&
  test -e "$(clip_path S "$new_id")/video.mp4" &&
  bwv-verify --store S >/dev/null
'

test_expect_success 'second cron job (the retry): exit 0, nothing mailed or logged, store unchanged' '
  job=$(sed -n 2p jobs) && rm -f syslog &&
  tree_state S >before &&
  run_cron_job "$job" "$TEST_DIR/S" && quiet &&
  tree_state S >after && test_cmp before after
'

test_expect_success 'a failing job: its error line goes to syslog tagged bwv-retain, nothing is mailed' '
  job=$(sed -n 1p jobs) && rm -f syslog &&
  run_cron_job "$job" "$TEST_DIR/not-a-store" &&
  test ! -s mail && test "$(wc -l <syslog)" -eq 1 &&
  grep -q "^-t bwv-retain.*: bwv-retain: error: " syslog
'

test_expect_success 'store locked: bwv-retain exits 4 (the retry line covers it), the error is logged' '
  python3 -c "
import fcntl, os, struct, sys, time
fd = os.open(\"S/locks/policy\", os.O_RDWR | os.O_CREAT, 0o644)
fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack(\"hhqqi\", fcntl.F_WRLCK, 0, 0, 0, 0))
open(\"lock.held\", \"w\").close()
time.sleep(60)
" & holder=$!
  while [ ! -e lock.held ] && kill -0 $holder 2>/dev/null; do sleep 0.05; done
  rc=0; test_must_fail --code 4 bwv-retain --store S --wait 0 2>err || rc=1
  job=$(sed -n 1p jobs) && rm -f syslog &&
  run_cron_job "$job" "$TEST_DIR/S" 0 || rc=1
  kill $holder; rm -f lock.held
  [ $rc -eq 0 ] && test ! -s mail && test "$(wc -l <syslog)" -eq 1 && grep -q "bwv-retain: error: " syslog
'

# --- systemd units ----------------------------------------------------------------------------

hardening="Service.NoNewPrivileges=yes Service.ProtectSystem=strict Service.PrivateTmp=yes Service.ProtectHome=yes"

test_expect_success 'bwv-retain.service: oneshot as bwv, store from /etc/default/bwv, retries only exit 4' '
  u=$units/bwv-retain.service &&
  unit_keys "$u" Service.Type=oneshot Service.User=bwv Service.EnvironmentFile=-/etc/default/bwv \
    "Service.ExecStart=\$/bwv-retain --wait 300" Service.Restart=on-failure Service.RestartSec=15min \
    "Service.RestartPreventExitStatus=1 2 3 5 6 7" Service.RestartPreventExitStatus=!~4 \
    Service.ReadWritePaths=~/srv/bwv Install.WantedBy=? $hardening &&
  ! grep -q "^ExecStart=.*--store" "$u" && ! grep -q @ "$u" &&
  case "$(exec_start "$u")" in /*/bwv-retain) ;; *) false ;; esac
'

test_expect_success 'bwv-retain.timer: nightly at 02:17 with a random delay, persistent, in timers.target' '
  u=$units/bwv-retain.timer &&
  unit_keys "$u" "Timer.OnCalendar=*-*-* 02:17:00" Timer.RandomizedDelaySec=15min Timer.Persistent=true \
    Install.WantedBy=timers.target &&
  if [ $calendar_works = yes ]; then
    analyze calendar "$(sed -n "s/^OnCalendar=//p" "$u")" >cal && grep -q "Next elapse" cal
  fi
'

test_expect_success 'bwv-pull@.service: oneshot on the mount point %f, retries only exit 4' '
  u=$units/bwv-pull@.service &&
  unit_keys "$u" Service.Type=oneshot Service.User=bwv Service.EnvironmentFile=-/etc/default/bwv \
    "Service.ExecStart=\$ %f" Service.Restart=on-failure Service.RestartPreventExitStatus=!~4 \
    "Service.RestartPreventExitStatus=1 2 3 5 6 7" Service.ReadWritePaths=~/srv/bwv \
    Service.ReadWritePaths=~/media $hardening &&
  ! grep -q @BINDIR@ "$u" &&
  case "$(exec_start "$u")" in /*/bwv-pull) ;; *) false ;; esac
'

test_expect_success 'bwv-dock@.service: mounts /dev/%I as root, pulls as bwv, unmounts, retries only exit 4' '
  u=$units/bwv-dock@.service &&
  unit_keys "$u" Service.Type=oneshot Service.User=bwv Service.EnvironmentFile=-/etc/default/bwv \
    Unit.BindsTo=dev-%i.device "Service.ExecStartPre=^+/bin/mount -o" Service.ExecStartPre=~/dev/%I \
    "Service.ExecStart=\$ --wait 60 /run/bwv/dock/%I" Service.ExecStopPost=^+-/bin/umount \
    Service.Restart=on-failure Service.RestartPreventExitStatus=!~4 \
    "Service.RestartPreventExitStatus=1 2 3 5 6 7" Service.ReadWritePaths=~/srv/bwv $hardening &&
  ! grep -q @BINDIR@ "$u" &&
  case "$(exec_start "$u")" in /*/bwv-pull) ;; *) false ;; esac
'

test_expect_success 'udev rule: a block device labelled BWVCAM* wants bwv-dock@%k.service, which exists' '
  python3 - "$BWV_SOURCE/scripts/udev/90-bwv-dock.rules" <<PY
import re, sys
text = open(sys.argv[1]).read().replace("\\\n", " ")
rules = [l.strip() for l in text.splitlines() if l.strip() and not l.strip().startswith("#")]
assert len(rules) == 1, rules
pairs = [p.strip() for p in rules[0].split(",")]
keys = {}
for p in pairs:
    m = re.fullmatch(r"([A-Z_]+(?:\{[A-Za-z_]+\})?)(==|!=|\+=|-=|:=|=)\"([^\"]*)\"", p)
    assert m, "not a udev key: " + p
    keys[m.group(1) + m.group(2)] = m.group(3)
want = {"ACTION==": "add", "SUBSYSTEM==": "block", "ENV{ID_FS_LABEL}==": "BWVCAM*",
        "TAG+=": "systemd", "ENV{SYSTEMD_WANTS}+=": "bwv-dock@%k.service"}
for k, v in want.items():
    assert keys.get(k) == v, (k, keys.get(k))
PY
  test -f "$BWV_SOURCE/scripts/systemd/bwv-dock@.service.in"
'

test_expect_success 'the unit checker refuses a unit that retries exit 4 (it is not vacuous)' '
  sed "s/^RestartPreventExitStatus=.*/RestartPreventExitStatus=1 2 3/" "$units/bwv-retain.service" >bad.service &&
  test_must_fail unit_keys bad.service Service.RestartPreventExitStatus=!~4 "Service.RestartPreventExitStatus=1 2 3 5 6 7"
'

test_expect_success '/etc/default/bwv example sets BWV_STORE' '
  grep -qx "BWV_STORE=/srv/bwv/store" "$BWV_SOURCE/scripts/systemd/bwv.default"
'

if [ $verify_works = yes ]; then
  test_expect_success 'systemd-analyze verify: the units, with ExecStart on the built commands' '
    units_for_build v &&
    analyze verify --man=no v/bwv-retain.service v/bwv-retain.timer v/bwv-pull@media-bwv-cam1.service v/bwv-dock@sdb1.service >out 2>&1 ||
      { cat out; false; }
    test ! -s out || { cat out; false; }
  '
fi

# --- cmake --install --------------------------------------------------------------------------

test_expect_success 'cmake --install --prefix P: commands, man pages, cron file, default file, units' '
  cmake --install "$BWV_BUILD" --prefix "$TEST_DIR/p" >install.log &&
  for c in bwv-retain bwv-pull bwv-init bwv-verify; do test -x p/bin/$c || { echo "no p/bin/$c"; false; }; done &&
  p/bin/bwv-retain --version >/dev/null &&
  for page in "$BWV_SOURCE"/man/*.[1578]; do
    name=$(basename "$page"); test -f p/share/man/man${name##*.}/$name || { echo "no man page $name"; false; }
  done &&
  test -f p/share/man/man1/bwv-pull.1 && test -f p/share/man/man1/bwv-retain.1 &&
  test_cmp "$cron_file" p/etc/cron.d/bwv-retain &&
  grep -qx "BWV_STORE=/srv/bwv/store" p/etc/default/bwv &&
  for u in bwv-retain.service bwv-retain.timer bwv-pull@.service; do
    test -f p/lib/systemd/system/$u || { echo "no unit $u"; false; }
  done &&
  test "$(exec_start p/lib/systemd/system/bwv-retain.service)" = "$TEST_DIR/p/bin/bwv-retain" &&
  test "$(exec_start p/lib/systemd/system/bwv-pull@.service)" = "$TEST_DIR/p/bin/bwv-pull"
'

test_expect_success 'cmake --install --prefix /usr (with DESTDIR): configuration in /etc, units name /usr/bin' '
  DESTDIR="$TEST_DIR/d" cmake --install "$BWV_BUILD" --prefix /usr >install-usr.log &&
  test -x d/usr/bin/bwv-retain && test -f d/etc/cron.d/bwv-retain && test -f d/etc/default/bwv &&
  test ! -e d/usr/etc &&
  test -f d/usr/lib/systemd/system/bwv-retain.timer &&
  test "$(exec_start d/usr/lib/systemd/system/bwv-retain.service)" = /usr/bin/bwv-retain &&
  test "$(exec_start d/usr/lib/systemd/system/bwv-pull@.service)" = /usr/bin/bwv-pull
'

# --- the Debian package -----------------------------------------------------------------------

test_expect_success 'cpack -G DEB: package bwv with the commands, man pages, cron file and units' '
  for tool in cpack dpkg-deb dpkg-shlibdeps file; do
    command -v $tool >/dev/null || { echo "$tool is missing (scripts/install-deps installs it)"; false; }
  done &&
  (cd "$TEST_DIR" && cpack --config "$BWV_BUILD/CPackConfig.cmake" -G DEB -B "$TEST_DIR/pkg" >cpack.log 2>&1) ||
    { cat cpack.log; false; }
  set -- pkg/*.deb && test $# -eq 1 && deb=$1 &&
  case "$(basename "$deb")" in bwv_*_"$(dpkg --print-architecture)".deb) ;; *) echo "name: $deb"; false ;; esac &&
  dpkg-deb -c "$deb" | awk "{print \$NF}" | sed "s|^\./||" >contents &&
  for f in usr/bin/bwv-retain usr/bin/bwv-pull etc/cron.d/bwv-retain etc/default/bwv \
    usr/lib/systemd/system/bwv-retain.timer usr/lib/systemd/system/bwv-retain.service \
    "usr/lib/systemd/system/bwv-pull@.service"; do
    grep -qx "$f" contents || { echo "not in the package: $f"; cat contents; false; }
  done &&
  grep -qE "^usr/share/man/man1/bwv-retain\.1(\.gz)?$" contents &&
  grep -qE "^usr/share/man/man1/bwv-pull\.1(\.gz)?$" contents &&
  ! grep -q "^usr/local/" contents && ! grep -q "^usr/etc/" contents
'

deb=$(ls pkg/*.deb 2>/dev/null | head -n 1)

test_expect_success 'the package: control fields, library dependencies, conffiles, postinst, /usr/bin units' '
  test -n "$deb" &&
  dpkg-deb -f "$deb" Package >f && grep -qx bwv f &&
  dpkg-deb -f "$deb" Architecture >f && grep -qx "$(dpkg --print-architecture)" f &&
  dpkg-deb -f "$deb" Maintainer >f && grep -q "<.*@.*>" f &&
  dpkg-deb -f "$deb" Description >f && test "$(wc -l <f)" -ge 3 &&
  dpkg-deb -f "$deb" Depends >f && grep -q "libsodium" f && grep -q "libc6" f && ! grep -qw cron f &&
  dpkg-deb -I "$deb" >info && grep -q " conffiles" info && grep -q " postinst" info &&
  dpkg-deb -I "$deb" conffiles >conffiles &&
  grep -qx /etc/cron.d/bwv-retain conffiles && grep -qx /etc/default/bwv conffiles &&
  dpkg-deb -x "$deb" x &&
  test "$(exec_start x/usr/lib/systemd/system/bwv-retain.service)" = /usr/bin/bwv-retain &&
  test_cmp "$cron_file" x/etc/cron.d/bwv-retain &&
  sh -n "$BWV_SOURCE/scripts/systemd/bwv.postinst"
'

test_done
