#!/usr/bin/env python3
"""Writes a section of docs/benchmarks.md: replaces the section that starts
with the same "## Heading" line (up to the next "## "), or adds it at the end.

    scripts/bench/replace-section.py docs/benchmarks.md SECTION_FILE
"""
import os
import re
import sys

path, section = sys.argv[1], open(sys.argv[2]).read()
heading = section.splitlines()[0]
text = open(path).read() if os.path.exists(path) else "# Benchmarks\n\n"
m = re.search(r'^' + re.escape(heading) + r'\n.*?(?=^## |\Z)', text, re.M | re.S)
if m:
    text = text[:m.start()] + section + text[m.end():]
else:
    text = text.rstrip("\n") + "\n\n" + section
open(path, "w").write(text)
