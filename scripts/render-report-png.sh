#!/usr/bin/env bash
# Renders a vpt-tune HTML report to a PNG with headless Chromium (Debian's
# `chromium` package, installed when missing), to look at what a reader sees.
#
#   scripts/render-report-png.sh REPORT.html OUT.png [WIDTH [HEIGHT]]
#
# WIDTH x HEIGHT is the browser window (default 1280 x 2400); the PNG is
# that window, cut at the page's end when the page is shorter.
set -euo pipefail

if (($# < 2 || $# > 4)); then
  echo "usage: $0 REPORT.html OUT.png [WIDTH [HEIGHT]]" >&2
  exit 2
fi
html=$1 out=$2 width=${3:-1280} height=${4:-2400}
[[ -f $html ]] || { echo "render-report-png: cannot read report '$html': no such file" >&2; exit 2; }

if ! command -v chromium >/dev/null; then
  echo "render-report-png: installing Debian's chromium" >&2
  apt-get install -y --no-install-recommends chromium >&2
fi

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
abs=$(realpath "$html")
out_abs=$(realpath -m "$out")
# No network: the report loads nothing, and Chromium is told not to phone home.
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --hide-scrollbars --user-data-dir="$profile" \
  --window-size="$width,$height" --screenshot="$out_abs" "file://$abs" >/dev/null 2>"$profile/chromium.log" || {
  cat "$profile/chromium.log" >&2
  echo "render-report-png: chromium failed" >&2
  exit 1
}
[[ -s $out_abs ]] || { cat "$profile/chromium.log" >&2; echo "render-report-png: no PNG written" >&2; exit 1; }
echo "render-report-png: wrote $out ($(stat -c %s "$out_abs") bytes)" >&2
