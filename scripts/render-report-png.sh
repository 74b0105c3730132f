#!/usr/bin/env bash
# Renders a vpt-tune HTML report to a PNG with headless Chromium (Debian's
# `chromium` package, installed when missing), to look at what a reader sees.
#
#   scripts/render-report-png.sh REPORT.html OUT.png [WIDTH [HEIGHT]]
#
# WIDTH is the browser window's width (default 1280). The whole page is
# rendered: Chromium's --screenshot shows only the window, so without HEIGHT
# the window starts 4000 px tall and doubles (up to 32000 px, about Chromium's
# largest surface) until blank rows show below the page's end; those rows are
# then cut off. A HEIGHT given is used as it is, and the script says so when
# the page is taller than that (the PNG then shows the page's top only).
set -euo pipefail

if (($# < 2 || $# > 4)); then
  echo "usage: $0 REPORT.html OUT.png [WIDTH [HEIGHT]]" >&2
  exit 2
fi
html=$1 out=$2 width=${3:-1280} height=${4:-auto}
[[ -f $html ]] || { echo "render-report-png: cannot read report '$html': no such file" >&2; exit 2; }

if ! command -v chromium >/dev/null; then
  echo "render-report-png: installing Debian's chromium" >&2
  apt-get install -y --no-install-recommends chromium >&2
fi

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
abs=$(realpath "$html")
out_abs=$(realpath -m "$out")

render() {  # render WINDOW_HEIGHT: the window's screenshot to $out_abs
  rm -f "$out_abs"
  # No network: the report loads nothing, and Chromium is told not to phone home.
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --user-data-dir="$profile/user" \
    --window-size="$width,$1" --screenshot="$out_abs" "file://$abs" >/dev/null 2>"$profile/chromium.log" || {
    cat "$profile/chromium.log" >&2
    echo "render-report-png: chromium failed" >&2
    exit 1
  }
  [[ -s $out_abs ]] || { cat "$profile/chromium.log" >&2; echo "render-report-png: no PNG written" >&2; exit 1; }
}

# Cuts the blank rows under the page (8-bit RGB/RGBA PNG, as Chromium writes)
# and prints "whole" when there were some (the page ended inside the window),
# else "clipped".
crop() {
python3 - "$out_abs" <<'PY'
import struct, sys, zlib
path = sys.argv[1]
data = open(path, "rb").read()
pos, idat = 8, b""
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    pos += 12 + n
    if kind == b"IHDR":
        w, h, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
if depth != 8 or interlace or color not in (2, 6):
    print("whole")  # not a form this reads: leave it as Chromium wrote it
    sys.exit(0)
bpp = 3 if color == 2 else 4
raw, stride, rows, prev, p = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp), 0
for _ in range(h):
    f, line = raw[p], bytearray(raw[p + 1:p + 1 + stride])
    p += 1 + stride
    if f == 2:
        line = bytearray((x + y) & 255 for x, y in zip(line, prev))
    elif f != 0:
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 3: line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(bytes(line))
    prev = line
blank = rows[-1]
end = len(rows)
while end > 1 and rows[end - 1] == blank:
    end -= 1
# The page's own bottom margin is blank too: fewer blank rows than this is a page cut by the window.
if len(rows) - end < 32:
    print("clipped")
    sys.exit(0)
end = min(len(rows), end + 24)
def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, end, 8, color, 0, 0, 0))
png += chunk(b"IDAT", zlib.compress(b"".join(b"\x00" + r for r in rows[:end]), 9)) + chunk(b"IEND", b"")
open(path, "wb").write(png)
print("whole")
PY
}

window=$([[ $height == auto ]] && echo 4000 || echo "$height")
while :; do
  render "$window"
  state=$(crop)
  if [[ $state == clipped && $height == auto && $window -lt 32000 ]]; then
    window=$((window * 2 > 32000 ? 32000 : window * 2))
    continue
  fi
  break
done
if [[ $state == clipped ]]; then
  echo "render-report-png: the page is taller than $window px: $out shows its top only" \
    "$([[ $height == auto ]] || echo '(leave HEIGHT out to render the whole page)')" >&2
fi
echo "render-report-png: wrote $out ($(stat -c %s "$out_abs") bytes)" >&2
