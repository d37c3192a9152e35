"""A libtorrent peer for the interop tests, run by /usr/bin/python3 (the only
interpreter that has python3-libtorrent).

    lt_peer.py seed|leech TORRENT SAVE_DIR ADDR PORT [--timeout S] [--stay]
                                                   [--go FILE] [--dht ADDR:PORT]...
                                                   [--peer HOST:PORT]... [--no-pex]
                                                   [--upload-limit B] [--download-limit B]
                                                   [--peers-report] [--rc4-forced] [--lsd]
    lt_peer.py node - SAVE_DIR ADDR PORT --dht ADDR:PORT... [--timeout S]

Listens and connects from ADDR only (one address per local peer, since
libtorrent allows one connection per IP), with DHT, LSD, UPnP, NAT-PMP and
uTP off so the tracker is the only way peers find each other. A leecher exits
0 when the download is complete; a seeder prints "SEEDING" once it has checked
its data and runs until killed. Both exit 2 on timeout or error.

--dht turns the DHT on (UDP on PORT) for a private DHT: it joins through the
nodes given (none: it waits to be found), announces every 5 s and keeps
nodes of one /24 (dht_restrict_routing_ips off), and prints "DHT nodes=N"
lines. Mode node runs a DHT node without a torrent until killed.

TORRENT may be a magnet link (a leecher then fetches the metadata first,
BEP 9). --peer dials that peer once the torrent is added (the only way a
peer is found when the tracker is not used); the limits are bytes per
second for this torrent; --no-pex leaves out peer exchange (BEP 11);
--peers-report prints, with each status line, a line "PEERS [json]" of
every peer seen so far: address, how libtorrent learnt of it ("tracker",
"pex", "incoming", ...) and the most payload bytes counted each way.

For swarms (tests/bench/swarm_bench): --stay keeps a leecher seeding after
COMPLETE until it is killed; --go waits, session up and "READY" printed,
until FILE exists before adding the torrent, so that many peers can be
started at once without their interpreters' start-up in the timing. A
SIGTERM or SIGINT prints a last status line (the upload counter with it)
and exits 0.
"""

import argparse
import json
import os
import signal
import sys
import time

import libtorrent as lt


def session(addr, port, dht=None, pex=True, rc4_forced=False, lsd=False):
    """dht: None (off) or the nodes to join through (may be empty).
    rc4_forced: MSE/PE forced both ways (in_enc_policy = out_enc_policy =
    0) with RC4 as the only allowed level, so every connection is RC4.
    lsd: local service discovery (BEP 14) on."""
    settings = {
        "listen_interfaces": "%s:%d" % (addr, port),
        "outgoing_interfaces": addr,
        "enable_dht": dht is not None,
        "dht_bootstrap_nodes": "",
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "dht_announce_interval": 5,
        "enable_lsd": lsd,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "allow_multiple_connections_per_ip": True,
        "announce_to_all_trackers": True,
        "max_allowed_in_request_queue": 20000,
        "alert_mask": lt.alert.category_t.error_notification
        | lt.alert.category_t.tracker_notification
        | lt.alert.category_t.status_notification
        | lt.alert.category_t.dht_notification,
    }
    if rc4_forced:
        settings.update({"in_enc_policy": 0, "out_enc_policy": 0, "allowed_enc_level": 2,
                         "prefer_rc4": True})
    if pex:
        s = lt.session(settings)
    else:
        # The default plugins less ut_pex: it neither tells nor learns peers.
        s = lt.session(settings, 0)
        for ext in ("ut_metadata", "smart_ban"):
            s.add_extension(ext)
    for node in dht or ():
        host, _, p = node.rpartition(":")
        s.add_dht_node((host, int(p)))
    return s


