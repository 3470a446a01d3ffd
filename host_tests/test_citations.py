# test_citations: the firmware source the project cites is the source it names. docs/boards.md
# gives the MicroPython version every line number refers to (the vendored tarball that
# tools/build_firmware.py builds from); this reads that tarball (no extraction, nothing written)
# and checks:
# - every citation written with its path (py/..., extmod/..., ports/..., shared/...) in docs/,
#   firmware/, boards/ and the board simulator names a file of that tree and lines inside it;
# - the facts the board code and the simulator rest on most (FACTS) stand at the cited lines.
# A new vendored version fails here until the citations are read again (docs/boards.md).
# Bare citations (`modsocket.c:679`, where the sentence names the port) and lwIP / cyw43-driver
# ones (submodules, not in the tarball) are not checked here.
import os
import re
import sys
import tarfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tools"))
import build_firmware as bf   # noqa: E402

CITE = re.compile(r"\b((?:py|extmod|ports|shared)/[\w/.-]+\.[ch]):(\d+)(?:-(\d+))?")
WHERE = ("docs", "firmware", "boards", os.path.join("host_tests", "sim"))

# (file, first line, last line, text that must stand in those lines): each one a fact a board
# behaviour of docs/boards.md (or the code that works around it) rests on.
FACTS = (
    ("extmod/modlwip.c", 1324, 1324, "vstr_init_len"),                 # recv takes n + 1 bytes first
    ("py/vstr.c", 53, 56, "vstr_init(vstr, len + 1)"),                  # ... the + 1
    ("ports/esp32/modsocket.c", 679, 679, "vstr_init_len(&vstr, len)"),  # ESP32 recv: the buffer first
    ("ports/esp32/modsocket.c", 682, 682, "_socket_read_data"),          # ... then the read
    ("ports/esp32/modsocket.c", 631, 633, "return 0"),                 # a 0-byte read latches
    ("ports/unix/modsocket.c", 293, 293, "m_new(byte, sz)"),            # unix recv: sz bytes first
    ("ports/unix/modsocket.c", 295, 296, "mp_obj_new_str_of_type"),     # ... the object after the read
    ("py/objstr.c", 2437, 2437, "mp_obj_malloc(mp_obj_str_t"),          # lwIP recv's bytes object
    ("extmod/modselect.c", 576, 576, "mp_obj_new_tuple(2, tuple)"),     # poll(): a tuple per ready object
    ("extmod/modselect.c", 564, 576, "mp_obj_new_list"),                # ... and a list per call
    ("py/stream.c", 57, 82, "io_func(stream, buf, size, errcode)"),     # readinto: reads until full
    ("shared/netutils/netutils.c", 57, 59, "mp_obj_str_get_data"),      # sendto's host as str
    ("extmod/modlwip.c", 1040, 1040, "udp_bind(socket->pcb.udp, &bind_addr, port)"),  # bind: the address given
    ("ports/esp32/modsocket.c", 317, 317, "lwip_bind(self->fd, res->ai_addr"),         # ... on ESP32 too
    ("ports/esp32/mpconfigport.h", 71, 71, "MICROPY_USE_INTERNAL_ERRNO"),   # ESP32 errno: newlib's
    ("ports/rp2/mpconfigport.h", 134, 134, "MICROPY_USE_INTERNAL_ERRNO"),   # rp2: MicroPython's own
    ("py/mperrno.h", 73, 73, "MP_EADDRINUSE"),                          # ... EADDRINUSE 98
    ("ports/rp2/main.c", 175, 175, "mdns_resp_init"),                   # mDNS holds a pcb from power-up
    ("ports/rp2/main.c", 196, 197, "picoW123"),                         # the AP's key at boot
    ("ports/rp2/main.c", 179, 198, "cyw43_init(&cyw43_state)"),         # cyw43 up once per power-up ...
    ("ports/rp2/main.c", 204, 204, "for (;;)"),                         # ... before the soft-reset loop
    ("extmod/network_cyw43.c", 133, 137, "cyw43_deinit(self->cyw)"),     # WLAN.deinit()
    ("extmod/network_cyw43.c", 140, 153, "cyw43_wifi_set_up"),           # WLAN.active(v)
    ("extmod/network_cyw43.c", 142, 143, "if_active[self->itf]"),        # ... what active() reports
    ("extmod/network_cyw43.c", 383, 386, "mp_obj_new_bytes(&macs[i * mac_len]"),   # status('stations')
    ("ports/esp32/machine_pin.c", 114, 122, "machine_pin_find_named"),   # pin names: the board's table
    ("py/obj.c", 519, 528, "MP_OBJ_NEW_SMALL_INT(id)"),                  # id() of a lower-half address
    ("py/smallint.h", 37, 42, "MP_SMALL_INT_MIN"),                       # 31-bit small ints
    ("extmod/vfs_posix_file.c", 351, 351, "mp_sys_stdout_obj"),          # unix sys.stdout is a stream
    ("shared/runtime/sys_stdio_mphal.c", 108, 108, "mp_stream_write_obj"),   # ... and on the boards
    ("ports/esp32/network_wlan.c", 555, 555, "MIN(len, sizeof(cfg.ap.ssid))"),        # a longer SSID cut
    ("ports/esp32/network_wlan.c", 576, 576, "MIN(len, sizeof(cfg.ap.password) - 1)"),  # ... a key too
    ("ports/esp32/network_wlan.c", 582, 582, "uint8_t channel = mp_obj_get_int"),     # a channel in a byte
)


