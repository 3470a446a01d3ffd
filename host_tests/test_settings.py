# test_settings: the one settings table (firmware/microdhcp/settings.py) and the three ways to it:
# Config's keywords and defaults, the host command's flags and --help (both runtimes), a board's
# config.py (board.make_config), and the table in docs/configuration.md.
import inspect
import os
import shutil
import subprocess
import sys
import types

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "firmware"))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from microdhcp.config import Config          # noqa: E402
from microdhcp import configure               # noqa: E402
from microdhcp.settings import SETTINGS      # noqa: E402
from microdhcp import __main__ as cli        # noqa: E402
from microdhcp import board                  # noqa: E402
import configdoc                             # noqa: E402

MICROPYTHON = shutil.which("micropython")


def test_config_keywords_and_defaults_are_the_table():
    # Config(address, **settings) hands its keywords to configure.fill, which names them all.
    assert list(inspect.signature(Config.__init__).parameters) == ["self", "address", "settings"]
    params = inspect.signature(configure.fill).parameters
    sig = [(n, None if p.default is inspect.Parameter.empty else p.default) for n, p in params.items()
           if n != "cfg" and p.kind != inspect.Parameter.VAR_KEYWORD]
    assert sig == [(row[0], row[3]) for row in SETTINGS]


def test_config_annotations_name_every_attribute_fill_sets():
    import re
    with open(configure.__file__) as f:
        sets = set(re.findall(r"\bcfg\.(\w+) =", f.read()))
    assert sets == set(Config.__annotations__)
    c = Config("192.168.4.1/24")
    assert set(vars(c)) == sets


def test_flags_are_unique_and_every_setting_has_help():
    flags = [row[1] for row in SETTINGS] + [h[0] for h in cli._HOST]
    assert len(flags) == len(set(flags))
    for name, flag, typ, default, text in SETTINGS:
        assert flag.startswith("--") and text and "\n" not in text, name
        assert typ in ("int", "bool", "ip", "ips", "cidr", "range", "str", "names", "route", "option", "reserve")


def _host_command(runtime):
    # The host command on one runtime, the package from firmware/: (interpreter, environment).
    exe = sys.executable if runtime == "python3" else MICROPYTHON
    if exe is None:
        pytest.fail("micropython (unix port) not installed: tools/setup.sh installs it")
    return exe, dict(os.environ, PYTHONPATH=os.path.join(ROOT, "firmware"), MICROPYPATH=os.path.join(ROOT, "firmware"))


