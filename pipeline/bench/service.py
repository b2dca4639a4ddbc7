"""Load test of `serve` on loopback: stored lookups at 50 and 200 concurrent clients, the batch
endpoint, computed SNVs; every answer checked against `lookup` (the store read directly).

Bounded in count and time. Starts its own server (a `pangolin-pipeline serve` subprocess on a free
port of 127.0.0.1) over an all-SNV store and, given a FASTA and an annotation, the model; prints one
table. ``python -m pipeline.bench.service --store brca1_snvs.zarr --fasta chr17.fa.gz --annotation x.gtf``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ..service.answers import genes_of
from ..service.builds import infer_build
from ..snvs.annotate import lookup_strings
from ..snvs.reader import SnvReader
from .loopback import free_port
from .snvs import VCF_HEADER


def expected_answers(store: str) -> tuple[dict[str, str], str, int, bool]:
    """Every SNV of the store (``chr-pos-ref-alt``, at most ~20,000) with its `lookup` INFO value; build,
    distance, mask. Only the blocks around the store's genes are read (an all-SNV store answers in gene
    bodies), not a whole chromosome's."""
    reader = SnvReader(store)
    snvs: list[str] = []
    margin = int(reader.settings["distance"])
    for chrom in reader.contigs:
        refs = reader.root[f"{chrom}/ref"]
        genes = reader.genes[reader.genes.chrom.astype(str) == chrom]
        blocks = sorted({b for start, end in zip(genes.start, genes.end)
                         for b in range(max(0, int(start) - margin - 1) // reader.block,
                                        min(refs.shape[0] - 1, int(end) + margin) // reader.block + 1)})
        for index in blocks:
            first = index * reader.block
            values = refs[first : first + reader.block]
            for row in values.nonzero()[0]:
                ref = chr(int(values[row]))
                snvs += [f"{chrom}-{first + row + 1}-{ref}-{alt}" for alt in "ACGT" if alt != ref]
            if len(snvs) > 20_000:
                break
    answers = {text: value for text, value, _ in lookup_strings(reader, snvs) if value is not None}
    return answers, infer_build(reader.identity.reference["contigs"]), reader.settings["distance"], \
        reader.settings["mask"]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bytes]:
    """One request on a kept-alive HTTP/1.1 connection (plain asyncio streams: httpx's own cost per request
    is larger than the server's, and would be what this measured); its status and body."""
    writer.write(request)
    head = (await reader.readuntil(b"\r\n\r\n")).lower()
    status = int(head[9:12])  # b"http/1.1 200 ok"
    start = head.index(b"\r\ncontent-length:") + 17
    return status, await reader.readexactly(int(head[start : head.index(b"\r\n", start)]))


async def stored_lookups(url: str, answers: dict[str, str], build: str, distance: int, mask: bool,
                         clients: int, requests: int, seconds: float, rate: float | None = None,
                         distinct: bool = False, server_pid: int | None = None) -> dict:
    """``clients`` clients, one connection each, sharing ``requests`` GET /pangolin/ calls (at most
    ``seconds``); each answer checked. Closed loop (each client sends as soon as answered), or with
    ``rate``, paced: each client sends every ``clients / rate`` seconds (an open load of ``rate``/s).
    ``distinct``: every query string differs (``&request=N``, which the API ignores), so that none is
    answered from the server's cache of encoded answers. CPU seconds per request of this process and
    of ``server_pid`` are reported where /proc says.

    The client shares the server's cores, so it is kept cheap: requests encoded once, a body checked
    by parsing it once per variant and afterwards by comparing its bytes with that checked body."""
    texts = list(answers)
    host, port = url.removeprefix("http://").split(":")
    query = f"/pangolin/?hg={build}&distance={distance}&mask={int(mask)}&variant="
    heads = [f"GET {query}{text}".encode() for text in texts]
    tail = b" HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n"
    encoded = [head + tail for head in heads]
    checked: dict[int, bytes] = {}  # a body checked against `lookup`, per variant
    latencies: list[float] = []
    wrong = failed = 0
    next_request = 0
    deadline = time.monotonic() + seconds

    def right(n: int, body: bytes) -> bool:
        if checked.get(n) == body:
            return True
        if _same(json.loads(body)["scores"], answers[texts[n]]):
            checked[n] = body
            return True
        return False

    async def client(k: int):
        nonlocal next_request, wrong, failed
        reader, writer = await asyncio.open_connection(host, int(port))
        period = clients / rate if rate else 0.0
        due = time.monotonic() + period * k / clients
        try:
            while next_request < requests and time.monotonic() < deadline:
                if period:
                    await asyncio.sleep(max(0.0, due - time.monotonic()))
                    due += period
                    if next_request >= requests:
                        break
                n = next_request % len(texts)
                request = heads[n] + b"&request=%d" % next_request + tail if distinct else encoded[n]
                next_request += 1
                t0 = time.perf_counter()
                try:
                    async with asyncio.timeout(30):  # a timer, not a task per request as wait_for makes
                        status, body = await _get(reader, writer, request)
                except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
                    failed += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, int(port))
                    continue
                latencies.append(time.perf_counter() - t0)
                if status != 200:
                    failed += 1
                elif not right(n, body):
                    wrong += 1
        finally:
            writer.close()

    cpu0 = _cpu_seconds(None), _cpu_seconds(server_pid)
    t0 = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(clients)))
    elapsed = time.perf_counter() - t0
    cpu = [(after - before) / max(1, len(latencies) + failed) if None not in (before, after) else None
           for before, after in zip(cpu0, (_cpu_seconds(None), _cpu_seconds(server_pid)))]
    return {"requests": len(latencies) + failed, "ok": len(latencies) - wrong, "wrong": wrong,
            "failed": failed, "p50_ms": 1e3 * _pct(latencies, 0.5), "p99_ms": 1e3 * _pct(latencies, 0.99),
            "per_s": len(latencies) / elapsed, "seconds": elapsed, "client_cpu": cpu[0], "server_cpu": cpu[1]}


