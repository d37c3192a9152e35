"""stactl against a fake stad: a UNIX socket server in a thread that speaks
the control protocol of common/ctl_proto.h (8-byte header, bencoded dict).
Checks the frames stactl sends, how it renders replies, errors, a version
mismatch, a missing socket, garbage from the server, a WATCH stream, Ctrl-C
during a watch, and the interactive console through a pty."""

import fcntl
import json
import os
import pty
import re
import select
import signal
import socket
import struct
import subprocess
import termios
import threading
import time

import statest as st

VERSION = st.CTL_VERSION
HELLO, STATUS, START, UPDATE, REQUEST, SHARE = 0x0001, 0x0101, 0x0102, 0x0103, 0x0104, 0x0105
REMOVE, PAUSE, RESUME, CLOSE, WATCH = 0x0106, 0x0107, 0x0108, 0x0109, 0x010a
OK, ERROR, EVENT = 0x0201, 0x0202, 0x0301

HASH = "0123456789abcdef0123456789abcdef01234567"


def frame(mtype, payload=None, version=VERSION):
    body = payload if isinstance(payload, bytes) else st.bencode(payload or {})
    return struct.pack(">IHH", len(body), version, mtype) + body


def ok(payload=None):
    return frame(OK, payload)


def error(code, message, version=VERSION):
    return frame(ERROR, {"code": code, "message": message}, version)


class FakeStad:
    """Accepts connections one after another on its own socket. handlers maps
    a message type to fn(payload) -> iterable of bytes (sent), floats
    (sleeps) or None (hang up). HELLO answers OK by default. Every frame
    received is recorded as (type, payload dict, version)."""

    def __init__(self, handlers=None):
        self.dir = st.tempdir("stactl-mock-")
        self.path = os.path.join(self.dir, "stad.sock")
        self.handlers = {HELLO: lambda p: [ok({"server": "fake-stad", "version": VERSION})]}
        self.handlers.update(handlers or {})
        self.received = []
        self.lock = threading.Lock()
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(self.path)
        self.srv.listen(4)
        self.srv.settimeout(0.2)
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        st.at_cleanup(self.stop)

    def stop(self):
        self.stopping = True
        self.thread.join(10)
        self.srv.close()

    def requests(self):
        """The frames received, HELLOs left out."""
        with self.lock:
            return [r for r in self.received if r[0] != HELLO]

    def _serve(self):
        while not self.stopping:
            try:
                conn, _ = self.srv.accept()
            except socket.timeout:
                continue
            with conn:
                conn.settimeout(0.2)
                self._talk(conn)

    def _read(self, conn, buf, n):
        while len(buf) < n:
            if self.stopping:
                return None
            try:
                chunk = conn.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return None
            if not chunk:
                return None
            buf += chunk
        return buf

    def _talk(self, conn):
        buf = b""
        while True:
            buf = self._read(conn, buf, 8)
            if buf is None:
                return
            length, version, mtype = struct.unpack(">IHH", buf[:8])
            buf = self._read(conn, buf, 8 + length)
            if buf is None:
                return
            payload = st.bdecode(buf[8:8 + length])
            buf = buf[8 + length:]
            with self.lock:
                self.received.append((mtype, payload, version))
            handler = self.handlers.get(mtype, lambda p: [ok()])
            for item in handler(payload):
                if item is None:
                    return
                if isinstance(item, float):
                    time.sleep(item)
                    continue
                try:
                    conn.sendall(item)
                except OSError:
                    return


def stactl(*args, fake=None, timeout=30, env=None):
    argv = [st.sta_binary("stactl")]
    if fake is not None:
        argv += ["--socket", fake.path]
    e = dict(os.environ)
    e.pop("STA_SOCKET", None)
    e.update(env or {})
    r = st.run(argv + list(args), timeout=st.slack(timeout), check=False, env=e,
               stdin=subprocess.DEVNULL)
    return r


