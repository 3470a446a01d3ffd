#!/usr/bin/env python3
"""The third-party MicroPython-and-CPython libraries the kit's web part uses (microdot), installed
from PyPI with pip into build/pylib, a path the tests and the demo put on MICROPYPATH and
PYTHONPATH. Nothing third-party is committed. Idempotent:
    python3 tools/pylib.py          # installs if missing, prints the path
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYLIB = os.path.join(ROOT, "build", "pylib")
PINS = ("microdot==2.7.0",)


def ensure():
    if not os.path.exists(os.path.join(PYLIB, "microdot", "microdot.py")):
        env = dict(os.environ, PIP_ROOT_USER_ACTION="ignore")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", PYLIB] + list(PINS),
                       check=True, timeout=300, env=env)
    return PYLIB


if __name__ == "__main__":
    print(ensure())
