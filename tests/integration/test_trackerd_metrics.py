"""trackerd's GET /metrics: Prometheus text that promtool's strict checker
accepts, figures that match what was sent, and the separate metrics_listen
address."""

import hashlib
import re
import socket

import statest as st

TOKEN = "metrics-token"


def samples(text):
    """{'name{labels}': value} of every sample line."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


class Metrics(st.TestCase):
    def test_promtool_accepts_and_figures_match(self):
        promtool = st.tool("promtool")
        t = st.Trackerd(publish_token=TOKEN, threads=2)
        try:
            ih = hashlib.sha1(b"metrics").digest()
            # The readiness probe connected over UDP already.
            before = samples(t.get("/metrics").body.decode())
            for i in range(3):
                t.announce(ih, st.peer_id(i), 7000 + i, left=0 if i == 0 else 10,
                           source="127.0.0.%d" % (90 + i))
            with t.udp_client() as u:
                u.connect()
                u.announce(ih, st.peer_id(7), 7007, left=10)
            t.get("/catalog?q=anything")
            t.get("/nope")
            r = t.get("/metrics")
            self.assertEqual(r.status, 200, r)
            self.assertIn("text/plain; version=0.0.4", r.headers.get("content-type", ""))
            text = r.body.decode()
            check = st.run([promtool, "check", "metrics"], input=r.body, check=False)
            self.assertEqual(check.returncode, 0, check.out + check.err)
            self.assertEqual(check.out + check.err, "", "promtool complained")
            m = samples(text)
            self.assertEqual(m['sta_tracker_announces_total{protocol="http",family="ipv4"}'], 3)
            self.assertEqual(m['sta_tracker_announces_total{protocol="udp",family="ipv4"}'], 1)
            self.assertEqual(m['sta_tracker_announces_total{protocol="http",family="ipv6"}'], 0)
            connects = 'sta_tracker_udp_connects_total{protocol="udp",family="ipv4"}'
            self.assertEqual(m[connects] - before[connects], 1)
            self.assertEqual(m['sta_tracker_errors_total{protocol="http",family="ipv4"}'], 1)
            self.assertEqual(m["sta_tracker_torrents"], 1)
            self.assertEqual((m["sta_tracker_seeders"], m["sta_tracker_leechers"]), (1, 3))
            self.assertEqual(m["sta_tracker_catalog_searches_total"], 1)
            self.assertEqual(m['sta_tracker_request_duration_seconds_count'
                               '{protocol="http",request="announce"}'], 3)
            self.assertEqual(m['sta_tracker_request_duration_seconds_bucket'
                               '{protocol="udp",request="announce",le="+Inf"}'], 1)
            self.assertGreater(m['sta_tracker_received_bytes_total{protocol="http"}'], 300)
            self.assertGreater(m['sta_tracker_sent_bytes_total{protocol="udp"}'], 30)
            # Every metric has a HELP and a TYPE, and counters end in _total.
            for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M):
                self.assertTrue(name.startswith("sta_tracker_"), name)
                self.assertEqual(kind == "counter", name.endswith("_total"), name)
                self.assertIn("# HELP %s " % name, text)
        finally:
            t.stop()

    def test_metrics_listen_apart(self):
        port = st.free_port()
        t = st.Trackerd(metrics_listen="127.0.0.1:%d" % port)
        try:
            self.assertEqual(t.get("/metrics").status, 404)
            r = st.http_get("127.0.0.1", port, "/metrics")
            self.assertEqual(r.status, 200, r)
            self.assertIn(b"sta_tracker_announces_total", r.body)
            self.assertEqual(st.http_get("127.0.0.1", port, "/catalog").status, 404)
        finally:
            t.stop()
        r = st.run([t.binary, "--check-config", "--config", t.config], check=False)
        self.assertEqual(r.returncode, 0, r.err)
        t.write_config(metrics_listen="nowhere")
        r = st.run([t.binary, "--check-config", "--config", t.config], check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("metrics_listen", r.err)


if __name__ == "__main__":
    st.main()
