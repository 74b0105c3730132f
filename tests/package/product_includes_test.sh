#!/usr/bin/env bash
# Product code cannot include headers from tests/: its include root holds only
# the module directories (compiling tests/package/include_guard.cpp with it
# must fail for want of the file), and no product source reaches out with a
# relative "../" include.
#   product_includes_test.sh SOURCE_DIR BUILD_DIR
set -uo pipefail
src=$1 build=$2
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

modules=$(find "$build/include" -mindepth 1 -maxdepth 1 -type l -printf '%f\n' | sort)
[[ -n $modules ]] || fail "no module links in $build/include"
[[ ! -e $build/include/tests ]] || fail "$build/include exposes tests/"
for module in $modules; do
  [[ $module != tests ]] || fail "tests is linked as a module"
  hits=$(grep -rnE '^\s*#\s*include\s*"(\.\./|tests/)' "$src/$module" --include='*.cpp' --include='*.hpp' --include='*.h' --include='*.c')
  [[ -z $hits ]] || fail "product code includes test or relative paths: $hits"
done

out=$(cmake --build "$build" --target vpt_include_guard 2>&1)
if [[ $? -eq 0 ]]; then
  fail "product include paths reach tests/vpt_tune_runner.hpp"
elif ! grep -q 'tests/vpt_tune_runner.hpp: No such file or directory' <<<"$out"; then
  fail "include_guard.cpp failed for another reason: $out"
fi

if ((failures)); then echo "$failures failure(s)" >&2; exit 1; fi
echo "product includes: modules [$(echo $modules)] only, tests/ unreachable"
