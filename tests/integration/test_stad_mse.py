"""Message stream encryption (MSE/PE) between real stad daemons and Python
peers on loopback.

- two stads with encryption = "require" trade a file, RC4 on the wire
  (STATUS flag X), checksums equal;
- stad with "require" downloads from a Python peer that takes MSE only
  (statest.mse: a second implementation of the spec);
- stad with "prefer" (the default) falls back to plaintext with a peer
  that speaks plaintext only; stad with "require" never does, either way;
- hostile handshakes (garbage, truncated, padding past 512 bytes, a PadC
  length over 512, an unknown SKEY) get the connection dropped and leave
  stad serving, checked by an honest MSE handshake afterwards; a hostile
  responder gets stad's outgoing connection dropped.
"""

import os
import socket
import struct
import threading
import time

import statest as st
from statest import mse
from statest.btpeer import BtPeer, PSTR, dial, handshake

SIZE = 8 * 1024 * 1024 + 4321
SMALL = 256 * 1024 + 99          # Python's RC4 runs at about 1 MB/s
PY_PEER, HOSTILE, CLIENT = "127.0.0.21", "127.0.0.22", "127.0.0.23"


def connect(addr, source=CLIENT, timeout=5):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(addr)
    return s


def closed_by_peer(s, limit=1 << 16):
    """Reads until the peer closes; True if it did within the socket's
    timeout (and limit bytes), False if it kept the connection open."""
    got = 0
    try:
        while got < limit:
            b = s.recv(4096)
            if not b:
                return True
            got += len(b)
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
    return False


