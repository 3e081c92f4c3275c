"""`python -m devtools.benchmarks`: our inference server against `transformers serve` and a seed-style baseline."""

import argparse
import json
import tempfile
from pathlib import Path

from devtools.benchmarks import bandwidth, chart
from devtools.benchmarks.report import format_cold_starts, format_goals, format_memory, format_table
from devtools.benchmarks.run import (
    BASELINE,
    DEFAULT_CONCURRENCIES,
    LONG_OUTPUT,
    MODES,
    OURS,
    PEER,
    SERVER_CHOICES,
    BenchConfig,
    BenchResults,
    Level,
    run,
)
from devtools.benchmarks.shapes import SHAPES, build_model


def _level(text: str) -> Level:
    try:
        return Level.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m devtools.benchmarks", description=__doc__)
    default_clients = " ".join(map(str, DEFAULT_CONCURRENCIES))
    p.add_argument("--concurrency", type=int, nargs="+",
                   help=f"client counts of the --output-tokens levels (default {default_clients}; "
                   "given without --long-output, no long-output level runs)")
    p.add_argument("--long-output", type=_level, action="append", metavar="CLIENTSxTOKENS",
                   help=f"a long-output level, repeatable (default {LONG_OUTPUT.concurrency}x"
                   f"{LONG_OUTPUT.output_tokens}; given without --concurrency, only these levels run)")
    p.add_argument("--requests-per-client", type=int, default=4, help="measured requests per client")
    p.add_argument("--min-requests", type=int, default=16, help="measured requests per level, at least")
    p.add_argument("--output-tokens", type=int, default=64, help="tokens generated per request (EOS ignored)")
    p.add_argument("--prompt-sentences", type=int, default=4, help="length of the fixed prompt")
    p.add_argument("--max-seconds", type=float, default=60.0, help="no new requests after this per level")
    p.add_argument("--device", default="cpu", help="cpu, or cuda for a GPU run (untested here)")
    p.add_argument("--shape", choices=SHAPES, default="tiny", help="phi3-mini: random bf16 weights (GPU)")
    p.add_argument("--share", type=Path, help="share dir to build the model in (default: a temp dir)")
    p.add_argument("--no-cold-start", action="store_true", help="skip the second (cache-hit) start")
    p.add_argument("--only", choices=list(SERVER_CHOICES), nargs="+",
                   help="run these servers only (default: ours, peer = transformers serve, baseline)")
    p.add_argument("--modes", choices=MODES, nargs="+", default=list(MODES),
                   help="our server's decoding (default: sampled and greedy); the others always decode greedily")
    p.add_argument("--temperature", type=float, default=0.7, help="temperature of the sampled mode")
    p.add_argument("--top-p", type=float, default=0.9, help="top_p of the sampled mode")
    p.add_argument("--hbm-gbps", type=float, help="HBM bandwidth for the bound (default: by device name)")
    p.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE",
                   help="environment for our server, e.g. MAX_BATCH_SIZE=32 (repeatable)")
    p.add_argument("--json", type=Path, help="also write the results to this JSON file")
    p.add_argument("--chart", type=Path,
                   help="write the chart as an SVG image here (default: beside --json, as .svg)")
    return p


def _levels(args: argparse.Namespace) -> tuple[list[int], list[Level]]:
    """Short and long levels: the defaults unless either kind is given, then exactly what was given."""
    if args.concurrency is None and args.long_output is None:
        return list(DEFAULT_CONCURRENCIES), [LONG_OUTPUT]
    return args.concurrency or [], args.long_output or []


def _check_device(args: argparse.Namespace) -> None:
    """Refuse combinations that cannot give a meaningful run, saying what to do instead."""
    if args.shape == "phi3-mini" and not args.device.startswith("cuda"):
        raise SystemExit("--shape phi3-mini writes 7.6 GB of bf16 weights and needs a GPU: add --device cuda")
    if args.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise SystemExit(f"--device {args.device}: torch sees no CUDA device here; run on a GPU machine "
                             "with a CUDA build of torch, or use --device cpu")


def _config(args: argparse.Namespace) -> BenchConfig:
    chosen = tuple(SERVER_CHOICES[name] for name in dict.fromkeys(args.only or SERVER_CHOICES))
    concurrencies, long_levels = _levels(args)
    return BenchConfig(
        concurrencies=concurrencies,
        long_levels=long_levels,
        requests_per_client=args.requests_per_client,
        min_requests=args.min_requests,
        output_tokens=args.output_tokens,
        prompt_sentences=args.prompt_sentences,
        max_seconds_per_level=args.max_seconds,
        device=args.device,
        shape=args.shape,
        cold_start=not args.no_cold_start,
        servers=chosen,
        modes=tuple(dict.fromkeys(args.modes)),
        temperature=args.temperature,
        top_p=args.top_p,
        our_env=dict(_key_value(item) for item in args.server_env),
    )


def _key_value(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise SystemExit(f"--server-env wants KEY=VALUE, got {item!r}")
    return key, value


def _bound(args: argparse.Namespace, results: BenchResults, model_dir: Path) -> None:
    """Attach the memory-bandwidth bound on CUDA runs (UNTESTED: no GPU where this was written)."""
    if not args.device.startswith("cuda"):
        return
    import torch

    name = torch.cuda.get_device_name()
    gbps = args.hbm_gbps or bandwidth.hbm_gbps_for(name)
    if gbps is None:
        print(f"no HBM bandwidth known for {name!r}; pass --hbm-gbps to get the bound")
        return
    context = max(results.prompt_tokens.values(), default=0) + args.output_tokens // 2
    results.bound = bandwidth.estimate(model_dir, name, gbps, results.config.concurrencies, context)


def _print(results: BenchResults, chart_path: Path | None) -> None:
    print("\nThroughput (streaming, closed loop)")
    print(format_table(results.rows))
    if results.memory:
        print("\nPeak memory")
        print(format_memory(results.memory))
    goals = format_goals(results.rows, OURS, BASELINE, results.config.output_tokens, PEER)
    if goals:
        print("\nGoals")
        print(goals)
    if results.rows:
        print("\nChart")
        picture = chart.chart(results.rows, results.memory)
        chart.show(picture)
        if chart_path is not None:
            print(f"chart image: {chart.save_svg(picture, chart_path)}")
    if results.cold_starts:
        print("\nCold start of inference_container (seconds)")
        print(format_cold_starts(results.cold_starts))
    if results.bound is not None:
        ours = {r.concurrency: r.tokens_per_second for r in results.rows
                if r.server == OURS and r.mode == "greedy" and r.max_tokens == results.config.output_tokens}
        print()
        print(bandwidth.format_bound(results.bound, ours))


def main(argv: list[str] | None = None) -> BenchResults:
    """Build the model, run the servers one after the other, print the tables and chart, optionally write JSON."""
    args = _parser().parse_args(argv)
    _check_device(args)
    config = _config(args)
    print(f"Benchmark: {config.describe()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-share-") as tmp:
        share = args.share or Path(tmp)
        paths = build_model(config.shape, share, config.device)
        results = run(config, paths)
        tokens = ", ".join(f"{server} {count}" for server, count in results.prompt_tokens.items())
        print(f"prompt tokens per request (each server's usage): {tokens}")
        _bound(args, results, paths.base_dir)
    chart_path = args.chart or (args.json.with_suffix(".svg") if args.json else None)
    _print(results, chart_path)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results.to_json(), indent=2, default=str))
        print(f"\nwrote {args.json}")
    return results


if __name__ == "__main__":
    main()
