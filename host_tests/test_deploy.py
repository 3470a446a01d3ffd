# test_deploy: tools/deploy.py's dry run (every module, the board files, reset last), firmware/manifest.py,
# package.json (every module listed), and the real mpremote commands run against the MicroPython unix
# port over a pseudo-terminal (its REPL speaks mpremote's raw REPL): the deploy copy steps and
# `mpremote mip install` from this checkout's package.json.
import json
import os
import pty
import select
import shlex
import shutil
import subprocess
import sys
import threading
import time
import tty

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SRC = os.path.join(ROOT, "firmware", "microdhcp")
MODULES = sorted(f[:-3] for f in os.listdir(SRC) if f.endswith(".py"))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import units                  # noqa: E402
HOST_MODULES = units.modules(["microdhcp-host"])    # the host command: never on a board
BOARD_MODULES = [m for m in MODULES if m not in HOST_MODULES]
# What the .mpy build and `make deploy` carry: all but the machine-code module (tools/build_mpy.py).
MPY_MODULES = [m for m in BOARD_MODULES if m != "fast"]
BOARDS = ["esp32_ap", "esp32_lan", "rp2_pico_w", "w5500_evb_pico"]
MICROPYTHON = shutil.which("micropython")
MPREMOTE = shutil.which("mpremote")


def dry_run(*args):
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "deploy.py"), "--dry-run"] + list(args),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return [shlex.split(line) for line in r.stdout.splitlines() if line.strip()]


def steps(cmd):
    # "mpremote connect PORT a b + c d" -> [[a, b], [c, d]]
    assert cmd[:2] == ["mpremote", "connect"]
    out = [[]]
    for w in cmd[3:]:
        if w == "+":
            out.append([])
        else:
            out[-1].append(w)
    return out


@pytest.mark.parametrize("board", BOARDS)
def test_dry_run_copies_every_module_and_the_board_files_then_resets(board):
    cmds = dry_run("--board", board, "--port", "/dev/ttyUSB0")
    assert all(c[:3] == ["mpremote", "connect", "/dev/ttyUSB0"] for c in cmds)
    all_steps = [s for c in cmds for s in steps(c)]
    copies = [(s[1], s[2]) for s in all_steps if s[0] == "cp"]
    for m in MPY_MODULES:
        assert ("build/mpy/microdhcp/%s.mpy" % m, ":lib/microdhcp/%s.mpy" % m) in copies, m
    assert not [c for c in copies if any("/%s." % m in c[0] for m in HOST_MODULES)]
    assert ("boards/%s/config.py" % board, ":config.py") in copies
    assert ("boards/%s/main.py" % board, ":main.py") in copies
    assert all_steps[-1] == ["reset"] and cmds[-1][3:] == ["reset"]
    assert all_steps[0][0] == "exec"          # lib/microdhcp made (and emptied) before the copies
    for src, _ in copies:
        assert src.startswith("build/") or os.path.exists(os.path.join(ROOT, src)), src


def test_dry_run_keep_config_and_bad_board():
    cmds = dry_run("--board", "esp32_ap", "--port", "/dev/ttyACM0", "--keep-config")
    assert not any("config.py" in w for c in cmds for w in c)
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "deploy.py"), "--board", "nope",
                        "--port", "x", "--dry-run"], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "esp32_ap" in r.stderr


def test_package_json_lists_every_board_module():
    with open(os.path.join(ROOT, "package.json")) as f:
        pkg = json.load(f)
    assert isinstance(pkg["version"], str) and pkg["deps"] == []
    urls = dict(pkg["urls"])
    assert sorted(urls) == sorted("microdhcp/%s.py" % m for m in BOARD_MODULES)
    for dest, src in pkg["urls"]:
        assert src == "firmware/" + dest and os.path.exists(os.path.join(ROOT, src)), src


def test_every_module_is_in_one_unit_and_the_unit_files_are_current():
    mods = [m for u in units.UNITS for m in u[2]]
    assert sorted(mods) == MODULES              # each module in exactly one unit
    names = [u[0] for u in units.UNITS]
    for u in units.UNITS:                       # a unit requires only units listed before it
        assert all(names.index(r) < names.index(u[0]) for r in u[3]), u[0]
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "units.py"), "--check"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def manifest_files(path):
    # Runs a manifest with MicroPython's own manifest reader (tools/manifestfile.py of the vendored
    # source, extracted by tools/build_firmware.py): the frozen files it names, and its version.
    import build_firmware as bf
    if not os.path.exists(os.path.join(bf.SRC, "tools", "manifestfile.py")):
        tars = [f for f in os.listdir(bf.VENDOR) if f.startswith("micropython-") and f.endswith(".tar.gz")]
        bf.extract(os.path.join(bf.VENDOR, tars[0]), False)
    sys.path.insert(0, os.path.join(bf.SRC, "tools"))
    import manifestfile as mf
    m = mf.ManifestFile(mf.MODE_FREEZE, {"MPY_DIR": bf.SRC, "MPY_LIB_DIR": "", "PORT_DIR": "", "BOARD_DIR": ""})
    m.execute(path)
    return sorted(f.target_path for f in m.files()), m.metadata().version