def torrent_reply(name="x", size=1000, changed=1, **extra):
    t = {"info_hash": HASH, "name": name, "size": size, "state": "checking"}
    t.update(extra)
    return ok({"changed": changed, "torrent": t})


def event(done, size=1000, **extra):
    p = {"info_hash": HASH, "state": "downloading", "size": size, "done": done,
         "down_rate": 250000, "peers": 3, "eta": 4}
    p.update(extra)
    return frame(EVENT, p)


class Replies(st.TestCase):
    def assertExit(self, r, code):
        self.assertEqual(r.returncode, code,
                         "exit %d, expected %d\nstdout:\n%s\nstderr:\n%s"
                         % (r.returncode, code, r.out, r.err))

    def test_hello_then_update_table(self):
        files = [
            {"name": "hello_big.txt", "size": 5 * 1024 * 1024, "info_hash": HASH,
             "seeders": 2, "leechers": 1, "added": 1700000000},
            {"name": "caf\u00e9 \u65e5\u672c.bin", "size": 10, "info_hash": "ab" * 20,
             "seeders": 0, "leechers": 0, "added": 1700000001},
            {"name": b"evil\x1b[2J\x1b]0;pwned\x07\n.txt", "size": 1, "info_hash": "cd" * 20,
             "seeders": 1, "leechers": 0, "added": 1700000002},
        ]
        fake = FakeStad({UPDATE: lambda p: [ok({"torrents": files})]})
        r = stactl("update", fake=fake)
        self.assertExit(r, 0)
        hello = fake.received[0]
        self.assertEqual(hello[0], HELLO)
        self.assertEqual(hello[2], VERSION)
        self.assertTrue(hello[1][b"client"].startswith(b"stactl "))
        self.assertEqual(fake.requests(), [(UPDATE, {}, VERSION)])
        lines = r.out.splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "SIZE", "SEEDERS", "LEECHERS", "INFO-HASH"])
        self.assertIn("hello_big.txt", lines[1])
        self.assertIn("5.0 MiB", lines[1])
        self.assertTrue(lines[1].endswith(HASH))
        self.assertIn("caf\u00e9 \u65e5\u672c.bin", lines[2])
        # Terminal control bytes from the server are shown escaped, never raw.
        self.assertNotIn("\x1b", r.out)
        self.assertNotIn("\x07", r.out)
        self.assertIn("evil\\x1b[2J\\x1b]0;pwned\\x07\\x0a.txt", lines[3])
        self.assertEqual(len(lines), 4)
        # Right-aligned SIZE column (rows with ASCII names: one char, one cell).
        end = lines[0].index("SIZE") + 4
        self.assertTrue(lines[1][:end].endswith(" 5.0 MiB"), lines)
        self.assertTrue(lines[3][:end].endswith(" 1 B"), lines)

    def test_update_json(self):
        files = [{"name": b"q\"uote\\\x01\xff", "size": 3, "info_hash": HASH,
                  "seeders": 1, "leechers": 2, "added": 5}]
        fake = FakeStad({UPDATE: lambda p: [ok({"torrents": files})]})
        r = stactl("--json", "update", fake=fake)
        self.assertExit(r, 0)
        doc = json.loads(r.out)
        self.assertEqual(doc["torrents"][0]["name"], "q\"uote\\\x01\ufffd")
        self.assertEqual(doc["torrents"][0]["leechers"], 2)
        # --json also works after the verb.
        r = stactl("update", "--json", fake=fake)
        self.assertEqual(json.loads(r.out)["torrents"][0]["size"], 3)

    def test_unreadable_entries_are_counted(self):
        good = {"name": "ok.bin", "size": 1, "info_hash": HASH, "seeders": 1, "leechers": 0,
                "added": 1}
        files = [{"name": 7, "size": "big", "info_hash": ["x"], "seeders": -4}, "not a dict",
                 good]
        fake = FakeStad({UPDATE: lambda p: [ok({"torrents": files})]})
        r = stactl("update", fake=fake)
        self.assertExit(r, 0)
        lines = r.out.splitlines()
        self.assertEqual(len(lines), 3, r.out)
        self.assertTrue(lines[1].startswith("ok.bin"))
        self.assertEqual(lines[2], "2 entries stad sent could not be read")
        # A reply without its list is a clear protocol error, not a crash.
        fake.handlers[UPDATE] = lambda p: [ok({"torrents": 3})]
        r = stactl("update", fake=fake)
        self.assertExit(r, 4)
        self.assertIn('no "torrents" list', r.err)

    def test_error_reply(self):
        fake = FakeStad({REQUEST: lambda p: [error("not_found",
                                                    "no such file in the catalog: nope")]})
        r = stactl("request", "nope", fake=fake)
        self.assertExit(r, 1)
        self.assertIn("no such file in the catalog: nope", r.err)
        self.assertEqual(fake.requests(), [(REQUEST, {b"target": b"nope"}, VERSION)])
        # A hostile message is escaped too.
        fake.handlers[START] = lambda p: [error("io", b"disk \x1b[31mfull")]
        r = stactl("start", fake=fake)
        self.assertExit(r, 1)
        self.assertIn("disk \\x1b[31mfull", r.err)
        self.assertNotIn("\x1b", r.err)

    def test_version_mismatch(self):
        # stad speaks another version: it answers HELLO with an ERROR of that
        # version and hangs up.
        other = VERSION + 1
        fake = FakeStad({HELLO: lambda p: [error("version", "stad speaks version %d" % other,
                                                 other), None]})
        r = stactl("status", fake=fake)
        self.assertExit(r, 4)
        self.assertIn("version %d" % VERSION, r.err)
        self.assertIn("version %d" % other, r.err)
        self.assertEqual(fake.requests(), [])
        # A frame of our version whose HELLO reply announces another one.
        fake.handlers[HELLO] = lambda p: [ok({"server": "stad 9", "version": other})]
        r = stactl("status", fake=fake)
        self.assertExit(r, 4)
        self.assertIn("version %d" % VERSION, r.err)
        self.assertIn("version %d" % other, r.err)

    def test_missing_socket(self):
        d = st.tempdir()
        path = os.path.join(d, "absent.sock")
        r = stactl("--socket", path, "update")
        self.assertExit(r, 3)
        self.assertIn("cannot connect to %s: No such file or directory" % path, r.err)
        self.assertIn("is stad running?", r.err)
        self.assertIn("systemctl start stad", r.err)
        self.assertIn("--socket", r.err)
        # STA_SOCKET is honoured.
        r = stactl("update", env={"STA_SOCKET": path})
        self.assertExit(r, 3)
        self.assertIn(path, r.err)

    def test_garbage_from_server(self):
        cases = [
            ("oversized length", [struct.pack(">IHH", 1 << 30, VERSION, OK)], 4),
            ("unknown type", [frame(0x7777)], 4),
            ("not a dict", [struct.pack(">IHH", 3, VERSION, OK) + b"i1e"], 4),
            ("bad bencode", [struct.pack(">IHH", 4, VERSION, OK) + b"d1:e"], 4),
            ("a request instead of a reply", [frame(STATUS)], 4),
            ("random bytes", [os.urandom(64)], 4),
            ("truncated then closed", [ok({"torrents": []})[:-3], None], 3),
            ("closed without a reply", [None], 3),
        ]
        for what, reply, code in cases:
            with self.subTest(what):
                fake = FakeStad({UPDATE: (lambda rep: lambda p: rep)(reply)})
                r = stactl("update", fake=fake)
                self.assertGreaterEqual(r.returncode, 0, "%s: killed by a signal" % what)
                if what == "random bytes":
                    self.assertIn(r.returncode, (3, 4), r.err)
                else:
                    self.assertExit(r, code)
                self.assertTrue(r.err.startswith("stactl: "), r.err)
                self.assertNotIn("Traceback", r.err)

    def test_request_watch_until_done(self):
        d = st.tempdir()
        tpath = os.path.join(d, "x.torrent")
        with open(tpath, "wb") as f:
            f.write(b"d4:infod4:name1:xee")
        events = [event(0), event(400), 0.05, event(800, eta=1),
                  event(1000, state="seeding", eta=0, complete=1)]
        fake = FakeStad({
            REQUEST: lambda p: [torrent_reply()],
            WATCH: lambda p: [ok()] + events,
        })
        r = stactl("request", os.path.relpath(tpath), fake=fake)
        self.assertExit(r, 0)
        reqs = fake.requests()
        # An existing .torrent file goes out as an absolute path.
        self.assertEqual(reqs[0], (REQUEST, {b"target": os.path.realpath(tpath).encode()},
                                   VERSION))
        self.assertEqual(reqs[1], (WATCH, {b"torrent": HASH.encode()}, VERSION))
        self.assertEqual(len(reqs), 2)
        # Not a terminal: plain lines, no carriage returns; the last is 100%.
        self.assertNotIn("\r", r.out)
        progress = [l for l in r.out.splitlines() if l.startswith("[")]
        self.assertGreaterEqual(len(progress), 2)
        self.assertIn("0.0%", progress[0])
        self.assertIn("100.0%", progress[-1])
        self.assertIn("3 peers", progress[-1])
        self.assertIn("250.0 kB/s", progress[-1])
        self.assertIn("complete and verified", r.out)

    def test_request_json_events(self):
        fake = FakeStad({
            REQUEST: lambda p: [torrent_reply()],
            WATCH: lambda p: [ok(), event(500), event(1000, complete=1, state="seeding")],
        })
        r = stactl("--json", "request", "hello", fake=fake)
        self.assertExit(r, 0)
        lines = [json.loads(l) for l in r.out.splitlines()]
        self.assertEqual(lines[0]["torrent"]["name"], "x")
        self.assertEqual([l["done"] for l in lines[1:]], [500, 1000])

    def test_request_detach(self):
        fake = FakeStad({REQUEST: lambda p: [torrent_reply("n", 5)]})
        r = stactl("request", "--detach", "n", fake=fake)
        self.assertExit(r, 0)
        self.assertEqual([t for t, _, _ in fake.requests()], [REQUEST])
        self.assertIn("requested n (5 B, checking), info-hash " + HASH, r.out)
        # A magnet link goes as typed, '/' in its trackers or not.
        link = "magnet:?xt=urn:btih:%s&dn=n&tr=http://127.0.0.1:1/announce" % HASH
        r = stactl("request", "--detach", link, fake=fake)
        self.assertExit(r, 0)
        self.assertEqual(fake.requests()[-1], (REQUEST, {b"target": link.encode()}, VERSION))

    def test_watch_failure_and_lost_connection(self):
        fake = FakeStad({WATCH: lambda p: [ok(), event(10), event(10, error="disk full")]})
        r = stactl("watch", HASH, fake=fake)
        self.assertExit(r, 1)
        self.assertIn("download failed: disk full", r.err)
        fake.handlers[WATCH] = lambda p: [ok(), event(10), None]
        r = stactl("watch", HASH, fake=fake)
        self.assertExit(r, 3)
        self.assertIn("closed the connection", r.err)

    def test_sigint_stops_the_watch_only(self):
        fake = FakeStad({WATCH: lambda p: [ok()] + [event(1), 0.1] * 200})
        p = subprocess.Popen([st.sta_binary("stactl"), "--socket", fake.path, "watch", HASH],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL)
        st.wait_until(lambda: len(fake.requests()) >= 1, st.slack(10), "WATCH sent")
        time.sleep(0.3)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=st.slack(10))
        self.assertEqual(p.returncode, 130, err)
        self.assertIn(b"download continues in stad", err)

    def test_other_verbs_send_the_right_frames(self):
        d = st.tempdir()
        share = os.path.join(d, "data.bin")
        with open(share, "wb") as f:
            f.write(b"x")
        tors = [{"info_hash": HASH, "name": "movie.mkv", "state": "downloading",
                 "size": 2048, "done": 1024, "down_rate": 1500, "up_rate": 0, "peers": 2,
                 "seeds": 1,
                 "peer_list": [{"addr": "127.0.0.1:6881", "client": "aria2/1.37",
                                "down": 4096, "up": 0, "blocks": 3, "hash_fails": 1,
                                "flags": "uI"}]}]
        fake = FakeStad({
            STATUS: lambda p: [ok({"torrents": tors})],
            SHARE: lambda p: [torrent_reply("data.bin", 1)],
            START: lambda p: [ok({"announced": 3})],
            REMOVE: lambda p: [torrent_reply("movie.mkv")],
            PAUSE: lambda p: [torrent_reply("movie.mkv")],
            RESUME: lambda p: [torrent_reply("movie.mkv")],
            CLOSE: lambda p: [ok({"changed": 1, "torrents": tors})],
        })
        r = stactl("status", "--peers", "movie", fake=fake)
        self.assertExit(r, 0)
        self.assertIn("50.0%", r.out)
        head, row = r.out.splitlines()[:2]
        self.assertEqual(row[:head.index("PEERS") + 5].split()[-1], "2")  # PEERS: stad's count, not the list's length
        self.assertTrue(head.endswith("INFO-HASH") and row.endswith(HASH))
        self.assertEqual(head.index("INFO-HASH"), row.index(HASH))  # left-aligned
        self.assertIn("1.5 kB/s", r.out)
        self.assertIn("127.0.0.1:6881", r.out)
        self.assertIn("aria2/1.37", r.out)
        self.assertIn("4.0 KiB", r.out)
        r2 = stactl("list", fake=fake)
        self.assertExit(r2, 0)
        self.assertNotIn("127.0.0.1", r2.out)
        r = stactl("share", os.path.relpath(share), fake=fake)
        self.assertExit(r, 0)
        self.assertIn("sharing %s as data.bin (1 B, checking)" % os.path.realpath(share), r.out)
        self.assertExit(stactl("share", os.path.join(d, "missing"), fake=fake), 1)
        for args in (["remove", "movie", "--delete-data"], ["remove", "movie"],
                     ["pause", "movie"], ["resume", "movie"], ["close"], ["start"]):
            self.assertExit(stactl(*args, fake=fake), 0)
        got = fake.requests()
        self.assertEqual(got, [
            (STATUS, {b"peers": 1, b"torrent": b"movie"}, VERSION),
            (STATUS, {}, VERSION),
            (SHARE, {b"path": os.path.realpath(share).encode()}, VERSION),
            (REMOVE, {b"delete_data": 1, b"torrent": b"movie"}, VERSION),
            (REMOVE, {b"torrent": b"movie"}, VERSION),
            (PAUSE, {b"torrent": b"movie"}, VERSION),
            (RESUME, {b"torrent": b"movie"}, VERSION),
            (CLOSE, {}, VERSION),
            (START, {}, VERSION),
        ])

    def test_usage_errors(self):
        fake = FakeStad()
        for args in (["request"], ["frobnicate"], ["status", "--detach"], ["pause", "a", "b"],
                     ["--no-such-option"]):
            with self.subTest(args=args):
                r = stactl(*args, fake=fake)
                self.assertExit(r, 2)
        self.assertEqual(fake.received, [])
        r = stactl("--help")
        self.assertExit(r, 0)
        for code in ("0 ", "1 ", "2 ", "3 ", "4 "):
            self.assertIn("  " + code, r.out)
        r = stactl("help", "request")
        self.assertExit(r, 0)
        self.assertIn("--detach", r.out)
        r = stactl("--version")
        self.assertIn("control protocol version %d" % VERSION, r.out)


