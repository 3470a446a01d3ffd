# tmpfiles: a private folder under /tmp for the tests that write files (test_store, test_startup_errors),
# and what they ask of it. Both runtimes: MicroPython has no tempfile module and no os.getpid.
import os
from binascii import hexlify

_seq = [0]


class TmpDir:
    def __init__(self, what="store"):
        _seq[0] += 1
        # Unique per run: other runs (the other runtime, another checkout) may share /tmp.
        self.path = "/tmp/mdhcp_%s_%d_%s" % (what, _seq[0], hexlify(os.urandom(6)).decode())
        self.clean()
        os.mkdir(self.path)

    def file(self, name="leases"):
        return self.path + "/" + name

    def clean(self):
        # Files and empty folders directly inside, then the folder; nothing when it is gone.
        try:
            names = os.listdir(self.path)
        except OSError:
            return
        for n in names:
            p = self.path + "/" + n
            try:
                os.remove(p)
            except OSError:
                os.rmdir(p)
        os.rmdir(self.path)


def exists(p):
    try:
        os.stat(p)
        return True
    except OSError:
        return False
