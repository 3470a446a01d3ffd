# The host command fills the heap's start-up holes before serving (microdhcp.__main__._plug_heap),
# so that on the MicroPython unix port each datagram's allocations search from above the live heap
# instead of from its lowest hole (docs/performance.md, "The start-up holes"). These tests make
# holes of their own and check that every one is filled, that the limit holds, and that the
# function does nothing where it cannot work: CPython, and builds whose heap addresses are not
# small ints (the 32-bit unix build, where each id() would allocate).
import sys
import gc

_MP = sys.implementation.name == "micropython"


def _host():
    # The host command is not in the frozen builds (tools/units.py: a board has no use for it);
    # there the test checks that this is why it cannot be imported.
    try:
        import microdhcp.__main__ as host
    except ImportError:
        import microdhcp.engine
        assert microdhcp.engine.__file__ == "microdhcp/engine.py", "host command missing from an unfrozen package"
        return None
    return host


def _addresses_are_small_ints():
    # py/obj.c mp_obj_id: a small int for an address below 2**(bits - 2), else a long int
    return id(bytearray(16)) + (4 << 20) <= sys.maxsize >> 1


def _chain_length(head, bound):
    n = 0
    while head is not None and n <= bound:
        head = head[0]
        n += 1
    return n


def _make_holes(count):
    # count one-block holes between objects that stay alive: tuples made in pairs, every second
    # one dropped, then a collection
    kept = [None] * count
    for i in range(2 * count):
        t = (i,)
        if i & 1:
            kept[i >> 1] = t
    gc.collect()
    return kept


def _with_empty_chain(body):
    # body(host) with the module's chain of plugs emptied, put back afterwards; nothing where
    # the build has no host command
    host = _host()
    if host is None:
        return
    saved = host._plugs
    try:
        host._plugs = None
        body(host)
    finally:
        host._plugs = saved
        gc.collect()


def _fills_every_hole(host):
    if not _MP:
        assert host._heap_top() is None
        assert host._plug_heap() == 0
        assert host._plugs is None
        return
    if not _addresses_are_small_ints():
        assert host._heap_top() is None, "id() allocates on this build: it must not plug"
        assert host._plug_heap() == 0
        assert host._plugs is None
        return
    kept = _make_holes(300)
    top = host._heap_top()
    assert top is not None
    below = 0                               # each kept one below the top has its hole below it
    for t in kept:
        if id(t) < top:
            below += 1
    # The server's bound (_PLUG_MAX) is for its start-up heap; after other tests this process's
    # heap can hold more holes than that, so here the bound is every free block (16 B or more).
    limit = gc.mem_free() // 16 + 1
    filled = host._fill(top, limit)
    after = (filled,)      # built here (a constant tuple would be the compiled one)
    assert filled < limit, filled
    assert id(after) >= top, (hex(id(after)), hex(top))
    # a stale word on the stack may keep a dropped tuple alive (the GC is conservative)
    assert filled >= below - 4, (filled, below)
    assert _chain_length(host._plugs, filled + 1) == filled
    # the whole function, on the same heap: the chain grows by what it reports (how much that is
    # depends on this process's heap: its top may now lie higher, above holes not filled yet)
    more = host._plug_heap(limit)
    assert 0 <= more < limit, more
    assert _chain_length(host._plugs, filled + more + 1) == filled + more


def test_plug_fills_every_hole_below_the_top():
    """Holes made here, and all others below the top that _heap_top finds (where a block bigger
    than the holes lands, first fit), are filled: afterwards a one-block object lands at or
    above that top. The plugs are chained from the module, as many as reported."""
    _with_empty_chain(_fills_every_hole)


def _stops_at_limit(host):
    if not (_MP and _addresses_are_small_ints()):
        assert host._plug_heap(5) == 0
        return
    kept = _make_holes(50)
    assert host._plug_heap(7) == 7
    assert _chain_length(host._plugs, 100) == 7
    assert kept[0] is not None


def test_plug_stops_at_its_limit():
    """A bounded loop: with more holes than the limit, exactly the limit is filled."""
    _with_empty_chain(_stops_at_limit)
