# configdoc: writes the settings table of docs/configuration.md from microdhcp.settings (the one
# table of server settings). `python3 tools/configdoc.py` rewrites it; `--check` exits 1 when the
# file is out of date (host_tests/test_settings.py runs the same comparison).
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "firmware"))
from microdhcp import settings    # noqa: E402

DOC = os.path.join(ROOT, "docs", "configuration.md")
BEGIN = "<!-- settings table: written by tools/configdoc.py from firmware/microdhcp/settings.py -->\n"
END = "<!-- end of settings table -->\n"


def render(text):
    a = text.index(BEGIN) + len(BEGIN)
    b = text.index(END)
    return text[:a] + settings.markdown() + text[b:]


def main(argv):
    with open(DOC) as f:
        text = f.read()
    new = render(text)
    if "--check" in argv:
        if new != text:
            print("docs/configuration.md is out of date: run python3 tools/configdoc.py")
            return 1
        return 0
    if new != text:
        with open(DOC, "w") as f:
            f.write(new)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
