# test_board_config: a mistake in a board's config.py about the access point (SSID, PASSWORD,
# CHANNEL) is said at start-up, in words, by board.ap_settings: the AP is not started and the
# board says why (board.start_ap), instead of a traceback after port 67 is bound, or an AP that
# comes up other than asked (both firmwares cut an SSID, key or channel to fit their fields).
# Runs under pytest and `micropython host_tests/mp_runner.py board_config`.
from microdhcp import board


class _WLAN:
    SEC_OPEN = 0
    SEC_WPA2 = 3


class _Network:
    # ESP32 from v1.23 (WLAN.SEC_*); what ap_settings reads of the network module.
    WLAN = _WLAN


def _settings(pico=False, **names):
    class UserConfig:
        pass
    for k in names:
        setattr(UserConfig, k, names[k])
    return board.ap_settings(_Network, UserConfig, pico)


def _refused(words, **names):
    for pico in (False, True):
        got = _settings(pico, **names)
        assert isinstance(got, str) and words in got, (names, got)


def test_ssid_missing_empty_not_text_or_over_32_bytes_is_said():
    # IEEE 802.11 SSIDs are 0-32 octets; ESP32 cuts a longer one to 32 (ports/esp32/
    # network_wlan.c:555), cyw43 too (cyw43-driver src/cyw43.h:431-434): the AP would come up
    # under another name. A missing SSID raised AttributeError, a number TypeError (firmware).
    _refused("SSID must be")                            # no SSID in config.py
    for bad in (None, "", 123, b"microdhcp", "x" * 33, "\u00e9" * 17):   # the last: 34 bytes
        _refused("SSID must be", SSID=bad, PASSWORD="")
    for good in ("x", "x" * 32, "\u00e9" * 16):
        assert _settings(SSID=good, PASSWORD="")["ssid"] == good


def test_password_that_is_not_text_or_over_63_bytes_is_said_not_truncated():
    # A number raised TypeError from len(). 63 characters of UTF-8 can be more than 63 bytes: ESP32
    # keeps the first 63 bytes (network_wlan.c:576), cyw43 the first 64 (cyw43.h:445-448), so the
    # stations' key would not be the one in config.py.
    for bad in (12345678, "\u00e9" * 32, "short", "x" * 64):
        got = _settings(SSID="ap", PASSWORD=bad)
        assert isinstance(got, str) and got.startswith("PASSWORD must be"), (bad, got)
        assert str(bad) not in got, got                 # never the password itself on the console
    assert _settings(SSID="ap", PASSWORD="\u00e9" * 31)["key"] == "\u00e9" * 31   # 62 bytes
    assert _settings(SSID="ap", PASSWORD="x" * 63)["security"] == 3


def test_channel_out_of_range_or_not_a_number_is_said():
    # ESP32 keeps the channel as a uint8_t (network_wlan.c:582: 262 is channel 6), cyw43 too
    # (cyw43.h:418-420) and sets it without looking at the answer (cyw43_ll.c:2233); a text
    # "6" raised TypeError in config() after port 67 was bound. 2.4 GHz channels are 1-14.
    for bad in (0, 15, 262, -1, "6", 6.0, True):
        _refused("CHANNEL must be", SSID="ap", PASSWORD="", CHANNEL=bad)
    for good in (1, 6, 13, 14):
        assert _settings(SSID="ap", PASSWORD="", CHANNEL=good)["channel"] == good
    assert "channel" not in _settings(SSID="ap", PASSWORD="", CHANNEL=None)   # the firmware's default


def test_a_config_py_without_address_names_it():
    # Config's address is its one required argument: without ADDRESS in config.py the board
    # stopped with "function missing required positional argument #1" (MicroPython's words) or
    # "missing 1 required positional argument: 'address'" (CPython's).
    class UserConfig:
        SSID = "ap"
        POOL = ("192.168.4.2", "192.168.4.254")
    for value in (None, "absent"):
        if value is None:
            UserConfig.ADDRESS = None
        elif hasattr(UserConfig, "ADDRESS"):
            del UserConfig.ADDRESS
        try:
            board.make_config(UserConfig)
            raise AssertionError("no error")
        except ValueError as e:
            assert "ADDRESS" in str(e) and "192.168.4.1/24" in str(e), str(e)
    UserConfig.ADDRESS = "192.168.4.1/24"
    assert board.make_config(UserConfig).pool_size == 253


