"""Crash durability (reliability catalog F01-F04): concurrent writes, kill -9 of the server at a random moment, restart
on the same database: every acknowledged write is there, every acknowledged delete is gone, nothing is half-written,
keys are unchanged and tokens issued before still verify, and every token answered 200 is in the store (listed, readable,
accepted by the gateway's store check). CI runs a short tier; `scripts/crash-test` runs the long one
(DURABILITY_CYCLES=50)."""
import os
import random
import signal
import sqlite3
import subprocess
import threading
import time

import jwt as pyjwt
import requests

import support

CYCLES = int(os.environ.get("DURABILITY_CYCLES", "3"))
H = {"X-Auth-Token": support.DEFAULT_SECRET_KEY}
C1 = "/containers/v1/regions/fr-par"
CB = "/containers/v1beta1/regions/fr-par"


def start(db):
    # Floods of creates across cycles (a load test): Scaleway's quotas are lifted with --quota-multiplier 0.
    proc = subprocess.Popen([str(support.binary_path()), "serve", "--port", "0", "--database", str(db), "--runtime", "off",
                             "--key-size", "2048", "--key-pool", "4",
                             "--quota-multiplier", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = support.parse_export_line(proc.stdout.readline().rstrip("\n"))["SCW_API_URL"]
    return proc, url


def test_acknowledged_writes_survive_kill_9(tmp_path):
    db = tmp_path / "state.sqlite"
    rng = random.Random(int(os.environ.get("DURABILITY_SEED", "1234")))
    created, deleted = {}, set()  # acknowledged namespace ids -> name; acknowledged deletes
    attempted = set()  # deletes sent but not acknowledged (the crash may have come before or after their commit)
    keys, tokens = {}, {}  # namespace id -> public key PEM; token -> namespace id
    issued = {}  # token id -> namespace id, for every token creation answered 200
    lock = threading.Lock()
    for cycle in range(CYCLES):
        proc, url = start(db)
        # Everything acknowledged before is still there, exactly.
        listed = {}
        page = 1
        while True:
            body = requests.get(f"{url}{C1}/namespaces", params={"page": page, "page_size": 100}, headers=H, timeout=30).json()
            listed.update({n["id"]: n["name"] for n in body["namespaces"]})
            if len(body["namespaces"]) < 100:
                break
            page += 1
        for ns_id, name in created.items():
            if ns_id in deleted:
                assert ns_id not in listed, f"cycle {cycle}: acknowledged delete of {ns_id} was lost"
            elif ns_id in attempted:
                continue
            else:
                assert listed.get(ns_id) == name, f"cycle {cycle}: acknowledged create of {ns_id} was lost"
        for ns_id in attempted - deleted:
            if ns_id not in listed:
                deleted.add(ns_id)  # that delete had committed
        attempted.clear()
        for ns_id, pem in keys.items():
            if ns_id not in deleted:
                assert requests.get(f"{url}/_mock/namespaces/{ns_id}/public-key", timeout=30).text == pem
        for token, ns_id in tokens.items():
            if ns_id not in deleted:
                pyjwt.decode(token, keys[ns_id], algorithms=["RS256"], audience="functions", issuer="SCALEWAY")
        for token_id, ns_id in issued.items():
            if ns_id not in deleted:
                r = requests.get(f"{url}{CB}/tokens/{token_id}", headers=H, timeout=30)
                assert r.status_code == 200, f"cycle {cycle}: acknowledged token {token_id} was lost ({r.status_code})"

        stop = threading.Event()

        def writer(worker):
            i = 0
            while not stop.is_set():
                i += 1
                name = f"d{cycle}w{worker}n{i}"
                try:
                    r = requests.post(f"{url}{C1}/namespaces", json={"name": name}, headers=H, timeout=5)
                except requests.RequestException:
                    return
                if r.status_code == 200:
                    with lock:
                        created[r.json()["id"]] = name
                    if i % 3 == 0:
                        with lock:
                            attempted.add(r.json()["id"])
                        try:
                            d = requests.delete(f"{url}{C1}/namespaces/{r.json()['id']}", headers=H, timeout=5)
                        except requests.RequestException:
                            return
                        if d.status_code == 200:
                            with lock:
                                deleted.add(r.json()["id"])

        # One namespace with a key and a token to check after the crash (before the flood takes the key pool).
        ns = requests.post(f"{url}{CB}/namespaces", json={"name": f"keyed{cycle}"}, headers=H, timeout=30).json()
        created[ns["id"]] = ns["name"]
        tok = requests.post(f"{url}{CB}/tokens", json={"namespace_id": ns["id"]}, headers=H, timeout=60).json()
        keys[ns["id"]] = tok["public_key"]
        tokens[tok["token"]] = ns["id"]
        issued[tok["id"]] = ns["id"]

        def token_writer():
            # Token creations race the kill too: each one answered 200 must be found after the restart.
            while not stop.is_set():
                try:
                    r = requests.post(f"{url}{CB}/tokens", json={"namespace_id": ns["id"]}, headers=H, timeout=5)
                except requests.RequestException:
                    return
                if r.status_code == 200:
                    with lock:
                        issued[r.json()["id"]] = ns["id"]

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)] + [threading.Thread(target=token_writer)]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.2, 1.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        stop.set()
        for t in threads:
            t.join()
        # The file is intact after every crash.
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert len(created) > CYCLES * 4
    assert len(issued) >= CYCLES


