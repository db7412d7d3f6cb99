"""Ingest throughput: MQTT -> collector -> InfluxDB, against the raw rates of its parts.

    uv run python bench/ingest.py [--messages 20000] [--batch-messages 4000]
        [--workers 1,2] [--compare-with DIR]

In one run, on private Mosquitto and InfluxDB servers (tests/servers.py):

1. raw broker: `mosquitto_pub -l` -> `mosquitto_sub` at QoS 1, messages/s;
2. raw InfluxDB: pre-rendered line protocol, 5000 lines per gzip request, lines/s;
3. the collector (`vmi cloud run [--workers N]` as its own processes) at 1
   reading per message and at 50 per message: readings/s from the first
   publish until every reading is counted in InfluxDB (messages published by
   mosquitto_pub, so the publisher is not what is measured), once per
   `--workers` count;
4. with `--compare-with DIR` (a checkout of another revision, e.g. made by
   `git worktree add /tmp/before <rev>`), that revision's collector on the
   same servers in the same run: before and after, side by side.

Broker, InfluxDB, publisher and collector share this machine's cores: the
load average is printed with the figures. Prints each figure and the ratios
the issue asks for.
"""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cloud.timeseries.line_protocol import quote_string  # noqa: E402
from tests.servers import InfluxServer, MosquittoServer  # noqa: E402
from vmi.wire import Reading, ReadingsBatch, encode  # noqa: E402

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def messages(site: str, count: int, per_message: int) -> list[bytes]:
    out = []
    for m in range(count):
        first = m * per_message
        batch = ReadingsBatch(
            site=site,
            device="d1",
            seq=m + 1,
            sent_at=datetime.now(UTC),
            readings=[
                Reading(
                    time=T0 + timedelta(milliseconds=i),
                    location=f"L{i % 50}",
                    sku=f"SKU{i % 20}",
                    quantity=float(i % 1000),
                    raw_weight_g=1234.5,
                )
                for i in range(first, first + per_message)
            ],
        )
        out.append(encode(batch))
    return out


def raw_broker(broker: MosquittoServer, payloads: list[bytes]) -> float:
    topic = "bench/raw"
    sub = subprocess.Popen(
        [
            "mosquitto_sub",
            "-h",
            "127.0.0.1",
            "-p",
            str(broker.port),
            "-t",
            topic,
            "-q",
            "1",
            "-C",
            str(len(payloads)),
        ],
        stdout=subprocess.DEVNULL,
    )
    time.sleep(0.5)  # subscribed
    start = time.perf_counter()
    subprocess.run(
        ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-t", topic, "-q", "1", "-l"],
        input=b"\n".join(payloads) + b"\n",
        check=True,
    )
    sub.wait(300)
    return len(payloads) / (time.perf_counter() - start)


def influx_count(influx: InfluxServer, db: str, site: str) -> int:
    r = httpx.get(
        f"{influx.url}/query",
        params={
            "db": db,
            # InfluxQL, not SQL; the value is quoted by quote_string.
            "q": 'SELECT count("quantity") FROM stock_level WHERE site = ' + quote_string(site),  # noqa: S608
        },
        timeout=30,
    )
    series = r.json()["results"][0].get("series")
    return int(series[0]["values"][0][1]) if series else 0


def raw_influx(influx: InfluxServer, db: str, lines: int) -> float:
    httpx.post(f"{influx.url}/query", params={"q": f'CREATE DATABASE "{db}"'}, timeout=30)
    body = [
        f"stock_level,device=d1,location=L{i % 50},site=raw,sku=SKU{i % 20},source=scale "
        f"quantity={float(i % 1000)},raw_weight_g=1234.5,stable=true,seq={i}i "
        f"{int(T0.timestamp() * 1000) + i}"
        for i in range(lines)
    ]
    chunks = [gzip.compress("\n".join(body[i : i + 5000]).encode()) for i in range(0, lines, 5000)]
    with httpx.Client(base_url=influx.url, timeout=60) as client:
        start = time.perf_counter()
        for chunk in chunks:
            r = client.post(
                "/write",
                params={"db": db, "precision": "ms"},
                content=chunk,
                headers={"Content-Encoding": "gzip"},
            )
            r.raise_for_status()
        return lines / (time.perf_counter() - start)


def process_cpu_s(pid: int | None) -> float:
    """CPU seconds (user + system) of one process so far (Linux /proc)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def session_cpu_s(session: int) -> float:
    """CPU seconds (user + system) of every live process in a session (Linux /proc).

    Throughput on a shared machine swings with the load; CPU time per
    reading barely does, so it compares revisions fairly.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[3]) == session:  # field 6 of stat: the session id
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


class Result(NamedTuple):
    rate: float  # readings/s, first publish to all counted in InfluxDB
    cpu_us: float  # collector CPU microseconds per reading
    influx_cpu_us: float  # InfluxDB's CPU microseconds per reading meanwhile


