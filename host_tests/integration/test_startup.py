# Start-up refusals of the host command (issue 16), on both runtimes in a namespace lab: a second
# server on the same port, a lease file that cannot be written, an interface that does not exist.
# Each must exit 2 with a sentence that says what is wrong and what to do, never a raw tuple.
import re
import time

from test_clients import server_args, assert_lease


def _exit_code(proc, timeout=15.0):
    # The refused server exits by itself; bounded wait.
    deadline = time.monotonic() + timeout
    while proc.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    return proc.stop()


def test_second_server_on_the_same_port_is_refused_and_the_first_keeps_serving(lab, server, runtime):
    first = server(server_args(lab))
    second = lab.start_server(server_args(lab), runtime=runtime)
    rc = _exit_code(second)
    out = second.output()
    assert rc == 2, "second server exit %s:\n%s" % (rc, out)
    assert "UDP port 67 on %s is already in use by " % lab.bridge in out, out
    # The holder is named: the first server's process (micropython or python3) and its pid.
    assert re.search(r"by (micropython|python3[.0-9]*) \(pid %d\)" % first.proc.pid, out), out
    assert "serving" not in out and "OSError" not in out, out
    c = lab.add_client()
    res = lab.udhcpc(c)
    assert_lease(res, first, c)


def test_unwritable_lease_file_and_unknown_interface_are_refused_in_words(lab, server, runtime):
    """Each bad start-up exits 2 with the reason and the fix; then the same command with the
    mistake corrected serves (so the lab's capture has a real exchange to check)."""
    proc = lab.start_server(server_args(lab, extra=("--leases-file", "/nonexistent_mdhcp/x.db")), runtime=runtime)
    rc = _exit_code(proc)
    out = proc.output()
    assert rc == 2, "exit %s:\n%s" % (rc, out)
    assert "cannot keep leases in /nonexistent_mdhcp/x.db: no such directory /nonexistent_mdhcp" in out, out
    assert "serving" not in out and "OSError" not in out, out

    args = server_args(lab)
    args[args.index("--iface") + 1] = "nosuch0"
    proc = lab.start_server(args, runtime=runtime)
    rc = _exit_code(proc)
    out = proc.output()
    assert rc == 2, "exit %s:\n%s" % (rc, out)
    assert "cannot open UDP port 67 on nosuch0: no such interface 'nosuch0'" in out, out
    assert "OSError" not in out and "(19," not in out, out

    good = server(server_args(lab, extra=("--leases-file", str(lab.tmp / "leases.db"))))
    c = lab.add_client()
    assert_lease(lab.udhcpc(c), good, c)
