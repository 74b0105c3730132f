#!/usr/bin/env bash
# Runs the generated bash completion the way bash-completion does: `complete -p`
# names the function, which is called with COMP_WORDS/COMP_CWORD as readline
# splits the line, and COMPREPLY is compared with what should be offered:
# subcommands and options as CLI11's own --help lists them, files, choices, and
# domain names from a fake `virsh` on PATH.
#   bash_completion_test.sh COMPLETION_SCRIPT VPT_TUNE
set -uo pipefail
script=$(realpath "$1") vpt=$(realpath "$2")
. "$(dirname "$0")/help_facts.sh"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

[[ -r /usr/share/bash-completion/bash_completion ]] || { echo "bash-completion is not installed" >&2; exit 1; }
. /usr/share/bash-completion/bash_completion
. "$script"

spec=$(complete -p vpt-tune) || { echo "FAIL: no completion registered for vpt-tune" >&2; exit 1; }
function=$(sed -n 's/.*-F \([^ ]*\) .*/\1/p' <<<"$spec")
[[ -n $function ]] || { echo "FAIL: 'complete -p vpt-tune' gives no function: $spec" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/files/subdir"
touch "$work/files/host.xml" "$work/files/notes.txt" "$work/files/run.json"
# virsh as `virsh list --all --name` prints (a blank line at the end), logging its arguments.
cat > "$work/bin/virsh" <<'FAKE'
#!/bin/sh
echo "$*" >> "$VIRSH_LOG"
printf 'win11\nubuntu-server\n\n'
FAKE
chmod +x "$work/bin/virsh"
export PATH="$work/bin:$PATH" VIRSH_LOG="$work/virsh.log"
cd "$work/files"

# complete_line LINE: completes at the end of LINE. COMP_WORDS is split as
# readline does with bash's COMP_WORDBREAKS: blanks separate words, '=' and ':'
# are words of their own. Prints COMPREPLY sorted, one a line.
complete_line() {
  local line=$1 word="" c i
  COMP_WORDS=()
  for ((i = 0; i < ${#line}; i++)); do
    c=${line:i:1}
    case $c in
      ' ') [[ -n $word ]] && COMP_WORDS+=("$word"); word="" ;;
      '=' | ':') [[ -n $word ]] && COMP_WORDS+=("$word"); COMP_WORDS+=("$c"); word="" ;;
      *) word+=$c ;;
    esac
  done
  if [[ -n $word || $line == *' ' ]]; then COMP_WORDS+=("$word"); fi
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMP_LINE=$line
  COMP_POINT=${#line}
  COMPREPLY=()
  "$function" vpt-tune "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
  ((${#COMPREPLY[@]})) && printf '%s\n' "${COMPREPLY[@]}" | sort -u
}

expect() {  # expect "WANTED (one a line)" LINE
  local got
  got=$(complete_line "$2")
  [[ $got == "$(sort -u <<<"$1")" ]] || fail "'$2': got [$(echo $got)], want [$(echo $1)]"
}

subcommands=$(help_subcommands "$vpt")
expect "$subcommands" "vpt-tune "
expect "probe" "vpt-tune pro"
expect "$(help_options "$vpt")" "vpt-tune -"
for sub in $subcommands; do
  expect "$(help_options "$vpt" "$sub")" "vpt-tune $sub -"
done
expect "--topology" "vpt-tune probe --to"
expect "--live" "vpt-tune suggest --xml x.xml --apply --li"
expect "--after" "vpt-tune report --before run.json --af"
# Files: .xml files and directories for --topology FILE.xml, any file for --lscpu.
expect "$(printf 'host.xml\nsubdir')" "vpt-tune probe --topology "
expect "$(printf 'host.xml\nnotes.txt\nrun.json\nsubdir')" "vpt-tune probe --lscpu "
expect "host.xml" "vpt-tune suggest --topology=h"
expect "$(printf 'host.xml\nnotes.txt\nrun.json\nsubdir')" "vpt-tune compare "
expect "run.json" "vpt-tune compare host.xml r"
expect "$(printf 'host.xml\nnotes.txt\nrun.json\nsubdir')" "vpt-tune --config "
expect "subdir" "vpt-tune restore --backup-dir "
# Choices.
expect "markdown" "vpt-tune report --format m"
expect "$(printf 'html\nmarkdown\nbbcode\nbbcode-plain')" "vpt-tune report --format="
expect "$(printf 'shared\ndedicated')" "vpt-tune suggest --emulator "
# A value that cannot be guessed: nothing, and no options offered in its place.
expect "" "vpt-tune suggest --vcpus "
# An option's value is not taken for a subcommand.
expect "--json" "vpt-tune probe --lscpu probe --js"

# Domains from virsh, on the connection the line names.
: > "$VIRSH_LOG"
expect "$(printf 'win11\nubuntu-server')" "vpt-tune suggest --domain "
expect "win11" "vpt-tune bench --domain w"
expect "ubuntu-server" "vpt-tune hook -d u"
[[ $(cat "$VIRSH_LOG") == "$(printf 'list --all --name\nlist --all --name\nlist --all --name')" ]] ||
  fail "virsh was called as [$(cat "$VIRSH_LOG")]"
: > "$VIRSH_LOG"
expect "win11" "vpt-tune suggest -c test:///default --domain w"
expect "win11" "vpt-tune report --connect=qemu:///session -d w"
[[ $(cat "$VIRSH_LOG") == "$(printf -- '-c test:///default list --all --name\n-c qemu:///session list --all --name')" ]] ||
  fail "virsh was called as [$(cat "$VIRSH_LOG")], want -c with the line's URI"

if ((failures)); then echo "$failures failure(s)" >&2; exit 1; fi
echo "bash completion: all prefixes complete as expected"