@pytest.fixture(scope="module")
def tree():
    # The vendored tarball's text files as lists of lines, read on demand.
    tar = tarfile.open(bf.tarball())
    names = set(tar.getnames())
    cache = {}

    def lines(path):
        if path not in names:
            return None
        if path not in cache:
            f = tar.extractfile(path)
            cache[path] = f.read().decode("utf-8", "replace").split("\n")
        return cache[path]
    yield lines
    tar.close()


def _citations():
    out = []
    for top in WHERE:
        for d, _, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if not name.endswith((".py", ".md")):
                    continue
                path = os.path.join(d, name)
                with open(path, encoding="utf-8") as f:
                    for no, line in enumerate(f, 1):
                        for m in CITE.finditer(line):
                            first = int(m.group(2))
                            out.append((os.path.relpath(path, ROOT), no, m.group(1), first,
                                        int(m.group(3) or first)))
    return out


def test_every_cited_file_and_line_is_in_the_vendored_tree(tree):
    cites = _citations()
    assert len(cites) > 100, "the citation pattern found only %d: has it stopped matching?" % len(cites)
    bad = []
    for where, no, path, first, last in cites:
        text = tree(path)
        if text is None:
            bad.append("%s:%d cites %s, which the vendored tree has not" % (where, no, path))
        elif not 1 <= first <= last <= len(text):
            bad.append("%s:%d cites %s:%d-%d, past its %d lines" % (where, no, path, first, last, len(text)))
    assert not bad, "\n".join(bad)


def test_the_facts_the_boards_rest_on_stand_at_the_cited_lines(tree):
    bad = []
    for path, first, last, want in FACTS:
        text = tree(path)
        got = "\n".join(text[first - 1:last]) if text is not None else ""
        if want not in got:
            bad.append("%s:%d-%d has no %r: %r" % (path, first, last, want, got[:200]))
    assert not bad, "\n".join(bad)


def test_every_fact_is_cited_where_the_project_says_it():
    # A FACTS row guards a citation the project makes: its file and first line appear in docs/,
    # firmware/, boards/ or the simulator (written with its path, or as a bare or continued line
    # number next to the file's name).
    text = ""
    for top in WHERE:
        for d, _, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if name.endswith((".py", ".md")):
                    with open(os.path.join(d, name), encoding="utf-8") as f:
                        text += f.read()
    missing = []
    for path, first, last, want in FACTS:
        base = os.path.basename(path)
        if not re.search(r"%s:[^\n|]{0,40}?\b%d\b" % (re.escape(base), first), text):
            missing.append("%s:%d" % (path, first))
    assert not missing, "FACTS rows no citation points at: %s" % ", ".join(missing)
