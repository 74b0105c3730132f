#!/usr/bin/python3
"""Checks vpt-tune HTML reports with a real HTML5 parser (Debian's
python3-html5lib, strict mode: any parse error fails).

    check_html.py DIR_OR_FILE...

For each page: it parses as HTML5 without a single error; no src, href or
CSS url() points anywhere but a fragment of the page; no http(s) URL at all;
the Content-Security-Policy allows exactly the page's inline script (its
SHA-256), so the copy button works and nothing else can run; every data-cpu
appears once.
"""
import base64
import hashlib
import pathlib
import re
import sys

try:
    import html5lib
except ImportError:
    sys.exit("check_html.py: python3-html5lib is missing: run scripts/install-deps.sh")

NS = "{http://www.w3.org/1999/xhtml}"


def check(path):
    text = path.read_text(encoding="utf-8")
    problems = []
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=True)
    try:
        doc = parser.parse(text)
    except html5lib.html5parser.ParseError as e:
        line, col = parser.errors[-1][0] if parser.errors else ("?", "?")
        return [f"not valid HTML5 at line {line}, column {col}: {e}"]

    for element in doc.iter():
        for attr in ("src", "href", "xlink:href", "action", "poster", "srcset"):
            value = element.get(attr)
            if value is not None and not value.startswith("#"):
                problems.append(f"<{element.tag.replace(NS, '')} {attr}=\"{value}\"> points off the page")
        style = element.get("style") or ""
        for url in re.findall(r"url\(\s*['\"]?([^'\")]*)", style):
            if not url.startswith("#"):
                problems.append(f"style url({url}) points off the page")
    for style in doc.iter(NS + "style"):
        for url in re.findall(r"url\(\s*['\"]?([^'\")]*)", style.text or ""):
            if not url.startswith("#"):
                problems.append(f"stylesheet url({url}) points off the page")
    if re.search(r"https?:", text):
        problems.append("an http(s) URL appears in the page")

    scripts = [s.text or "" for s in doc.iter(NS + "script")]
    csp = [m.get("content", "") for m in doc.iter(NS + "meta") if m.get("http-equiv") == "Content-Security-Policy"]
    if len(csp) != 1:
        problems.append(f"{len(csp)} Content-Security-Policy meta elements, expected 1")
    else:
        allowed = set(re.findall(r"'sha256-([A-Za-z0-9+/=]+)'", csp[0]))
        for s in scripts:
            digest = base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode()
            if digest not in allowed:
                problems.append(f"the CSP does not allow the inline script (its sha256 is {digest})")
        if "default-src 'none'" not in csp[0]:
            problems.append("the CSP does not start from default-src 'none'")

    cpus = re.findall(r'data-cpu="(\d+)"', text)
    if len(cpus) != len(set(cpus)):
        problems.append("a CPU is drawn twice")
    if not cpus:
        problems.append("no CPU drawn")
    return problems


def main(args):
    if not args:
        sys.exit(__doc__)
    pages = []
    for arg in args:
        p = pathlib.Path(arg)
        pages += sorted(p.glob("*.html")) if p.is_dir() else [p]
    if not pages:
        sys.exit("check_html.py: no .html files in " + " ".join(args))
    failed = 0
    for page in pages:
        problems = check(page)
        for problem in problems:
            print(f"{page}: {problem}")
        failed += bool(problems)
    print(f"check_html.py: {len(pages) - failed} of {len(pages)} pages valid")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
