#!/usr/bin/env bash
# Every command has --help, --version and a man page, and the two list the same options: the
# help's options all appear in the page, and the page's OPTIONS section names no option the
# command lacks. Every page renders without groff warnings.
. "$(dirname "$0")/lib.sh"

man_dir="$BWV_SOURCE/man"

# Long and short options a help text lists (option lines start with spaces and a dash).
help_options() { grep -oE '^ +(-[a-zA-Z], ?)?--?[a-z][a-z0-9-]*' | grep -oE -- '--?[a-z][a-z0-9-]*' | sort -u; }
# Options named in a page's OPTIONS section, as \-\-name or \-x in bold.
page_options() {
  sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$1" | grep -oE '\\fB(\\-)+[a-zA-Z]([a-z0-9]|\\-)*' |
    sed -e 's/\\fB//' -e 's/\\-/-/g' | sort -u
}

for bin in "$BWV_BUILD"/cmd/bwv-*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  page="$man_dir/$name.1"

  test_expect_success "$name: --help and --version work" '
    '"$bin"' --help >help && grep -q "Usage:\|USAGE:" help &&
    '"$bin"' --version >version && grep -qx "'"$name"' (bwv) [0-9.]*" version
  '

  test_expect_success "$name: has a man page that renders cleanly" '
    test -f '"$page"' &&
    if command -v groff >/dev/null; then groff -man -Tutf8 -ww -z '"$page"' 2>warn && test ! -s warn; fi &&
    for section in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" EXAMPLES "SEE ALSO"; do
      grep -q "^\.SH \"\?$section" '"$page"' || { echo "no $section section"; exit 1; }
    done
  '

  test_expect_success "$name: every option in --help is in the man page, and back" '
    { '"$bin"' --help; for sub in $('"$bin"' --help | sed -n "/^[Ss][Uu][Bb][Cc][Oo][Mm][Mm][Aa][Nn][Dd][Ss]:/,\$p" | grep -oE "^  [a-z]+"); do
        '"$bin"' $sub --help; done; } | help_options >from-help &&
    page_options '"$page"' >from-page &&
    for o in $(cat from-help); do
      grep -qF -- "\\fB$(echo "$o" | sed "s/-/\\\\-/g")" '"$page"' || { echo "$o is not in '"$page"'"; exit 1; }
    done &&
    for o in $(cat from-page); do grep -qx -- "$o" from-help || { echo "$o is in the page but not in --help"; exit 1; }; done
  '
done

# bwv-camd (section 8): the options of its sim and run --help are in its page's OPTIONS as \fB\-\-name\fR, and back.
camd="$BWV_BUILD/firmware/bwv-camd"
test_expect_success 'bwv-camd: every option of sim --help and run --help is in bwv-camd.8, and back' '
  page='"$man_dir"'/bwv-camd.8 &&
  { '"$camd"' --help && '"$camd"' sim --help && '"$camd"' run --help; } | help_options >from-help &&
  page_options $page >from-page && sed -n "/^\.SH OPTIONS/,/^\.SH /p" $page >options &&
  for o in $(cat from-help); do
    grep -qF -- "\\fB$(echo "$o" | sed "s/-/\\\\-/g")\\fR" options || { echo "$o is not in OPTIONS of $page"; exit 1; }
  done &&
  for o in $(cat from-page); do grep -qx -- "$o" from-help || { echo "$o is in the page but not in --help"; exit 1; }; done
'

test_expect_success 'every format, overview and daemon page renders cleanly' '
  for page in '"$man_dir"'/*.5 '"$man_dir"'/*.7 '"$man_dir"'/*.8; do
    if command -v groff >/dev/null; then groff -man -Tutf8 -ww -z $page 2>warn && test ! -s warn || { echo $page; cat warn; exit 1; }; fi
  done
'

test_expect_success 'every command and daemon page lists the shared exit codes, 0 to 7' '
  for page in '"$man_dir"'/bwv-*.1 '"$man_dir"'/bwv-*.8; do
    sed -n "/^\.SH \"\?EXIT STATUS/,/^\.SH /p" $page | grep -oE "^\.B [0-9]+$" | tr -d ".B " | tr "\n" " " >codes &&
    printf "0 1 2 3 4 5 6 7 " >want && test_cmp want codes || { echo "$page"; exit 1; }
  done
'

test_done
