#!/usr/bin/env bash
# The generated man pages: one for vpt-tune and one per subcommand --help lists,
# every option --help shows is on its page, groff finds nothing to warn about,
# lexgrog reads the NAME line, and the gzip files carry no timestamp.
#   man_pages_test.sh MAN_DIR VPT_TUNE
set -uo pipefail
man_dir=$1 vpt=$2
. "$(dirname "$0")/help_facts.sh"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

export LC_ALL=C.UTF-8 MANWIDTH=200
check_page() {  # check_page PAGE-NAME [SUBCOMMAND]
  local page=$1 sub=${2:-} file=$man_dir/$1.1.gz out
  [[ -f $file ]] || { fail "$page: no $file"; return; }
  # gzip -n: no name or time stamp in the header (bytes 4-7 are the mtime).
  [[ $(od -An -tu4 -j4 -N4 "$file" | tr -d ' ') == 0 ]] || fail "$page: gzip header has a time stamp"
  out=$(zcat "$file" | groff -man -ww -z 2>&1) || fail "$page: groff failed"
  [[ -z $out ]] || fail "$page: groff warnings: $out"
  out=$(man --warnings -l "$file" 2>&1 >/dev/null)
  [[ -z $out ]] || fail "$page: man --warnings: $out"
  out=$(lexgrog "$file") || fail "$page: lexgrog cannot parse it"
  [[ $out == *"\"$page - "* ]] || fail "$page: lexgrog reads '$out'"
  local text option
  text=$(man -l "$file" 2>/dev/null)
  while read -r option; do
    grep -qF -- "$option" <<<"$text" || fail "$page: option $option of --help is not on the page"
  done < <(help_options "$vpt" ${sub:+"$sub"})
  # The synopsis names the command the way it is typed.
  grep -qE -- "^ +vpt-tune .*${sub}" <<<"$text" || fail "$page: no synopsis line for vpt-tune $sub"
}

check_page vpt-tune
subcommands=$(help_subcommands "$vpt")
[[ -n $subcommands ]] || fail "vpt-tune --help lists no subcommands"
for sub in $subcommands; do
  check_page "vpt-tune-$sub" "$sub"
  man -l "$man_dir/vpt-tune.1.gz" 2>/dev/null | grep -qF "vpt-tune-$sub(1)" || fail "vpt-tune(1) does not refer to vpt-tune-$sub(1)"
done
# No page for anything --help does not list (the hidden generate-docs).
expected=$( (echo vpt-tune; for sub in $subcommands; do echo "vpt-tune-$sub"; done) | sort)
actual=$(cd "$man_dir" && ls *.1.gz | sed 's/\.1\.gz$//' | sort)
[[ $expected == "$actual" ]] || fail "pages are [$actual], --help lists [$expected]"

if ((failures)); then echo "$failures failure(s)" >&2; exit 1; fi
echo "man pages: $(wc -w <<<"$actual") pages checked"
