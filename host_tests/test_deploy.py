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
# What the .mpy build and `make deploy` carry: all but the machine-code module (tools/build_mpy.py).
MPY_MODULES = [m for m in MODULES if m != "fast"]
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


def test_package_json_lists_every_module():
    with open(os.path.join(ROOT, "package.json")) as f:
        pkg = json.load(f)
    assert isinstance(pkg["version"], str) and pkg["deps"] == []
    urls = dict(pkg["urls"])
    assert sorted(urls) == sorted("microdhcp/%s.py" % m for m in MODULES)
    for dest, src in pkg["urls"]:
        assert src == "firmware/" + dest and os.path.exists(os.path.join(ROOT, src)), src


def test_manifest_freezes_the_package():
    calls = []
    ns = {"package": lambda name, **kw: calls.append((name, kw)), "metadata": lambda **kw: None, "__file__": os.path.join(ROOT, "firmware", "manifest.py")}
    with open(os.path.join(ROOT, "firmware", "manifest.py")) as f:
        exec(f.read(), ns)
    assert calls and calls[0][0] == "microdhcp"


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
    assert sorted(os.listdir(str(tmp_path / "lib" / "microdhcp"))) == sorted(m + ".py" for m in MODULES)