class Mse(st.TestCase):
    def setUp(self):
        self.tracker = st.Trackerd()
        self.announce = self.tracker.url("/announce")

    def small_torrent(self, name="small.bin"):
        d = st.tempdir("mse-src-")
        data = st.make_file(os.path.join(d, name), SMALL, seed=5)
        tor = st.make_torrent(data, announce=self.announce, piece_length=1 << 15)
        return data, tor, tor.write(os.path.join(d, name + ".torrent"))

    def test_two_stads_require(self):
        seed = st.Stad(self.announce, name="seed", share={"big.bin": SIZE}, seed=9,
                       encryption="require")
        seed.wait_seeding("big.bin")
        st.wait_until(lambda: b"big.bin" in self.tracker.get("/catalog?format=json").body,
                      st.slack(20), "big.bin in the catalog")
        down = st.Stad(self.announce, name="down", encryption="require")
        rec = st.PeerRecorder(down, "big.bin")
        r = down.ctl("request", "big.bin", timeout=st.slack(60))
        peers = rec.stop()
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(st.sha1_file(os.path.join(down.download_dir, "big.bin")),
                         st.sha1_file(os.path.join(seed.share_dir, "big.bin")))
        self.assertTrue(peers, "STATUS never listed the seed")
        for addr, m in peers.items():
            self.assertIn("X", m["flags"], "%s was not encrypted: %r" % (addr, m))
        self.assertIn("encryption handshake done, RC4", down.log())
        self.assertIn("encryption handshake done, RC4", seed.log())

    def test_require_downloads_from_python_mse_peer(self):
        data, tor, tfile = self.small_torrent()
        peer = BtPeer(tor, PY_PEER, data_path=data, name="py-mse", mse="require")
        peer.announce(self.tracker)
        down = st.Stad(self.announce, name="down", encryption="require")
        r = down.ctl("request", tfile, timeout=st.slack(30))
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(st.sha1_file(os.path.join(down.download_dir, "small.bin")),
                         st.sha1_file(data))
        self.assertGreaterEqual(peer.encrypted, 1)
        self.assertEqual(peer.plain_refused, 0)

    def test_prefer_falls_back_to_plaintext(self):
        data, tor, tfile = self.small_torrent()
        peer = BtPeer(tor, PY_PEER, data_path=data, name="plain")
        peer.announce(self.tracker)
        down = st.Stad(self.announce, name="down")  # encryption = "prefer", the default
        r = down.ctl("request", tfile, timeout=st.slack(30))
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(st.sha1_file(os.path.join(down.download_dir, "small.bin")),
                         st.sha1_file(data))
        # The first connection carried MSE, which the plaintext peer hung
        # up on; the second one was plaintext.
        self.assertGreaterEqual(peer.accepted, 2)
        self.assertGreaterEqual(peer.handshakes, 1)
        self.assertIn("dialling again in plaintext", down.log())

    def test_require_never_speaks_plaintext(self):
        data, tor, tfile = self.small_torrent()
        peer = BtPeer(tor, PY_PEER, data_path=data, name="plain")
        peer.announce(self.tracker)
        down = st.Stad(self.announce, name="down", encryption="require")
        r = down.ctl("request", "--detach", tfile)
        self.assertEqual(r.rc, 0, r)
        st.wait_until(lambda: peer.accepted >= 1, st.slack(10), "stad to dial the peer")
        time.sleep(1)
        self.assertEqual(peer.handshakes, 0, "stad sent a plaintext handshake")
        self.assertEqual(peer.accepted, 1, "stad dialled again (in plaintext?)")
        self.assertEqual(down.torrent("small.bin")["done"], 0)
        # Incoming: a plaintext handshake is refused without an answer,
        # while an MSE one is answered.
        self.assertIsNone(dial(down.listen, down.port, tor.info_hash, CLIENT))
        s = connect(down.addr)
        stream = mse.initiate(s, tor.info_hash, handshake(tor.info_hash, b"-PY0001-mse-test-01"))
        self.assertEqual(stream.recv_exact(20), PSTR)
        s.close()

    def test_hostile_handshakes(self):
        seed = st.Stad(self.announce, name="seed", share={"big.bin": SIZE}, seed=9)
        ih = bytes.fromhex(seed.wait_seeding("big.bin")["info_hash"])
        other = bytes(20)

        def garbage():
            s = connect(seed.addr)
            s.sendall(b"\x00" + os.urandom(699))     # not "\x13BitTorrent protocol"
            return s

        def truncated():
            s = connect(seed.addr)
            s.sendall(mse.pubkey(os.urandom(20))[:50])
            s.shutdown(socket.SHUT_WR)
            return s

        def long_pad_a():
            s = connect(seed.addr)
            s.sendall(mse.pubkey(os.urandom(20)) + b"\x01" * 600)
            return s

        def step3_with(skey, pad_c_len):
            s = connect(seed.addr)
            priv = os.urandom(20)
            s.sendall(mse.pubkey(priv))
            secret = mse.secret(priv, mse._recv_exact(s, mse.KEY_LEN))
            enc, _ = mse.keys(secret, skey, True)
            x = bytes(a ^ b for a, b in zip(mse.sha1(b"req2", skey), mse.sha1(b"req3", secret)))
            body = mse.VC + struct.pack(">IH", mse.CRYPTO_RC4, pad_c_len) + bytes(pad_c_len)
            s.sendall(mse.sha1(b"req1", secret) + x + enc.crypt(body))
            return s

        cases = {
            "garbage": garbage,
            "truncated": truncated,
            "PadA over 512 bytes": long_pad_a,
            "PadC length over 512": lambda: step3_with(ih, 600),
            "an unknown SKEY": lambda: step3_with(other, 0),
        }
        for what, make in cases.items():
            s = make()
            self.assertTrue(closed_by_peer(s), "stad kept a connection with %s" % what)
            s.close()
        # Still serving, and the same Python code handshakes honestly.
        s = connect(seed.addr)
        stream = mse.initiate(s, ih, handshake(ih, b"-PY0001-mse-test-02"))
        hs = stream.recv_exact(68)
        self.assertEqual(hs[:20], PSTR)
        self.assertEqual(hs[28:48], ih)
        s.close()
        self.assertTrue(seed.answers())
        self.assertNotIn("ERROR: AddressSanitizer", seed.log())

    def test_hostile_responder(self):
        """A 'peer' that answers stad's Ya with a key and then padding
        that never ends: stad drops it after 512 bytes of padding."""
        data, tor, tfile = self.small_torrent()
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.bind((HOSTILE, 0))
        ls.listen(4)
        ls.settimeout(st.slack(10))
        results = []

        def serve():
            try:
                c, _ = ls.accept()
                c.settimeout(5)
                mse._recv_exact(c, mse.KEY_LEN)
                c.sendall(mse.pubkey(os.urandom(20)) + b"\x02" * 4096)
                results.append(closed_by_peer(c))
                c.close()
            except OSError as e:
                results.append(e)
        t = threading.Thread(target=serve, daemon=True)
        t.start()
        self.tracker.announce(tor.info_hash, b"-PY0001-hostile-0001", ls.getsockname()[1],
                              left=0, event="started", source=HOSTILE)
        down = st.Stad(self.announce, name="down", encryption="require")
        self.assertEqual(down.ctl("request", "--detach", tfile).rc, 0)
        t.join(st.slack(15))
        ls.close()
        self.assertEqual(results, [True], "stad kept the connection to the hostile responder")
        self.assertTrue(down.answers())


if __name__ == "__main__":
    st.main()