@pytest.mark.parametrize("runtime", ["python3", "micropython"])
def test_help_lists_every_setting(runtime):
    exe, env = _host_command(runtime)
    r = subprocess.run([exe, "-m", "microdhcp", "--help"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    for name, flag, typ, default, text in SETTINGS:
        hit = [i for i, line in enumerate(lines) if line.split()[:1] == [flag]]
        assert hit, "%s (%s) missing from --help" % (flag, name)
        i = hit[0]
        # the help text on the flag's line, or the next one when the flag is long
        assert text in lines[i] or text in lines[i + 1], flag


def test_a_pool_too_large_for_the_heap_is_a_start_up_error():
    # The host command on the unix port with a 1 MB heap and a /17 pool (32 765 leases, ~1.8 MB of
    # lease table on this 64-bit port): exit 2 with what to change, no traceback, nothing bound.
    if MICROPYTHON is None:
        pytest.fail("micropython (unix port) not installed: tools/setup.sh installs it")
    env = dict(os.environ, MICROPYPATH=os.path.join(ROOT, "firmware"))
    r = subprocess.run([MICROPYTHON, "-X", "heapsize=1M", "-m", "microdhcp", "--address", "10.0.0.1/17",
                        "--pool", "10.0.0.2-10.0.127.254"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.startswith("microdhcp: not enough memory for a server of 32765 leases ("), r.stderr
    assert "--pool" in r.stderr and "-X heapsize" in r.stderr and "Traceback" not in r.stderr, r.stderr


@pytest.mark.parametrize("runtime", ["python3", "micropython"])
def test_dns_names_of_the_host_command_are_checked_before_it_serves(runtime):
    # --dns-host NAME=IP and --dns-name: a bad one is a bad configuration (exit 2, what is wrong,
    # no traceback) found before any socket is opened; without --names or --portal they are a
    # usage error, not silently ignored.
    exe, env = _host_command(runtime)
    base = [exe, "-m", "microdhcp", "--address", "192.168.4.1/24"]
    for extra, words in ((["--names", "--dns-host", "printer=192.168.4.300"], "printer's address '192.168.4.300'"),
                         (["--portal", "--dns-host", "my.printer=192.168.4.20"], "one label"),
                         (["--names", "--dns-host", "printer"], "must be written NAME=IP"),
                         (["--names", "--dns-host", "a=192.168.4.20", "--dns-host", "A=192.168.4.21"], "twice"),
                         (["--names", "--dns-name", "box", "--dns-host", "box=192.168.4.20"], "own name"),
                         (["--names", "--dns-name", "my_box"], "--dns-name 'my_box' is not a host name"),
                         (["--dns-host", "printer=192.168.4.20"], "give --names or --portal too"),
                         (["--dns-name", "box"], "give --names or --portal too")):
        r = subprocess.run(base + extra, env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 2 and words in r.stderr and "Traceback" not in r.stderr, (extra, r.stderr)
        assert "serving on" not in r.stdout, (extra, r.stdout)
    opts = cli.parse_args(["--address", "192.168.4.1/24", "--names", "--dns-host", "printer=192.168.4.20",
                           "--dns-host", "nas=10.0.0.5"])
    cli.build_config(opts)
    assert opts["--dns-host"] == [("printer", "192.168.4.20"), ("nas", "10.0.0.5")]


_NUMERIC = [row[1] for row in SETTINGS if row[2] == "int"] + ["--http", "--exit-after"]


def _said(r, want):
    return r.returncode == 2 and r.stderr.startswith("microdhcp: " + want + "\n") and "Traceback" not in r.stderr


@pytest.mark.parametrize("runtime", ["python3", "micropython"])
def test_a_negative_number_is_a_usage_error_that_says_the_range(runtime):
    # Every numeric flag given -5 (and --option's code): exit 2 with the flag and its range, before
    # any socket is opened. It said "'-5' is not a whole number", and --exit-after's check came
    # after the server had bound its port (a traceback for "abc").
    exe, env = _host_command(runtime)
    for flag in _NUMERIC:
        r = subprocess.run([exe, "-m", "microdhcp", "--address", "192.168.4.1/24", flag, "-5"], env=env,
                           capture_output=True, text=True, timeout=60)
        assert _said(r, "%s '-5' must be a whole number from %d to %d" % ((flag,) + cli._RANGES[flag])), (flag, r.stderr)
        assert "serving on" not in r.stdout, (flag, r.stdout)
    for bad in ("-5", "x", "255"):
        r = subprocess.run([exe, "-m", "microdhcp", "--address", "192.168.4.1/24", "--option", bad + "=01"], env=env,
                           capture_output=True, text=True, timeout=60)
        assert _said(r, "--option code '%s' must be a whole number from 1 to 254" % bad), (bad, r.stderr)


@pytest.mark.parametrize("runtime", ["python3", "micropython"])
def test_special_use_dns_names_are_refused_before_serving(runtime):
    # localhost and invalid always answer the loopback address and NXDOMAIN (RFC 6761 6.3, 6.4),
    # so a --domain, --dns-name or --dns-host name ending so could never answer: exit 2 with the
    # flag and why, before any socket is opened (the --domain one was a traceback once serving).
    exe, env = _host_command(runtime)
    for args, flag, name in ((["--names", "--domain", "home.localhost"], "--domain", "home.localhost"),
                             (["--portal", "--dns-name", "Invalid"], "--dns-name", "Invalid")):
        r = subprocess.run([exe, "-m", "microdhcp", "--address", "192.168.4.1/24"] + args, env=env,
                           capture_output=True, text=True, timeout=60)
        assert _said(r, "bad configuration: %s %r ends in a special-use name (RFC 6761: localhost is the loopback address, "
                        "invalid does not exist); pick another" % (flag, name)), (args, r.stderr)


def test_numeric_flags_take_whole_numbers_in_a_range_no_narrower_than_configs():
    # Text that is not a whole number, or one outside the flag's range: the same usage error.
    # _RANGES only words it: Config refuses just below and just above each range, so the command
    # line never refuses a value that Config would take.
    assert sorted(cli._RANGES) == sorted(_NUMERIC + ["--option code"])
    for flag in _NUMERIC:
        lo, hi = cli._RANGES[flag]
        for bad in ("abc", "1.5", "\u00b2", str(lo - 1), str(hi + 1)):
            with pytest.raises(cli.UsageError) as e:
                cli.build_config(cli.parse_args(["--address", "192.168.4.1/24", flag, bad]))
            assert str(e.value) == "%s %r must be a whole number from %d to %d" % (flag, bad, lo, hi), str(e.value)
    for name, flag, typ, default, text in SETTINGS:
        if typ == "int":
            for v in (cli._RANGES[flag][0] - 1, cli._RANGES[flag][1] + 1):
                with pytest.raises(ValueError):
                    Config("192.168.4.1/24", **{name: v}) if name != "prefix" else Config("192.168.4.1", prefix=v)
    for code in (0, 255):
        with pytest.raises(ValueError):
            Config("192.168.4.1/24", raw_options={code: "01"})
    assert cli._int({"--lease": "600"}, "--lease") == 600 and cli._int({}, "--http", 80) == 80


def test_docs_table_is_the_table():
    with open(configdoc.DOC) as f:
        text = f.read()
    assert configdoc.render(text) == text, "docs/configuration.md is out of date: python3 tools/configdoc.py"
    for row in SETTINGS:
        assert "| `%s` | `%s` |" % (row[0], row[0].upper()) in text
    for name in board._BOARD_NAMES:     # the names of a board's config.py that are not settings
        assert "`%s`" % name in text, name


def test_command_line_sets_every_setting():
    argv = ["--address", "10.1.0.1/16", "--pool", "10.1.0.10-10.1.0.109", "--lease", "900", "--min-lease", "30",
            "--renew-time", "400", "--rebind-time", "800", "--offer-hold", "20", "--decline-hold", "120",
            "--router", "10.1.0.1", "--dns", "10.1.0.1,9.9.9.9", "--domain", "lan", "--broadcast-option",
            "10.1.255.255", "--mtu", "1400", "--ntp", "10.1.0.1", "--search", "lan,corp", "--route",
            "10.9.0.0/16=10.1.0.2", "--captive-portal", "http://10.1.0.1/", "--ipv6-only-wait", "600",
            "--option", "224=0102", "--reserve", "02:00:00:00:00:07=10.1.0.7", "--broadcast", "10.1.255.255",
            "--not-authoritative", "--rapid-commit", "--known-clients-only", "--capacity", "101",
            "--hostname-len", "20", "--max-offers", "7", "--offer-interval", "3", "--mac-pinning",
            "--id-cells", "9"]
    given = set(a for a in argv if a.startswith("--"))
    assert given == set(row[1] for row in SETTINGS) - {"--prefix", "--netmask"}
    c = cli.build_config(cli.parse_args(argv))
    assert (c.pool_size, c.lease_time, c.min_lease, c.renew_time, c.rebind_time) == (100, 900, 30, 400, 800)
    assert (c.offer_hold, c.decline_hold, c.capacity, c.hostname_len, c.max_offers) == (20, 120, 101, 20, 7)
    assert c.offer_interval == 3 and c.mac_pinning and c.rapid_commit and c.known_clients_only
    assert not c.authoritative
    assert c.id_cells == 9 + 0          # the reservation is by MAC: no cell on top
    assert c.options[224] == b"\x01\x02" and c.options[26] == b"\x05\x78" and c.options[108] == b"\0\0\x02\x58"
    assert c.options[6] == bytes((10, 1, 0, 1, 9, 9, 9, 9))
    assert c.options[3] == bytes((10, 1, 0, 1)) and c.options[42] == bytes((10, 1, 0, 1))
    assert c.options[15] == b"lan" and c.options[114] == b"http://10.1.0.1/"
    # RFC 3397: each name as length-prefixed labels ending in a zero byte (no common suffix to compress)
    assert c.options[119] == b"\x03lan\x00\x04corp\x00"
    # RFC 3442: width, the significant octets of the destination, the router; a client that gets 121
    # ignores option 3 (section "DHCP Client Behavior"), so the router comes again as the 0/0 route
    assert c.options[121] == bytes((16, 10, 9, 10, 1, 0, 2, 0, 10, 1, 0, 1))
    assert c.reservations == [(b"\x01\x02\x00\x00\x00\x00\x07", 7)]   # htype 1 + MAC -> host offset of 10.1.0.7
    assert c.reply_broadcast == bytes((10, 1, 255, 255)) and c.options[28] == bytes((10, 1, 255, 255))
    c = cli.build_config(cli.parse_args(["--address", "10.1.0.1", "--netmask", "255.255.255.0"]))
    assert c.prefix == 24
    c = cli.build_config(cli.parse_args(["--address", "10.1.0.1", "--prefix", "25"]))
    assert c.prefix == 25
    with pytest.raises(cli.UsageError):
        cli.parse_args(["--address", "10.1.0.1/24", "--max-offer", "3"])


def _module(**names):
    m = types.ModuleType("config")
    m.__dict__.update(names)
    return m


def test_board_config_sets_any_setting():
    c = board.make_config(_module(ADDRESS="192.168.4.1/24", SSID="x", PASSWORD=None, LEASE_FILE=None, LED_PIN=2,
                                  RUN_SECONDS=None, RAPID_COMMIT=True, MAX_OFFERS=3, MAC_PINNING=True,
                                  REPLY_BROADCAST=None, _private=1, helper=2))
    assert c.rapid_commit and c.max_offers == 3 and c.mac_pinning
    assert c.reply_broadcast == b"\xff\xff\xff\xff"     # None: the default


def test_board_config_refuses_a_misspelt_setting():
    with pytest.raises(ValueError) as e:
        board.make_config(_module(ADDRESS="192.168.4.1/24", LEASE_TIMEOUT=60))
    assert "LEASE_TIMEOUT" in str(e.value) and "docs/configuration.md" in str(e.value)


@pytest.mark.parametrize("name", sorted(os.listdir(os.path.join(ROOT, "boards"))))
def test_every_board_config_goes_through_the_table(name):
    ns = {}
    with open(os.path.join(ROOT, "boards", name, "config.py")) as f:
        exec(f.read(), ns)
    m = _module(**ns)
    names = set(row[0].upper() for row in SETTINGS) | set(board._BOARD_NAMES)
    assert set(k for k in ns if k == k.upper() and not k.startswith("_")) <= names
    assert board.make_config(m).server is not None


def test_config_docstring_describes_every_setting():
    for row in SETTINGS:
        assert ":param %s:" % row[0] in Config.__doc__, row[0]