def test_disk_full_refuses_writes_cleanly_keeps_reads_and_recovers(tmp_path):
    """Catalog F06: SQLite's `max_page_count` (set through `PUT /_mock/storage`) makes the store unable to grow, as a
    full disk would. Writes answer 507 with a JSON message and change nothing; reads keep working; once space returns
    writes resume; nothing acknowledged is lost, across a restart too."""
    db = tmp_path / "state.sqlite"
    proc, url = start(db)
    s = requests.Session()
    s.headers.update(H)
    try:
        first = s.post(f"{url}{C1}/namespaces", json={"name": "before-full"}, timeout=30)
        assert first.status_code == 200
        acked = {first.json()["id"]}
        state = requests.put(f"{url}/_mock/storage", json={"full": True}, timeout=30).json()
        assert state["full"] is True and state["max_page_count"] <= state["page_count"]
        refused = 0
        big = {"BLOB": "x" * 1000}
        for i in range(300):
            r = s.post(f"{url}{C1}/namespaces", json={"name": f"fill-{i}", "environment_variables": big}, timeout=30)
            assert r.status_code in (200, 507), (r.status_code, r.text)
            if r.status_code == 507:
                refused += 1
                assert r.headers["content-type"].startswith("application/json") and "full" in r.json()["message"]
                if refused >= 3:
                    break
            else:
                acked.add(r.json()["id"])
        assert refused >= 3, "the store never reported itself full"
        # A refused write changed nothing, and reads still work.
        listed = s.get(f"{url}{C1}/namespaces", params={"page_size": 100}, timeout=30)
        assert listed.status_code == 200
        ids = {n["id"] for n in listed.json()["namespaces"]}
        assert ids == acked
        # Tokens (stored) are refused the same way; updates too.
        assert s.patch(f"{url}{C1}/namespaces/{first.json()['id']}", json={"environment_variables": big}, timeout=30).status_code in (200, 507)
        # Space returns: writes resume.
        assert requests.put(f"{url}/_mock/storage", json={"full": False}, timeout=30).json()["full"] is False
        after = s.post(f"{url}{C1}/namespaces", json={"name": "after-full"}, timeout=30)
        assert after.status_code == 200, after.text
        acked.add(after.json()["id"])
        assert requests.put(f"{url}/_mock/storage", json={"max_page_count": 0}, timeout=30).status_code == 400
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    proc, url = start(db)
    try:
        listed = requests.get(f"{url}{C1}/namespaces", params={"page_size": 100}, headers=H, timeout=30).json()
        assert {n["id"] for n in listed["namespaces"]} == acked
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