def test_manifest_freezes_every_board_module_through_the_units():
    got, version = manifest_files(os.path.join(ROOT, "firmware", "manifest.py"))
    assert got == ["microdhcp/%s.py" % m for m in BOARD_MODULES]
    # require() between units: the board unit alone brings the core and the store with it
    got, _ = manifest_files(os.path.join(ROOT, "firmware", "units", "microdhcp-board", "manifest.py"))
    assert got == sorted("microdhcp/%s.py" % m for m in units.modules(["microdhcp-core", "microdhcp-store",
                                                                        "microdhcp-board"]))


def test_one_version():
    import re
    with open(os.path.join(SRC, "__init__.py")) as f:
        v = re.search(r'^__version__ = "([0-9.]+)"$', f.read(), re.M).group(1)
    jsons = [os.path.join(ROOT, "package.json")] + [os.path.join(ROOT, "firmware", "units", u[0], "package.json")
                                                    for u in units.UNITS]
    for p in jsons:
        with open(p) as f:
            pkg = json.load(f)
        assert pkg["version"] == v, p
        for dep, dv in pkg["deps"]:
            assert dv == "v" + v or "microdhcp" not in dep, (p, dep, dv)
    assert manifest_files(os.path.join(ROOT, "firmware", "manifest.py"))[1] == v
    for u in units.UNITS:
        # A unit's version is a comment: metadata(version=...) would make the freezer append
        # __version__ to every module (tools/units.py manifest_py).
        p = os.path.join(ROOT, "firmware", "units", u[0], "manifest.py")
        assert manifest_files(p)[1] is None, p
        with open(p) as f:
            assert "# version %s " % v in f.read(), p
    with open(os.path.join(ROOT, "CHANGELOG.md")) as f:
        first = re.search(r"^## (\S+)", f.read(), re.M).group(1)
    assert first == v, "CHANGELOG.md's newest entry is %s, the package is %s" % (first, v)


class UnixBoard:
    """The unix port's REPL behind a pseudo-terminal, in a scratch directory: mpremote's view of a board.

    micropython itself talks over pipes and a thread relays them to the pty master, so that only mpremote
    (pyserial) sets the terminal's modes. Given a terminal, the unix port calls tcsetattr(TCSAFLUSH) around
    every prompt, and on a pty that discards bytes still in flight between it and mpremote; mpremote then
    waits forever for a raw-paste window byte that was thrown away (seen once in CI, about 1 run in 10 on
    a loaded machine). `-i` keeps the REPL running on a stdin that is not a terminal.
    """

    def __init__(self, cwd):
        self.master, self.slave = pty.openpty()
        tty.setraw(self.slave)
        self.port = os.ttyname(self.slave)
        self.p = subprocess.Popen([MICROPYTHON, "-i", "-c", ""], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, cwd=str(cwd))
        self.running = True
        self.relay = threading.Thread(target=self._relay, daemon=True)
        self.relay.start()
        try:
            self._wait_prompt(20.0)
        except BaseException:
            self.close()
            raise
        # The test keeps its end of the slave open (and never reads it again) so the master never sees the
        # hang-up between two mpremote runs.

    def _relay(self):
        out = self.p.stdout.fileno()
        while self.running:
            r, _, _ = select.select([self.master, out], [], [], 0.2)
            try:
                if self.master in r:
                    self.p.stdin.write(os.read(self.master, 4096))
                    self.p.stdin.flush()
                if out in r:
                    data = os.read(out, 4096)
                    if not data:
                        return          # micropython exited
                    os.write(self.master, data)
            except OSError:             # killed by close() mid-relay
                return

    def _wait_prompt(self, timeout):
        # mpremote must not talk before the REPL is up: on a loaded machine the unix port can take
        # seconds to print its banner, and a Ctrl-C sent earlier is lost.
        seen = b""
        deadline = time.monotonic() + timeout
        while b">>> " not in seen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("micropython REPL gave no prompt on the pty: %r" % seen[-200:])
            r, _, _ = select.select([self.slave], [], [], left)
            if r:
                seen += os.read(self.slave, 4096)

    def mpremote(self, args):
        return subprocess.run([MPREMOTE, "connect", self.port, "resume"] + args, cwd=ROOT, capture_output=True,
                              text=True, timeout=120)

    def close(self):
        self.running = False
        self.p.kill()
        self.p.wait(timeout=10)
        self.relay.join(timeout=10)
        self.p.stdin.close()
        self.p.stdout.close()
        os.close(self.master)
        os.close(self.slave)


