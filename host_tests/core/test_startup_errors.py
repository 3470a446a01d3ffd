# test_startup_errors: what a user is told when start-up goes wrong (issue 16): an empty lease
# file is a new store, an unwritable one is reported in words and marked not persistent, a
# failing write while serving is counted and said once, and OSErrors become sentences (never
# "OSError(19,)"). Runs under pytest and `micropython host_tests/mp_runner.py startup`.
import gc
import os
import errno
import harness as h
import dhcpkit as k
from microdhcp.store import LeaseStore, open_store
from microdhcp.errors import describe, no_room
from tmpfiles import TmpDir, exists

# Linux numbers where the unix port's errno module has no name for them.
ENOSPC = getattr(errno, "ENOSPC", 28)
EROFS = getattr(errno, "EROFS", 30)
EISDIR = getattr(errno, "EISDIR", 21)
EADDRNOTAVAIL = getattr(errno, "EADDRNOTAVAIL", 99)


def test_empty_file_is_a_new_store_not_damage():
    d = TmpDir("startup")
    try:
        p = d.file()
        open(p, "wb").close()            # what `touch` leaves
        e = h.engine()
        st = LeaseStore(p, e)
        msg = st.load(0)
        assert st.corrupt == 0 and st.bad_path is None, msg
        assert "damaged" not in msg and "None" not in msg, msg
        assert "empty" in msg, msg
        assert not exists(p + ".bad"), msg
        assert st.persistent, msg
        assert h.dora(e, 1, 0)["type"] == k.ACK
        st.close()
        st2 = LeaseStore(p, h.engine())
        st2.load(0)
        assert st2.loaded >= 1 and st2.corrupt == 0, st2.message
        st2.close()
    finally:
        d.clean()


def test_missing_directory_is_named_and_not_persistent():
    e = h.engine()
    lines = []
    st = open_store("/nonexistent_mdhcp_dir/x.db", e, 0, log=lines.append)
    assert not st.persistent
    assert st.problem == "no such directory /nonexistent_mdhcp_dir (create it, or choose another path)", st.problem
    assert "OSError" not in lines[0] and "(2," not in lines[0], lines
    assert "leases will not persist" in lines[0], lines
    # It still serves (a board keeps going; the host command refuses on st.persistent).
    assert h.dora(e, 1, 0)["type"] == k.ACK
    st.close()


def _damaged_file(d):
    # A lease file with no valid header or record: what load() reports as damaged.
    p = d.file()
    with open(p, "wb") as f:
        f.write(b"not a lease file" * 10)
    return p


def test_damaged_file_that_cannot_be_kept_says_so():
    d = TmpDir("startup")
    try:
        p = _damaged_file(d)
        os.mkdir(p + ".bad")             # a directory in the way: the rename to PATH.bad fails
        os.mkdir(p + ".bad/x")           # not empty, so nothing can remove it either
        st = LeaseStore(p, h.engine())
        msg = st.load(0)
        assert st.bad_path is None, msg
        assert "kept as None" not in msg, msg
        assert "could not be kept" in msg, msg
        st.close()
        os.rmdir(p + ".bad/x")
    finally:
        d.clean()


def test_damaged_file_names_where_it_went():
    d = TmpDir("startup")
    try:
        p = _damaged_file(d)
        st = LeaseStore(p, h.engine())
        msg = st.load(0)
        assert st.bad_path == p + ".bad" and ("kept as " + p + ".bad") in msg, msg
        assert exists(p + ".bad")
        st.close()
    finally:
        d.clean()


class _FailingFile:
    # Stands in for a file on a full flash: every write fails as littlefs/FAT would (ENOSPC).
    def write(self, b):
        raise OSError(ENOSPC)

    def flush(self):
        pass

    def close(self):
        pass


def test_write_failure_while_serving_is_counted_said_once_and_serving_goes_on():
    d = TmpDir("startup")
    try:
        p = d.file()
        e = h.engine()
        lines = []
        st = open_store(p, e, 0, log=lines.append)
        assert st.persistent
        st.f.close()
        st.f = _FailingFile()
        assert h.dora(e, 1, 0)["type"] == k.ACK       # granted all the same
        assert h.dora(e, 2, 0)["type"] == k.ACK
        assert st.write_errors == 1 and not st.persistent
        said = [l for l in lines if "cannot write" in l]
        assert len(said) == 1 and "no space left" in said[0], lines
        st.close()
    finally:
        d.clean()