def dht_nodes(s):
    """Nodes in the DHT routing table (session_status is the one place the
    2.0 bindings give it without a round of alerts)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return s.status().dht_nodes


def print_status(st):
    print("state=%s progress=%.3f peers=%d down=%d up=%d waste=%d" %
          (st.state, st.progress, st.num_peers, st.total_payload_download,
           st.total_payload_upload, st.total_redundant_bytes), flush=True)


SOURCES = (("tracker", 1), ("dht", 2), ("pex", 4), ("lsd", 8), ("resume", 16),
           ("incoming", 32))


def note_peers(h, seen):
    """Every peer seen so far, with the most payload counted each way:
    peers that leave (seeds, at the end) stay in the report."""
    for p in h.get_peer_info():
        addr = "%s:%d" % (p.ip[0], p.ip[1])
        e = seen.setdefault(addr, {"addr": addr, "down": 0, "up": 0})
        e["source"] = [n for n, bit in SOURCES if p.source & bit]
        e["client"] = p.client.decode("utf-8", "replace") \
            if isinstance(p.client, bytes) else p.client
        e["down"] = max(e["down"], p.total_download)
        e["up"] = max(e["up"], p.total_upload)


def print_peers(seen):
    print("PEERS %s" % json.dumps(list(seen.values())), flush=True)


def add_params(torrent):
    if torrent.startswith("magnet:"):
        return lt.parse_magnet_uri(torrent)
    p = lt.add_torrent_params()
    p.ti = lt.torrent_info(torrent)
    return p


def run_node(s, timeout):
    """A DHT node without torrents: reports its table until killed."""
    deadline = time.monotonic() + timeout
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    while time.monotonic() < deadline:
        print("DHT nodes=%d" % dht_nodes(s), flush=True)
        s.pop_alerts()
        time.sleep(1)
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("seed", "leech", "node"))
    ap.add_argument("torrent")
    ap.add_argument("save_dir")
    ap.add_argument("addr")
    ap.add_argument("port", type=int)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--stay", action="store_true")
    ap.add_argument("--go")
    ap.add_argument("--dht", action="append", default=[], metavar="ADDR:PORT")
    ap.add_argument("--peer", action="append", default=[], metavar="HOST:PORT")
    ap.add_argument("--upload-limit", type=int, default=0)
    ap.add_argument("--download-limit", type=int, default=0)
    ap.add_argument("--peers-report", action="store_true")
    ap.add_argument("--no-pex", action="store_true")
    ap.add_argument("--rc4-forced", action="store_true")
    ap.add_argument("--lsd", action="store_true")
    a = ap.parse_args()

    dht = a.dht if a.dht or a.mode == "node" else None
    s = session(a.addr, a.port, dht, pex=not a.no_pex, rc4_forced=a.rc4_forced, lsd=a.lsd)
    if a.mode == "node":
        return run_node(s, a.timeout)
    if a.go:
        print("READY", flush=True)
        while not os.path.exists(a.go):
            time.sleep(0.01)
    p = add_params(a.torrent)
    p.save_path = a.save_dir
    # Default flags hold paused + auto_managed: a paused torrent resets every
    # incoming connection, so clear both.
    p.flags &= ~(lt.torrent_flags.paused | lt.torrent_flags.auto_managed)
    h = s.add_torrent(p)
    if a.upload_limit:
        h.set_upload_limit(a.upload_limit)
    if a.download_limit:
        h.set_download_limit(a.download_limit)
    for peer in a.peer:
        host, _, port = peer.rpartition(":")
        h.connect_peer((host, int(port)))

    def last_words(signum, frame):
        print_status(h.status())
        sys.exit(0)
    signal.signal(signal.SIGTERM, last_words)
    signal.signal(signal.SIGINT, last_words)

    seen = {}
    deadline = time.monotonic() + a.timeout
    announced_seed = False
    last = 0
    while time.monotonic() < deadline:
        for al in s.pop_alerts():
            if isinstance(al, (lt.tracker_error_alert, lt.torrent_error_alert,
                               lt.file_error_alert, lt.listen_failed_alert)):
                print("ALERT %s: %s" % (type(al).__name__, al.message()), flush=True)
            elif isinstance(al, (lt.tracker_reply_alert, lt.tracker_warning_alert)):
                print("TRACKER %s" % al.message(), flush=True)
        st = h.status()
        if a.peers_report:
            note_peers(h, seen)
        if st.errc.value():
            print("ERROR %s" % st.errc.message(), flush=True)
            return 2
        now = time.monotonic()
        if now - last >= 1:
            print_status(st)
            if dht is not None:
                print("DHT nodes=%d" % dht_nodes(s), flush=True)
            if a.peers_report:
                print_peers(seen)
            last = now
        if a.mode == "leech" and st.is_seeding and not announced_seed:
            if a.peers_report:
                print_peers(seen)
            print("COMPLETE", flush=True)
            announced_seed = True
            if a.stay:
                continue
            # Let the "completed" announce go out before leaving.
            time.sleep(0.5)
            return 0
        if a.mode == "seed" and st.is_seeding and not announced_seed:
            print("SEEDING", flush=True)
            announced_seed = True
            # Announce as a seeder now rather than at the next interval.
            h.force_reannounce()
        s.wait_for_alert(100)  # wakes at once on an alert (the finish, say)
    print("TIMEOUT after %.0fs" % a.timeout, flush=True)
    return 2


if __name__ == "__main__":
    sys.exit(main())