def pipeline(
    broker: MosquittoServer,
    influx: InfluxServer,
    tmp: Path,
    site: str,
    payloads: list[bytes],
    per_message: int,
    *,
    workers: int = 1,
    tree: Path = ROOT,
) -> Result:
    """Readings/s of the collector in `tree` with `workers` processes."""
    db = f"bench_{site}"
    config = tmp / f"{site}.toml"
    config.write_text(
        "health_interval_s = 0\n"
        f'[mqtt]\nurl = "{broker.url}"\nclient_id = "bench-{site}"\n'
        f'[store]\nurl = "{influx.url}/{db}"\n'
        f'[orders]\nurl = "sqlite:///{tmp / (site + ".db")}"\n'
    )
    log = tmp / f"{site}.log"
    command = [sys.executable, "-m", "vmi.cli", "--log-level", "info"]
    command += ["cloud", "run", "--config", str(config)]
    if workers > 1:
        command += ["--workers", str(workers)]
    collector = subprocess.Popen(
        command,
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        stdout=subprocess.DEVNULL,
        stderr=open(log, "wb"),  # noqa: SIM115
        start_new_session=True,
    )
    try:
        # A new session exists only once subscribed: messages before are lost.
        deadline = time.monotonic() + 60
        while log.read_text().count("subscribed to") < workers:
            if collector.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the collector did not subscribe: see {log}")
            time.sleep(0.1)
        total = len(payloads) * per_message
        cpu_before = session_cpu_s(collector.pid)
        influx_before = process_cpu_s(influx.pid)
        start = time.perf_counter()
        subprocess.run(
            [
                "mosquitto_pub",
                "-h",
                "127.0.0.1",
                "-p",
                str(broker.port),
                "-t",
                f"vmi/v1/{site}/d1/readings",
                "-q",
                "1",
                "-l",
            ],
            input=b"\n".join(payloads) + b"\n",
            check=True,
        )
        deadline = start + 600
        while influx_count(influx, db, site) < total and time.perf_counter() < deadline:
            if collector.poll() is not None:
                raise SystemExit(f"the collector exited: see {log}")
            time.sleep(0.25)
        elapsed = time.perf_counter() - start
        cpu = session_cpu_s(collector.pid) - cpu_before
        influx_cpu = process_cpu_s(influx.pid) - influx_before
        got = influx_count(influx, db, site)
        if got < total:
            print(f"  only {got} of {total} readings arrived within 600 s")
        n = max(got, 1)
        return Result(got / elapsed, 1e6 * cpu / n, 1e6 * influx_cpu / n)
    finally:
        collector.terminate()
        collector.wait(60)


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f}/{five:.2f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--messages", type=int, default=20_000, help="messages at 1 reading each")
    p.add_argument("--batch-messages", type=int, default=4_000, help="messages at 50 readings")
    p.add_argument("--inflight", type=int, default=1000, help="broker max_inflight_messages")
    p.add_argument(
        "--workers", default="1,2", help="collector process counts to measure (default 1,2)"
    )
    p.add_argument(
        "--compare-with",
        type=Path,
        default=None,
        metavar="DIR",
        help="also measure the collector of this checkout (one process), in the same run",
    )
    args = p.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores shared by broker, InfluxDB, "
        f"publisher and collector; broker max_inflight_messages {args.inflight}; {load()}"
    )
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        # Tuned as a collector's broker should be: no silent drops from a
        # persistent session's queue, and a wide in-flight window.
        tuning = f"max_queued_messages 0\nmax_inflight_messages {args.inflight}\n"
        with (
            MosquittoServer(tmp / "mosquitto", extra_config=tuning) as broker,
            InfluxServer(tmp / "influx") as influx,
        ):
            broker_rate = raw_broker(broker, messages("raw", args.messages, 1))
            print(
                f"raw broker (mosquitto_pub -l -> mosquitto_sub, QoS 1): {broker_rate:,.0f} msg/s"
            )
            lines = args.batch_messages * 50
            influx_before = process_cpu_s(influx.pid)
            influx_rate = raw_influx(influx, "raw", lines)
            influx_us = 1e6 * (process_cpu_s(influx.pid) - influx_before) / lines
            print(
                f"raw InfluxDB (5000-line gzip batches): {influx_rate:,.0f} lines/s; "
                f"InfluxDB CPU {influx_us:.1f} us/line"
            )
            runs: list[tuple[str, Path, int]] = [("this tree", ROOT, n) for n in counts]
            if args.compare_with is not None:
                runs.insert(0, (f"{args.compare_with}", args.compare_with.resolve(), 1))
            for i, (name, tree, workers) in enumerate(runs):
                who = f"{name}, {workers} worker{'s' if workers > 1 else ''}"
                single = messages(f"single{i}", args.messages, 1)
                fifty = messages(f"fifty{i}", args.batch_messages, 50)
                one = pipeline(
                    broker, influx, tmp, f"single{i}", single, 1, workers=workers, tree=tree
                )
                print(
                    f"collector ({who}), 1 reading/message: {one.rate:,.0f} readings/s "
                    f"= {one.rate / broker_rate:.0%} of the raw broker rate (aim: 60%); "
                    f"CPU us/reading: collector {one.cpu_us:.1f}, InfluxDB "
                    f"{one.influx_cpu_us:.1f}; {load()}"
                )
                many = pipeline(
                    broker, influx, tmp, f"fifty{i}", fifty, 50, workers=workers, tree=tree
                )
                print(
                    f"collector ({who}), 50 readings/message: {many.rate:,.0f} readings/s "
                    f"= {many.rate / influx_rate:.0%} of the raw InfluxDB rate "
                    f"(aim: 200,000/s); CPU us/reading: collector {many.cpu_us:.1f}, InfluxDB "
                    f"{many.influx_cpu_us:.1f}; {load()}"
                )


if __name__ == "__main__":
    main()