def pty_read_until(fd, needle, timeout):
    out = b""
    deadline = time.monotonic() + timeout
    while needle not in out and time.monotonic() < deadline:
        rd, _, _ = select.select([fd], [], [], 0.1)
        if rd:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out


class Terminal(st.TestCase):
    def spawn(self, args, fake, columns=None):
        master, slave = pty.openpty()
        if columns:
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
        env = dict(os.environ, HOME=st.tempdir(), TERM="xterm")
        env.pop("COLUMNS", None)
        # A session whose controlling terminal is the pty, so that ^C is a
        # SIGINT as on a real terminal.
        p = subprocess.Popen([st.sta_binary("stactl"), "--socket", fake.path] + args,
                             stdin=slave, stdout=slave, stderr=slave, env=env,
                             start_new_session=True,
                             preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        os.close(slave)
        st.at_cleanup(lambda: p.poll() is None and p.kill())
        return p, master, env["HOME"]

    def test_console_help_update_quit(self):
        fake = FakeStad({UPDATE: lambda p: [ok({"torrents": [{"name": "a.txt", "size": 1,
                                                              "info_hash": HASH, "seeders": 1,
                                                              "leechers": 0, "added": 1}]})]})
        p, fd, home = self.spawn([], fake)
        out = pty_read_until(fd, b"sta> ", st.slack(10))
        self.assertIn(b"sta> ", out)
        os.write(fd, b"help\n")
        out = pty_read_until(fd, b"quit, exit", st.slack(10))
        self.assertIn(b"request FILE", out)
        self.assertIn(b"quit, exit", out)
        os.write(fd, b"update\n")
        out = pty_read_until(fd, HASH.encode(), st.slack(10))
        self.assertIn(b"a.txt", out)
        os.write(fd, b"bogus\n")
        out = pty_read_until(fd, b"unknown command", st.slack(10))
        self.assertIn(b"unknown command 'bogus'", out)
        if b"sta> " not in out.split(b"unknown command", 1)[1]:
            pty_read_until(fd, b"sta> ", st.slack(10))
        # ^C drops the half-typed line and keeps the console. Wait for the
        # prompt it brings (the one after "bogus" is consumed above): keys
        # typed before stactl has handled the SIGINT would be dropped too.
        os.write(fd, b"upda\x03")
        self.assertIn(b"sta> ", pty_read_until(fd, b"sta> ", st.slack(10)))
        self.assertIsNone(p.poll())
        os.write(fd, b"upd\t\n")  # tab completes the verb
        out = pty_read_until(fd, HASH.encode(), st.slack(10))
        self.assertIn(b"a.txt", out)
        os.write(fd, b"quit\n")
        self.assertEqual(p.wait(st.slack(10)), 0)
        os.close(fd)
        # One connection, one HELLO, for the whole session.
        self.assertEqual([t for t, _, _ in fake.received], [HELLO, UPDATE, UPDATE])
        with open(os.path.join(home, ".stactl_history"), "rb") as f:
            self.assertIn(b"update", f.read())

    def test_console_ctrl_c_stops_a_watch(self):
        fake = FakeStad({WATCH: lambda p: [ok()] + [event(1), 0.1] * 200})
        p, fd, _ = self.spawn([], fake)
        pty_read_until(fd, b"sta> ", st.slack(10))
        os.write(fd, b"watch %s\n" % HASH.encode())
        out = pty_read_until(fd, b"ETA", st.slack(10))
        self.assertIn(b"0.1%", out)
        os.write(fd, b"\x03")
        out = pty_read_until(fd, b"sta> ", st.slack(10))
        self.assertIn(b"download continues in stad", out)
        os.write(fd, b"quit\n")
        self.assertEqual(p.wait(st.slack(10)), 0)
        os.close(fd)

    def test_tty_progress_redraws_at_most_five_times_a_second(self):
        events = [ok()]
        for i in range(40):
            events += [event(i * 10), 0.025]
        events.append(event(1000, state="seeding", complete=1))
        fake = FakeStad({WATCH: lambda p: events})
        p, fd, _ = self.spawn(["watch", HASH], fake)
        out = pty_read_until(fd, b"verified", st.slack(20))
        self.assertEqual(p.wait(st.slack(10)), 0, out)
        os.close(fd)
        redraws = out.count(b"\r[")
        # 40 events over ~1 s: about 5 redraws, plus the first and the last.
        self.assertGreaterEqual(redraws, 2, out)
        self.assertLessEqual(redraws, 9, out)
        self.assertIn(b"100.0%", out)

    def assertFits(self, out, columns, what):
        """No line of out (split at CR and LF, the erase-line code left
        out) is wider than columns."""
        text = out.decode("utf-8", "replace").replace("\x1b[K", "")
        for line in re.split(r"[\r\n]", text):
            self.assertLessEqual(len(line), columns, "%s: a line of %d columns at %d:\n%r"
                                 % (what, len(line), columns, line))

    def test_progress_fits_60_columns(self):
        gib = 1 << 30
        events = [ok()]
        for i in range(1, 6):
            events += [event(i * gib // 4, size=3 * gib, down_rate=34000000, peers=12,
                             eta=100), 0.25]
        events.append(event(3 * gib, size=3 * gib, state="seeding", complete=1))
        fake = FakeStad({WATCH: lambda p: events})
        p, fd, _ = self.spawn(["watch", HASH], fake, columns=60)
        out = pty_read_until(fd, b"verified", st.slack(20))
        self.assertEqual(p.wait(st.slack(10)), 0, out)
        os.close(fd)
        self.assertIn(b"100.0%", out)
        self.assertIn(b"34.0 MB/s", out)
        # The last column stays free: a terminal wraps when it is written.
        self.assertFits(out, 59, "watch")

    def test_request_reply_fits_60_columns(self):
        fake = FakeStad({REQUEST: lambda p: [torrent_reply("holiday-photos-2024.tar", 3 << 30)]})
        p, fd, _ = self.spawn(["request", "--detach", "holiday-photos-2024.tar"], fake,
                              columns=60)
        out = pty_read_until(fd, b"in the background", st.slack(10))
        self.assertEqual(p.wait(st.slack(10)), 0, out)
        os.close(fd)
        self.assertFits(out, 60, "request")
        self.assertIn(b"requested holiday-photos-2024.tar (3.0 GiB, checking)\r\n  info-hash "
                      + HASH.encode(), out)

    def test_status_fits_60_columns(self):
        tors = [{"info_hash": HASH, "name": "a-long-name-for-a-movie-file-2024.mkv",
                 "state": "downloading", "size": 3 << 30, "done": 1 << 30,
                 "down_rate": 34000000, "up_rate": 120000, "peers": 12, "seeds": 3,
                 "ratio_milli": 250, "path": "/var/lib/sta/downloads/movie.mkv",
                 "peer_list": [{"addr": "[2001:db8::1234]:51413", "client": "Transmission 3.00",
                                "down": 1 << 30, "up": 4096, "blocks": 65536,
                                "hash_fails": 0, "flags": "dciIS"}]}]
        fake = FakeStad({STATUS: lambda p: [ok({"torrents": tors})]})
        p, fd, _ = self.spawn(["status", "--peers"], fake, columns=60)
        out = pty_read_until(fd, b"dciIS", st.slack(10))
        self.assertEqual(p.wait(st.slack(10)), 0, out)
        os.close(fd)
        self.assertFits(out, 60, "status --peers")
        self.assertIn(HASH[:8].encode(), out)
        self.assertIn(b"/var/lib/sta/downloads/movie.mkv", out)

    def test_help_fits_60_columns(self):
        fake = FakeStad()
        p, fd, _ = self.spawn(["--help"], fake, columns=60)
        out = pty_read_until(fd, b"on in stad", st.slack(10))
        self.assertEqual(p.wait(st.slack(10)), 0, out)
        os.close(fd)
        self.assertFits(out, 60, "--help")
        # Every word of a wrapped entry is still there, once.
        text = b" ".join(out.split())
        for words in (b"list the tracker's catalog, a page at a time",
                      b"(progress events too), and errors as",
                      b"interrupted (Ctrl-C while watching; the download goes on in stad)"):
            self.assertEqual(text.count(words), 1, words)


if __name__ == "__main__":
    st.main()
