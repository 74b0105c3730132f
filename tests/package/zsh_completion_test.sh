#!/usr/bin/env bash
# The generated zsh completion: valid zsh, registered for vpt-tune by compinit,
# and every subcommand and option that CLI11's own --help lists has its
# _arguments spec (read by running the functions with _arguments stubbed out).
#   zsh_completion_test.sh COMPLETION_FILE VPT_TUNE
set -uo pipefail
file=$(realpath "$1") vpt=$(realpath "$2")
. "$(dirname "$0")/help_facts.sh"
command -v zsh >/dev/null || { echo "zsh is not installed" >&2; exit 1; }
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

zsh -n "$file" || fail "zsh -n: syntax errors"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$file" "$work/_vpt-tune"
registered=$(HOME=$work zsh -f -c "fpath=($work \$fpath); autoload -Uz compinit; compinit -u -d $work/zcompdump; print -r -- \$_comps[vpt-tune]")
[[ $registered == _vpt-tune ]] || fail "compinit maps vpt-tune to '$registered'"

# Each subcommand's specs, one a line, as _arguments receives them.
specs() {
  zsh -f -c '_arguments() { print -rl -- "$@" }; _describe() { : }; source "$1" >/dev/null; "$2"' _ "$file" "$1"
}
check_specs() {  # check_specs FUNCTION [SUBCOMMAND]
  local function=$1 sub=${2:-} out option
  out=$(specs "$function") || { fail "$function failed"; return; }
  [[ -n $out ]] || { fail "$function gives no specs"; return; }
  while read -r option; do
    grep -qE -- "(^|\))\*?${option}[=+]?\[" <<<"$out" || fail "$function: no spec for $option"
  done < <(help_options "$vpt" ${sub:+"$sub"})
}
check_specs _vpt-tune
for sub in $(help_subcommands "$vpt"); do
  check_specs "_vpt-tune_$sub" "$sub"
done

if ((failures)); then echo "$failures failure(s)" >&2; exit 1; fi
echo "zsh completion: registered, every subcommand and option has a spec"