def test_describe_names_errors_in_words():
    assert describe(OSError(19), iface="nosuch0") == "no such interface 'nosuch0' (`ip link` lists the interface names)"
    assert describe(OSError(errno.ENOENT), path="/a/b/c.db").startswith("no such directory /a/b ")
    assert describe(OSError(errno.EACCES), path="/x.db").startswith("permission denied for /x.db")
    assert describe(OSError(EROFS), path="/x.db").startswith("/x.db is on a read-only file system")
    assert describe(OSError(EISDIR), path="/x").startswith("/x is a directory")
    # Anything else: the error's name, never a bare tuple.
    txt = describe(OSError(EADDRNOTAVAIL))
    assert ("EADDRNOTAVAIL" in txt or "errno 99" in txt) and "(" not in txt.split(":")[0], txt
    # An error that is not an OSError is its own text: MicroPython answers e.errno with args[0] for
    # every exception, which made this "errno memory allocation failed, ...".
    for e, text in ((MemoryError("memory allocation failed, allocating 8 bytes"),
                     "memory allocation failed, allocating 8 bytes"), (ValueError("bad name"), "bad name"),
                    (MemoryError(), "MemoryError")):
        assert describe(e) == text, (describe(e), text)


def test_a_server_that_does_not_fit_is_said_as_a_configuration_error():
    # errors.no_room: the leases, the heap free, what to change (the front end's words).
    text = no_room(254, "serve a smaller pool (POOL in config.py)")
    assert text.startswith("not enough memory for a server of 254 leases ("), text
    assert text.endswith("(POOL in config.py)"), text
    if hasattr(gc, "mem_free"):         # MicroPython: the free heap is part of it
        assert "bytes of heap free after a collection" in text, text
    # The per-lease figure it quotes is the table's own (a 253-lease /24 table, narrow slots).
    assert "a slot per address, %d bytes each" % h.engine(pool=None).table.bytes_per_lease() in text, text


def test_board_says_a_socket_shell_that_does_not_fit_is_a_configuration_error():
    # board.Board: a MemoryError while the socket shell is made (after the engine fit) is that
    # sentence too, not "allocating 296 bytes" (seen on the 32-bit build with a tight heap).
    # (The engine's MemoryError: test_boards.py, a board with a pool too large for its heap.)
    from microdhcp import board
    from microdhcp.config import Config

    class UserConfig:
        pass

    b = board.Board(UserConfig, Config("192.168.4.1/24"))
    real = board.Server

    def server_without_room(*args, **kwargs):
        raise MemoryError("memory allocation failed, allocating 296 bytes")

    board.Server = server_without_room
    try:
        b.bind()
        raise AssertionError("bind() returned")
    except MemoryError as e:
        assert str(e).startswith("not enough memory for a server of 253 leases ("), str(e)
        assert "POOL in config.py" in str(e), str(e)
    finally:
        board.Server = real


def test_board_serve_loop_goes_on_after_a_memory_error_from_poll():
    # Board.serve: a MemoryError out of the socket shell's poll (its poll list on a heap the web
    # server has fragmented, where there is no ipoll) is counted, a collection made, and serving
    # goes on; it used to end the board's loop (only OSError was caught).
    from microdhcp import board
    from microdhcp.config import Config

    class UserConfig:
        pass

    class Clock:
        t = 0

        def now(self):
            return self.t

    clock = Clock()

    class Shell:
        def __init__(self):
            self.polls = 0
            self.internal_errors = 0

        def poll(self, wait):
            self.polls += 1
            if self.polls <= 2:
                raise MemoryError("memory allocation failed, allocating 16 bytes")
            clock.t = 10           # the third poll ends the run
            return 0

        def close(self):
            pass

    b = board.Board(UserConfig, Config("192.168.4.1/24"))
    shell = Shell()
    b.server = shell
    b.clock = clock
    b.serve(until=5)
    assert shell.polls == 3 and shell.internal_errors == 2
