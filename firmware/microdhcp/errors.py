# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.errors: OSError -> one sentence a user can act on, the same on every runtime; and the
# sentence for a server that does not fit in the heap (no_room).
# CPython's str(OSError) names the error, but MicroPython's repr is a bare tuple such as
# "OSError(19,)": the start-up messages go through here so neither runtime prints raw numbers.
# Start-up only (it builds strings); never called on the packet path.
import errno


def errno_of(e):
    # MicroPython puts the number in args[0]; CPython also has .errno. MicroPython answers .errno
    # with args[0] for every exception (a MemoryError's text too): only an int is a number.
    n = getattr(e, "errno", None)
    if n is None and getattr(e, "args", None):
        n = e.args[0]
    return n if isinstance(n, int) else None


def name_of(n):
    # errno.errorcode exists on CPython and on the unix port; some board builds lack it.
    codes = getattr(errno, "errorcode", None) or {}
    return codes.get(n, "errno %s" % n)


def _dir_of(path):
    i = path.rfind("/")
    return path[:i] if i > 0 else ("/" if i == 0 else ".")


def describe(e, iface=None, path=None):
    """A sentence for e. iface: the interface it concerned; path: the file it concerned."""
    n = errno_of(e)
    if n is None:
        return str(e) or e.__class__.__name__
    if iface and n == getattr(errno, "ENODEV", 19):
        return "no such interface '%s' (`ip link` lists the interface names)" % iface
    if path:
        if n == errno.ENOENT:
            return "no such directory %s (create it, or choose another path)" % _dir_of(path)
        if n in (errno.EACCES, getattr(errno, "EPERM", 1)):
            return "permission denied for %s (choose a path this user may write, or run as its owner)" % path
        if n == getattr(errno, "EROFS", 30):
            return "%s is on a read-only file system (choose a writable path)" % path
        if n == getattr(errno, "EISDIR", 21):
            return "%s is a directory (give a file name)" % path
        if n == getattr(errno, "ENOTDIR", 20):
            return "a part of %s is not a directory" % path
        if n == getattr(errno, "ENOSPC", 28):
            return "no space left on the device that holds %s" % path
    if n in (errno.EACCES, getattr(errno, "EPERM", 1)):
        return "permission denied (%s)" % name_of(n)
    text = ""
    if len(getattr(e, "args", ())) > 1 and isinstance(e.args[1], str):
        text = e.args[1]
    return "%s%s" % (name_of(n), (": " + text) if text else "")


def no_room(capacity, fix):
    """The sentence for a MemoryError raised while the server was being built (the engine, the
    server's socket shell): how many leases, the heap free once the half-built objects are
    collected, and fix: what to change, in the words of the front end that built it."""
    import gc
    gc.collect()
    free = getattr(gc, "mem_free", None)     # MicroPython's; CPython has no fixed heap to report
    return ("not enough memory for a server of %d leases (%sthe lease table takes a slot per address, "
            "47 bytes each on a 32-bit board): %s"
            % (capacity, ("%d bytes of heap free after a collection; " % free()) if free else "", fix))
