"""Shared helpers for STA's integration, interop and benchmark scripts.

A test script imports this package, starts real daemons on loopback (or in a
network namespace it creates), talks to them with the plain protocol helpers
and exits non-zero with a clear message on failure. Exit code 77 means
"skipped": only for a prerequisite that is genuinely absent (a third-party
client not installed, no permission to create a namespace).

Everything started through it (processes, temp dirs, namespaces) is
registered and torn down at exit, whatever happened.

One module a concern: core (locations, cleanup, ports, processes, the Daemon
base, namespaces), bencode, torrents, httpreq (HTTP and announce helpers),
trackers (trackerd, opentracker, a UDP tracker client), ctl (stad's control
protocol, stactl runs), stad (the stad wrapper), testcase (unittest glue).
The peer fakes and third-party peers are modules of their own, imported by
name: statest.btpeer, statest.interop_peers.
"""

from .core import *  # noqa: F401,F403
from .core import _all_procs  # noqa: F401  (benchmarks walk every process)
from .bencode import *  # noqa: F401,F403
from .torrents import *  # noqa: F401,F403
from .httpreq import *  # noqa: F401,F403
from .trackers import *  # noqa: F401,F403
from .ctl import *  # noqa: F401,F403
from .stad import *  # noqa: F401,F403
from .testcase import *  # noqa: F401,F403
