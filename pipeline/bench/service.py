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
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ..service.answers import genes_of
from ..service.builds import infer_build
from ..snvs.annotate import lookup_strings
from ..snvs.reader import SnvReader


def expected_answers(store: str) -> tuple[dict[str, str], str, int, bool]:
    """Every SNV of the store (``chr-pos-ref-alt``) with its `lookup` INFO value; build, distance, mask."""
    reader = SnvReader(store)
    snvs = []
    for chrom in reader.contigs:
        refs = reader.root[f"{chrom}/ref"]
        for block in range(0, refs.shape[0], reader.block):
            values = refs[block : block + reader.block]
            for row in values.nonzero()[0]:
                ref = chr(int(values[row]))
                snvs += [f"{chrom}-{block + row + 1}-{ref}-{alt}" for alt in "ACGT" if alt != ref]
            if len(snvs) > 20_000:
                break
    answers = {text: value for text, value, _ in lookup_strings(reader, snvs) if value is not None}
    return answers, infer_build(reader.identity.reference["contigs"]), reader.settings["distance"], \
        reader.settings["mask"]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: str) -> tuple[int, bytes]:
    """One GET on a kept-alive HTTP/1.1 connection (plain asyncio streams: httpx's own cost per request
    is larger than the server's, and would be what this measured)."""
    writer.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
    return status, await reader.readexactly(length)


async def stored_lookups(url: str, answers: dict[str, str], build: str, distance: int, mask: bool,
                         clients: int, requests: int, seconds: float, rate: float | None = None) -> dict:
    """``clients`` clients, one connection each, sharing ``requests`` GET /pangolin/ calls (at most
    ``seconds``); each answer checked. Closed loop (each client sends as soon as answered), or with
    ``rate``, paced: each client sends every ``clients / rate`` seconds (an open load of ``rate``/s)."""
    texts = list(answers)
    host, port = url.removeprefix("http://").split(":")
    latencies: list[float] = []
    wrong = failed = 0
    next_request = 0
    deadline = time.monotonic() + seconds

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
                text = texts[next_request % len(texts)]
                next_request += 1
                target = f"/pangolin/?hg={build}&distance={distance}&mask={int(mask)}&variant={text}"
                t0 = time.perf_counter()
                try:
                    status, body = await asyncio.wait_for(_get(reader, writer, target), 30)
                except (OSError, asyncio.IncompleteReadError, TimeoutError):
                    failed += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, int(port))
                    continue
                latencies.append(time.perf_counter() - t0)
                if status != 200:
                    failed += 1
                elif not _same(json.loads(body)["scores"], answers[text]):
                    wrong += 1
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(clients)))
    elapsed = time.perf_counter() - t0
    return {"requests": len(latencies) + failed, "ok": len(latencies) - wrong, "wrong": wrong,
            "failed": failed, "p50_ms": 1e3 * _pct(latencies, 0.5), "p99_ms": 1e3 * _pct(latencies, 0.99),
            "per_s": len(latencies) / elapsed, "seconds": elapsed}


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
    body = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + records
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


def start_server(stores: list[str], fasta: str | None, annotation: str | None, queue: int) -> tuple:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "pipeline", "serve", *stores, "--port", str(port), "--queue", str(queue)]
    if fasta:
        command += ["--fasta", fasta, "--annotation", annotation]
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
    parser.add_argument("--requests", type=int, default=4000, help="stored lookups per concurrency level")
    parser.add_argument("--seconds", type=float, default=60, help="time limit per concurrency level")
    parser.add_argument("--rate", type=float, default=300, help="requests/s offered in the paced runs")
    parser.add_argument("--batch", type=int, default=5000, help="variants per batch request")
    parser.add_argument("--computed", type=int, default=12, help="SNVs computed by the model")
    args = parser.parse_args(argv)
    answers, build, distance, mask = expected_answers(args.store)
    process, url = start_server([args.store], args.fasta, args.annotation, queue=256)
    try:
        print(f"server {url} over {Path(args.store).name} ({len(answers)} SNVs, build {build}, distance {distance}, "
              f"mask {int(mask)}); {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
        print("| test | requests | ok | wrong | failed | p50 ms | p99 ms | per s |")
        print("|---|---|---|---|---|---|---|---|")
        for clients, rate in ((50, None), (200, None), (50, args.rate), (200, args.rate)):
            r = asyncio.run(stored_lookups(url, answers, build, distance, mask, clients, args.requests, args.seconds,
                                           rate))
            how = f"paced, {rate:g}/s offered" if rate else "closed loop"
            print(f"| stored GET /pangolin/, {clients} clients, {how} | {r['requests']} | {r['ok']} | {r['wrong']} | "
                  f"{r['failed']} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['per_s']:.0f} requests |")
        r = asyncio.run(batch(url, answers, build, distance, mask, args.batch, 3))
        print(f"| stored POST /api/v1/score, {args.batch} variants x 3 | 3 | {r['variants'] - r['wrong']} | "
              f"{r['wrong']} | 0 | | | {r['per_s']:.0f} variants |")
        r = asyncio.run(vcf_batch(url, answers, build, distance, mask, args.batch, 3))
        print(f"| stored POST /api/v1/score, VCF in and out, {args.batch} records x 3 | 3 | "
              f"{r['variants'] - r['wrong']} | {r['wrong']} | 0 | | | {r['per_s']:.0f} variants |")
        if args.fasta:
            r = asyncio.run(computed(url, answers, build, distance, mask, args.computed, 4))
            print(f"| computed SNV, queue empty / 4 at once | {args.computed} | {r['computed'] - r['wrong']} | "
                  f"{r['wrong']} | {r['failed']} | {1e3 * r['single_p50_s']:.0f} (max "
                  f"{1e3 * r['single_max_s']:.0f}) | | {r['concurrent_per_s']:.2f} SNVs |")
        print(f"load after: {os.getloadavg()[0]:.1f}")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
