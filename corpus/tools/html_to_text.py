#!/usr/bin/env python3
"""Text of one article from a saved HTML page, for the corpus (not bantin's parser).

usage: html_to_text.py FILE --title CSS --body CSS [--drop CSS ...]

The corpus's texts must not come from the code they measure, so this is a plain,
hand-guided reduction: the annotator names the title element and the body container
(checked by eye on each site), block elements become paragraphs, entities are decoded,
white space inside a paragraph is folded, nothing is reworded. Output: the title, a
blank line, then one paragraph per block separated by blank lines (the seeds' shape).
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "table", "blockquote",
          "section", "article", "ul", "ol", "br", "figure", "figcaption", "center"}


def fold(text: str) -> str:
    text = text.replace("\u00a0", " ").replace("\u200b", "")
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def paragraphs(root: Node) -> list[str]:
    out: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        line = fold("".join(buf))
        if line:
            out.append(line)
        buf.clear()

    def walk(node: Node) -> None:
        for child in node.iter(include_text=True):
            if child.tag == "-text":
                buf.append(child.text(deep=False) or "")
            elif child.tag in ("script", "style", "noscript", "img"):
                continue
            elif child.tag in BLOCKS:
                flush()
                walk(child)
                flush()
            else:
                walk(child)

    walk(root)
    flush()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("--title", required=True)
    ap.add_argument("--body", required=True)
    ap.add_argument("--drop", action="append", default=[])
    a = ap.parse_args()
    with open(a.file, "rb") as f:
        tree = HTMLParser(f.read().decode("utf-8", errors="replace"))
    for sel in a.drop:
        for node in tree.css(sel):
            node.decompose()
    title = tree.css_first(a.title)
    body = tree.css_first(a.body)
    if title is None or body is None:
        print(f"{a.file}: no element for --title or --body", file=sys.stderr)
        return 2
    paras = paragraphs(body)
    head = fold(title.text())
    if paras and paras[0] == head:
        paras = paras[1:]
    sys.stdout.write(head + "\n\n" + "\n\n".join(paras) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
