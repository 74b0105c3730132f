#!/usr/bin/env bash
# Where `vpt-tune --version` gets its revision (cmake/write-revision.cmake),
# outside a git checkout: a `git archive` tarball carries the commit in
# cmake/archive-revision.txt (export-subst); a plain copy says "unknown". And
# the file is not rewritten when nothing changed (no rebuild).
#   revision_test.sh SOURCE_DIR
set -uo pipefail
src=$(realpath "$1")
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
revision_of() {  # the string build_revision() returns in a file written for source tree $1
  cmake -DSOURCE_DIR="$1" -DOUTPUT="$work/revision.cpp" -P "$src/cmake/write-revision.cmake" &&
    sed -n 's/.*return "\(.*\)";.*/\1/p' "$work/revision.cpp"
}

mkdir -p "$work/copy/cmake"
cp "$src/cmake/archive-revision.txt" "$work/copy/cmake/"
[[ $(revision_of "$work/copy") == unknown ]] || fail "a copy without git metadata says '$(revision_of "$work/copy")'"

echo 0123456789abcdef0123456789abcdef01234567 > "$work/copy/cmake/archive-revision.txt"
[[ $(revision_of "$work/copy") == 0123456789ab ]] || fail "an archived tree says '$(revision_of "$work/copy")'"

before=$(stat -c %y "$work/revision.cpp")
revision_of "$work/copy" >/dev/null
[[ $(stat -c %y "$work/revision.cpp") == "$before" ]] ||
  fail "an unchanged revision rewrote the file"

if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  got=$(revision_of "$src")
  [[ $got == *"$(git -C "$src" rev-parse --short=12 HEAD)"* ]] || fail "the checkout says '$got', HEAD is $(git -C "$src" rev-parse HEAD)"
fi
if ((failures)); then echo "$failures failure(s)" >&2; exit 1; fi
echo "revision: unknown without git, from archive-revision.txt in an archive, HEAD in a checkout"