def test_a_socket_that_cannot_be_opened_is_said_in_words():
    # Board.bind: an OSError other than EADDRINUSE (rp2 lwIP: ENOMEM, its 5 UDP pcbs taken) is the
    # NOT SERVING reason; it read "OSError(12,)" on MicroPython. errors.describe words it.
    from microdhcp.config import Config

    class UserConfig:
        pass

    b = board.Board(UserConfig, Config("192.168.4.1/24"))
    real = board.Server

    def no_pcb(*args, **kwargs):
        raise OSError(12)

    board.Server = no_pcb
    try:
        assert b.bind() is False
    finally:
        board.Server = real
    assert b.port_error == "cannot open UDP port 67: ENOMEM", b.port_error


def test_station_filter_answers_associated_stations_only():
    # board.StationFilter (Pico W; ESP32 without SO_BINDTODEVICE): a request whose chaddr is an
    # associated station's MAC passes, one that shares only its first five bytes does not; the
    # list (cyw43 [(mac,)], ESP32 [(mac, ip)]) is read again on a miss at most once a second.
    macs = [b"\x02\x00\x00\x00\x00\x01", b"\x02\x00\x00\x00\x00\x02", b"\xaa\xbb\xcc\xdd\xee\xff"]

    class AP:
        reads = 0
        stations = [(macs[0],), (macs[1], None)]

        def status(self, what):
            AP.reads += 1
            return AP.stations

    t = [0]
    f = board.StationFilter(AP(), ticks_ms=lambda: t[0], ticks_diff=lambda a, b: a - b)

    def request(mac, htype=1, hlen=6):
        rx = bytearray(300)
        rx[0], rx[1], rx[2] = 1, htype, hlen
        rx[28:34] = mac
        return rx

    assert f(None, request(macs[1]), 300) and f(None, request(macs[0]), 300)
    assert AP.reads == 1
    assert not f(None, request(macs[1][:5] + b"\x03"), 300)             # a miss: no new read yet
    assert not f(None, request(macs[2]), 300) and AP.reads == 1
    AP.stations = AP.stations + [(macs[2], "192.168.4.9")]
    t[0] = 1000                                                         # a second later: read again
    assert f(None, request(macs[2]), 300) and AP.reads == 2
    assert not f(None, request(macs[2], htype=6), 300)                  # not Ethernet/Wi-Fi
    assert not f(None, request(macs[0]), 33)                            # too short for a chaddr


def _refused_config(words, **names):
    class UserConfig:
        ADDRESS = "192.168.4.1/24"
    for k in names:
        setattr(UserConfig, k, names[k])
    try:
        board.make_config(UserConfig)
    except ValueError as e:
        assert words in str(e), str(e)
        return
    raise AssertionError("accepted: %r" % (names,))


def test_a_setting_or_board_name_not_in_capitals_is_refused_by_name():
    # make_config reads capitalised names only: `password = ...` was ignored without a word, and
    # the AP came up open; `lease_time` left the default in place.
    _refused_config("write password as PASSWORD", password="secret123")
    _refused_config("write Ssid as SSID", Ssid="ap")
    _refused_config("write lease_time as LEASE_TIME", lease_time=600)
    _refused_config("write Pool as POOL", Pool=None)

    class UserConfig:
        import sys                      # an import and helper names stay allowed
        ADDRESS = "192.168.4.1/24"
        base = "192.168.4."
        POOL = (base + "10", base + "20")
    assert board.make_config(UserConfig).pool_size == 11


def test_a_lease_file_that_is_not_a_path_is_refused_by_name():
    # LEASE_FILE = True or 5 raised TypeError from the store's path arithmetic, after port 67 was bound.
    for bad in (True, 5, b"/leases.db"):
        _refused_config("LEASE_FILE must be", LEASE_FILE=bad)
    for good in (None, "", "/leases.db"):
        class UserConfig:
            ADDRESS = "192.168.4.1/24"
            LEASE_FILE = good
        board.make_config(UserConfig)


def test_a_device_that_refuses_so_bindtodevice_is_said_in_words():
    # Board.bind_device: the reason read "(OSError(22,))" on MicroPython; errors.describe words it.
    import errno
    from microdhcp.config import Config

    class UserConfig:
        pass

    class Sock:
        def setsockopt(self, *args):
            raise OSError(errno.EINVAL)

    class Shell:
        sock = Sock()

        def set_reply_broadcast(self, b):
            pass

    class Socket:
        SOL_SOCKET = 1
        SO_BINDTODEVICE = 25

    b = board.Board(UserConfig, Config("192.168.4.1/24"))
    b.server = Shell()
    said = []
    real = board.log
    board.log = said.append
    try:
        assert b.bind_device(Socket, "ap") is False
    finally:
        board.log = real
    assert "SO_BINDTODEVICE ap failed (EINVAL)" in said[0], said