needs_tools = pytest.mark.skipif(not (MICROPYTHON and MPREMOTE), reason="micropython and mpremote needed")


@needs_tools
def test_deploy_commands_run_against_the_unix_port(tmp_path):
    subprocess.run([sys.executable, os.path.join(ROOT, "tools", "build_mpy.py"), "--quiet"], check=True, timeout=120)
    dev = UnixBoard(tmp_path)
    try:
        (tmp_path / "lib").mkdir()
        (tmp_path / "lib" / "microdhcp").mkdir()
        (tmp_path / "lib" / "microdhcp" / "engine.py").write_text("raise ImportError('stale')\n")  # an old .py
        for c in dry_run("--board", "esp32_ap", "--port", dev.port)[:-1]:     # all but the reset
            r = dev.mpremote(c[3:])
            assert r.returncode == 0, (c, r.stdout, r.stderr)
    finally:
        dev.close()
    got = sorted(os.listdir(str(tmp_path / "lib" / "microdhcp")))
    assert got == sorted(m + ".mpy" for m in MPY_MODULES)
    assert (tmp_path / "main.py").read_text() == open(os.path.join(ROOT, "boards", "esp32_ap", "main.py")).read()
    env = dict(os.environ, MICROPYPATH=str(tmp_path / "lib"))
    r = subprocess.run([MICROPYTHON, "-c", "import microdhcp.engine, microdhcp.board; print('ok')"],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "ok", r.stdout + r.stderr


@needs_tools
def test_mip_install_from_the_local_checkout(tmp_path):
    dev = UnixBoard(tmp_path)
    try:
        r = dev.mpremote(["mip", "install", "--target", str(tmp_path / "lib"), "--no-mpy",
                          os.path.join(ROOT, "package.json")])
    finally:
        dev.close()
    assert r.returncode == 0, r.stdout + r.stderr
    assert sorted(os.listdir(str(tmp_path / "lib" / "microdhcp"))) == sorted(m + ".py" for m in BOARD_MODULES)


@needs_tools
def test_mip_install_of_one_unit_brings_its_requirements(tmp_path):
    # The unit package.json files as tools/units.py writes them, with the repository's address
    # pointed at a local HTTP server of this checkout (mip names dependencies by full address;
    # nothing leaves the machine). Installing the board unit brings the core and the store through
    # "deps", and nothing of the host command, the kit or the client.
    import functools
    import http.server
    site = tmp_path / "site"
    os.makedirs(str(site / "firmware" / "units"))
    os.symlink(SRC, str(site / "firmware" / "microdhcp"))
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site)))
    base = "http://127.0.0.1:%d" % httpd.server_address[1]
    for u in units.UNITS:
        d = site / "firmware" / "units" / u[0]
        d.mkdir()
        (d / "package.json").write_text(units.package_json(u[0], base))
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    dev = UnixBoard(tmp_path)
    try:
        r = dev.mpremote(["mip", "install", "--target", str(tmp_path / "lib"), "--no-mpy",
                          base + "/firmware/units/microdhcp-board/package.json"])
    finally:
        dev.close()
        httpd.shutdown()
        httpd.server_close()
        t.join(timeout=10)
    assert r.returncode == 0, r.stdout + r.stderr
    want = units.modules(["microdhcp-core", "microdhcp-store", "microdhcp-board"])
    assert sorted(os.listdir(str(tmp_path / "lib" / "microdhcp"))) == sorted(m + ".py" for m in want)
    env = dict(os.environ, MICROPYPATH=str(tmp_path / "lib"))
    r = subprocess.run([MICROPYTHON, "-c", "import microdhcp.board, microdhcp.store; print('ok')"],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "ok", r.stdout + r.stderr


def test_every_module_carries_the_licence_header():
    # The one-line header micropython-lib puts on each module (the full text is in LICENSE).
    header = "# MIT license; Copyright (c) 2026 the microdhcp authors\n"
    paths = [os.path.join(SRC, m + ".py") for m in MODULES]
    for d in ("boards", "examples"):
        for dirpath, _, names in os.walk(os.path.join(ROOT, d)):
            paths += [os.path.join(dirpath, n) for n in names if n.endswith(".py")]
    for p in paths:
        with open(p) as f:
            assert f.readline() == header, p
