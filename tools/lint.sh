#!/bin/sh
# lint: ruff over the repository (rules and their MicroPython reasons in pyproject.toml), then the
# generated files checked against their sources: the install units (tools/units.py) and the
# settings table of docs/configuration.md (tools/configdoc.py). `make lint`; a stage of `make test`.
set -e
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
$PY -m ruff check .
$PY tools/units.py --check
$PY tools/configdoc.py --check
echo "lint: ok"
