#!/usr/bin/env python3
# units: the install units of microdhcp, as micropython-lib lays packages out: one folder per unit
# under firmware/units/ with a manifest.py (freezing: require() between units) and a package.json
# (mip: "deps" between units), all written from the table below, so that the two never disagree.
# The repository's root package.json (`mpremote mip install github:OWNER/REPO`) is written here too:
# every module a board runs, no host command.
#   python3 tools/units.py            rewrite the files
#   python3 tools/units.py --check    exit 1 when a file differs from what the table gives
#   python3 tools/units.py --repo github:you/microdhcp    where the repository is published (the
#                                     unit package.json files name their deps by that address)
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNITS_DIR = os.path.join(ROOT, "firmware", "units")
# Where the repository is published; mip names a dependency by its full address, so the unit
# package.json files carry it. OWNER/REPO until the project has a public home: run with --repo.
REPO = "github:OWNER/REPO"

# (unit, description, modules of firmware/microdhcp, units it requires)
UNITS = (
    ("microdhcp-core", "DHCPv4 server core: configuration, RFC 2131 engine, lease table, socket shell",
     ["__init__", "config", "configure", "ipv4", "packet", "leases", "identity", "reply", "engine", "fast", "net", "clock", "codes",
      "status", "errors"], []),
    ("microdhcp-store", "microdhcp lease store: leases kept across resets in a crash-safe file",
     ["store"], ["microdhcp-core"]),
    ("microdhcp-board", "microdhcp board layer: access-point start, station filter, serve loop",
     ["board"], ["microdhcp-core", "microdhcp-store"]),
    ("microdhcp-kit", "microdhcp captive-portal kit: DNS and HTTP beside the DHCP server (needs microdot)",
     ["dns", "dnsserver", "web", "kit"], ["microdhcp-board"]),
    ("microdhcp-client", "microdhcp DHCP client (sans-IO) and its UDP shell",
     ["client", "clientmsg", "clientnet"], ["microdhcp-core"]),
    ("microdhcp-host", "microdhcp host command (python3/micropython -m microdhcp); not for boards",
     ["__main__", "settings", "fastlog"], ["microdhcp-core", "microdhcp-store", "microdhcp-kit", "microdhcp-client"]),
)
# Dependencies outside this repository (mip address, version), by unit: the portal's web server.
EXTERNAL = {"microdhcp-kit": [["github:miguelgrinberg/microdot/src/microdot/microdot.py", "v2.7.0"]]}
# What a board runs: the root package.json and firmware/manifest.py.
BOARD_UNITS = ("microdhcp-core", "microdhcp-store", "microdhcp-board", "microdhcp-kit", "microdhcp-client")


def version():
    with open(os.path.join(ROOT, "firmware", "microdhcp", "__init__.py")) as f:
        for line in f:
            if line.startswith("__version__"):
                return line.split("=", 1)[1].strip().strip('"')
    raise SystemExit("no __version__ in firmware/microdhcp/__init__.py")


def _unit(name):
    for u in UNITS:
        if u[0] == name:
            return u
    raise KeyError(name)


def modules(unit_names):
    out = []
    for n in unit_names:
        out.extend(_unit(n)[2])
    return out


def package_json(name, repo):
    _, _, mods, reqs = _unit(name)
    v = version()
    # Files by full address (a relative one would climb out of this folder with "..");
    # mip fetches each at the version asked for (`...@v0.2.0`), deps at this release's tag.
    d = {"urls": [["microdhcp/%s.py" % m, "%s/firmware/microdhcp/%s.py" % (repo, m)] for m in mods],
         "deps": [["%s/firmware/units/%s/package.json" % (repo, r), "v" + v] for r in reqs] + EXTERNAL.get(name, []),
         "version": v}
    return json.dumps(d, indent=2) + "\n"


def root_json():
    d = {"urls": [["microdhcp/%s.py" % m, "firmware/microdhcp/%s.py" % m] for m in sorted(modules(BOARD_UNITS))],
         "deps": [], "version": version()}
    return json.dumps(d, indent=2) + "\n"


def manifest_py(name):
    # The unit's version is a comment, not metadata(version=...): given a version, MicroPython's
    # freezer appends `__version__ = ...` to every module of the manifest that lacks one
    # (tools/manifestfile.py:644-656 of the MicroPython source, makemanifest.py:213-214), a global in
    # each module's dict, heap on a board. microdhcp.__version__ (the package's __init__) is the
    # version; package.json carries it for mip.
    _, desc, mods, reqs = _unit(name)
    out = ["# %s: written by tools/units.py from its table; edit the table, not this file." % name,
           "# version %s (microdhcp.__version__; not in metadata(), see tools/units.py)" % version(),
           'metadata(description="%s")' % desc, ""]
    if reqs:
        out.append('add_library("microdhcp-units", "..")')
        for r in reqs:
            out.append('require("%s", library="microdhcp-units")' % r)
    out.append('package("microdhcp", base_path="../..", files=[')
    for m in mods:
        out.append('    "%s.py",' % m)
    out.append("])")
    return "\n".join(out) + "\n"


def firmware_manifest():
    out = ["# Freezes microdhcp into a custom MicroPython firmware (frozen bytecode runs from flash, so the",
           "# package costs no RAM for its code). In the port's board manifest, or with FROZEN_MANIFEST=...:",
           '#   include("$(MPY_DIR)/ports/esp32/boards/manifest.py")      # or ports/rp2/boards/manifest.py',
           '#   include("/path/to/microdhcp/firmware/manifest.py")',
           "# The boards' main.py and config.py stay on the filesystem (config.py is edited by the user).",
           "# Every unit a board runs (firmware/units/); not the host command (microdhcp-host), which a",
           "# board never runs. The captive-portal kit also needs microdot frozen beside it (docs/portal.md).",
           "# Written by tools/units.py; a smaller firmware can include single units instead.",
           'metadata(description="DHCPv4 server for MicroPython boards (RFC 2131/2132)", version="%s")' % version(),
           "",
           'add_library("microdhcp-units", "units")']
    for u in BOARD_UNITS:
        out.append('require("%s", library="microdhcp-units")' % u)
    return "\n".join(out) + "\n"


def files(repo):
    out = {os.path.join(ROOT, "package.json"): root_json(),
           os.path.join(ROOT, "firmware", "manifest.py"): firmware_manifest()}
    for u in UNITS:
        d = os.path.join(UNITS_DIR, u[0])
        out[os.path.join(d, "package.json")] = package_json(u[0], repo)
        out[os.path.join(d, "manifest.py")] = manifest_py(u[0])
    return out


def main(argv):
    repo = REPO
    if "--repo" in argv:
        repo = argv[argv.index("--repo") + 1].rstrip("/")
    stale = []
    for path, text in sorted(files(repo).items()):
        try:
            with open(path) as f:
                same = f.read() == text
        except OSError:
            same = False
        if same:
            continue
        stale.append(os.path.relpath(path, ROOT))
        if "--check" not in argv:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
    if "--check" in argv and stale:
        print("out of date (python3 tools/units.py): " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