def _cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of process ``pid`` (None: this one) so far; None where unknown."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (clock ticks)


def run(coroutine, loop: str):
    """``coroutine`` run on asyncio's own event loop or on uvloop's (C I/O: the client costs less of
    the CPU it shares with the server)."""
    if loop == "uvloop":
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coroutine)
    return asyncio.run(coroutine)


def _same(scores: list[dict], info: str) -> bool:
    genes = genes_of(info, {})
    return len(scores) == len(genes) and all(
        s["g_id"] == g.gene_id and s["DS_SG"] == f"{g.gain:.2f}" and s["DS_SL"] == f"{g.loss:.2f}"
        and s["DP_SG"] == g.gain_pos and s["DP_SL"] == g.loss_pos for s, g in zip(scores, genes))


async def batch(url: str, answers: dict[str, str], build: str, distance: int, mask: bool, size: int,
                rounds: int) -> dict:
    texts = (list(answers) * (size // len(answers) + 1))[:size]
    wrong = total = 0
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        t0 = time.perf_counter()
        for _ in range(rounds):
            r = await http.post("/api/v1/score", json={"variants": texts, "hg": build, "distance": distance,
                                                       "mask": mask, "source": "store"})
            r.raise_for_status()
            for text, result in zip(texts, r.json()["results"]):
                total += 1
                wrong += result.get("info") != answers[text]
        elapsed = time.perf_counter() - t0
    return {"variants": total, "wrong": wrong, "per_s": total / elapsed, "seconds": elapsed}


async def vcf_batch(url: str, answers: dict[str, str], build: str, distance: int, mask: bool, size: int,
                    rounds: int) -> dict:
    """The batch endpoint with a VCF in and the annotated VCF out: each record's Pangolin= checked."""
    texts = (list(answers) * (size // len(answers) + 1))[:size]
    records = "".join("{}\t{}\t.\t{}\t{}\t.\t.\t.\n".format(*text.split("-")) for text in texts)
    body = VCF_HEADER + records
    wrong = total = 0
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        t0 = time.perf_counter()
        for _ in range(rounds):
            r = await http.post("/api/v1/score", content=body, headers={"content-type": "text/vcf"},
                                params={"hg": build, "distance": distance, "mask": int(mask)})
            r.raise_for_status()
            lines = [line for line in r.text.splitlines() if not line.startswith("#")]
            for text, line in zip(texts, lines, strict=True):
                total += 1
                info = dict(field.partition("=")[::2] for field in line.split("\t")[7].split(";"))
                wrong += info.get("Pangolin") != answers[text]
        elapsed = time.perf_counter() - t0
    return {"variants": total, "wrong": wrong, "per_s": total / elapsed, "seconds": elapsed}


async def computed(url: str, answers: dict[str, str], build: str, distance: int, mask: bool, count: int,
                   clients: int) -> dict:
    """SNVs of the store computed by the model (source=model), checked against the store's answer;
    first one at a time (the queue empty), then ``clients`` at once."""
    texts = list(answers)[:count]
    wrong = failed = 0
    latencies = []
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        async def one(text):
            nonlocal wrong, failed
            t0 = time.perf_counter()
            r = await http.get("/api/v1/score", params={"variant": text, "hg": build, "distance": distance,
                                                        "mask": mask, "source": "model"})
            if r.status_code != 200:
                failed += 1
                return
            latencies.append(time.perf_counter() - t0)
            wrong += r.json()["info"] != answers[text]

        for text in texts[: max(1, count // 3)]:
            await one(text)
        single = list(latencies)
        t0 = time.perf_counter()
        rest = texts[max(1, count // 3):]
        for first in range(0, len(rest), clients):
            await asyncio.gather(*(one(t) for t in rest[first : first + clients]))
        elapsed = time.perf_counter() - t0
    return {"single_p50_s": _pct(single, 0.5), "single_max_s": max(single), "concurrent_per_s": len(rest) / elapsed,
            "computed": len(latencies), "wrong": wrong, "failed": failed}


def start_server(stores: list[str], fasta: str | None, annotation: str | None, queue: int,
                 answer_cache: int | None = None) -> tuple:
    port = free_port()
    command = [sys.executable, "-m", "pipeline", "serve", *stores, "--port", str(port), "--queue", str(queue)]
    if fasta:
        command += ["--fasta", fasta, "--annotation", annotation]
    if answer_cache is not None:
        command += ["--answer-cache", str(answer_cache)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.3)
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped: {process.stderr.read()}")
    process.kill()
    raise RuntimeError("the server did not start within 180 s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="an all-SNV store")
    parser.add_argument("--fasta")
    parser.add_argument("--annotation")
    parser.add_argument("--requests", type=int, default=20_000, help="stored lookups per closed-loop row")
    parser.add_argument("--paced-requests", type=int, default=4000, help="stored lookups per paced row")
    parser.add_argument("--seconds", type=float, default=40, help="time limit per row")
    parser.add_argument("--rate", type=float, default=300, help="requests/s offered in the paced runs")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop",
                        help="the load generator's event loop (asyncio: the client of the first measurements)")
    parser.add_argument("--answer-cache", type=int, help="the server's --answer-cache (default: serve's)")
    parser.add_argument("--batch", type=int, default=5000, help="variants per batch request")
    parser.add_argument("--computed", type=int, default=12, help="SNVs computed by the model")
    args = parser.parse_args(argv)
    answers, build, distance, mask = expected_answers(args.store)
    process, url = start_server([args.store], args.fasta, args.annotation, queue=256,
                                answer_cache=args.answer_cache)
    try:
        print(f"server {url} over {Path(args.store).name} ({len(answers)} SNVs, build {build}, distance {distance}, "
              f"mask {int(mask)}); {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; client on {args.loop}")
        print("| test | requests | ok | wrong | failed | p50 ms | p99 ms | per s | CPU us/request server, client |")
        print("|---|---|---|---|---|---|---|---|---|")
        rows = [(50, None, False), (200, None, False), (50, None, True), (200, None, True),
                (50, args.rate, False), (200, args.rate, False)]
        for clients, rate, distinct in rows:
            r = run(stored_lookups(url, answers, build, distance, mask, clients,
                                   args.paced_requests if rate else args.requests, args.seconds, rate, distinct,
                                   process.pid), args.loop)
            how = (f"paced, {rate:g}/s offered" if rate else "closed loop") + (", every query new" if distinct else "")
            # paced, the processes idle between requests: CPU per request would be mostly the idle loops' cost
            cpu = "" if rate else ", ".join("" if c is None else f"{1e6 * c:.0f}" for c in (r["server_cpu"],
                                                                                          r["client_cpu"]))
            print(f"| stored GET /pangolin/, {clients} clients, {how} | {r['requests']} | {r['ok']} | {r['wrong']} | "
                  f"{r['failed']} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['per_s']:.0f} requests | {cpu} |")
        r = run(batch(url, answers, build, distance, mask, args.batch, 3), args.loop)
        print(f"| stored POST /api/v1/score, {args.batch} variants x 3 | 3 | {r['variants'] - r['wrong']} | "
              f"{r['wrong']} | 0 | | | {r['per_s']:.0f} variants | |")
        r = run(vcf_batch(url, answers, build, distance, mask, args.batch, 3), args.loop)
        print(f"| stored POST /api/v1/score, VCF in and out, {args.batch} records x 3 | 3 | "
              f"{r['variants'] - r['wrong']} | {r['wrong']} | 0 | | | {r['per_s']:.0f} variants | |")
        if args.fasta:
            r = run(computed(url, answers, build, distance, mask, args.computed, 4), args.loop)
            print(f"| computed SNV, queue empty / 4 at once | {args.computed} | {r['computed'] - r['wrong']} | "
                  f"{r['wrong']} | {r['failed']} | {1e3 * r['single_p50_s']:.0f} (max "
                  f"{1e3 * r['single_max_s']:.0f}) | | {r['concurrent_per_s']:.2f} SNVs | |")
        print(f"load after: {os.getloadavg()[0]:.1f}")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
