"""`python -m devtools.bench_redeploy` (`make bench-redeploy`): what users of an endpoint see during a redeploy.

One local app on devhost with the tiny model; version a deployed, then three redeploys, each under closed-loop
streaming clients (greedy, EOS ignored): an adapter-only change (auto: swap), a server code change (auto:
blue_green), and the adapter-only change again with "strategy": "restart" (the seed's way).
"""

import argparse
import json
import time
from pathlib import Path

from devtools.bench_redeploy.report import ScenarioRow, print_report, to_json
from devtools.bench_redeploy.runner import BenchConfig, describe, run


def _parser() -> argparse.ArgumentParser:
    defaults = BenchConfig()
    p = argparse.ArgumentParser(prog="python -m devtools.bench_redeploy", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=defaults.clients, help="closed-loop streaming clients")
    p.add_argument("--max-tokens", type=int, default=defaults.max_tokens, help="tokens per request (EOS ignored)")
    p.add_argument("--warm-requests", type=int, default=defaults.warm_requests,
                   help="requests that finish before each deploy starts")
    p.add_argument("--warm-seconds", type=float, default=defaults.warm_seconds,
                   help="load before each deploy starts, at least")
    p.add_argument("--tail-requests", type=int, default=defaults.tail_requests,
                   help="requests started after each deploy ended before the scenario stops")
    p.add_argument("--pause-after-failure", type=float, default=defaults.pause_after_failure,
                   help="seconds a client waits after a failed request")
    p.add_argument("--json", type=Path, help="also write the results to this JSON file")
    return p


def main(argv: list[str] | None = None) -> list[ScenarioRow]:
    """Run the scenarios, print the table, optionally write JSON."""
    args = _parser().parse_args(argv)
    config = BenchConfig(clients=args.clients, max_tokens=args.max_tokens, warm_requests=args.warm_requests,
                         warm_seconds=args.warm_seconds, tail_requests=args.tail_requests,
                         pause_after_failure=args.pause_after_failure)
    started = time.monotonic()
    print(f"Redeploy benchmark: {config.clients} streaming clients, {config.max_tokens} tokens per request",
          flush=True)
    rows = run(config)
    seconds = time.monotonic() - started
    print_report(rows, f"Redeploys under load ({config.clients} clients x {config.max_tokens} tokens, "
                       f"{seconds:.0f} s run)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({**to_json(rows, describe(config)), "run_seconds": seconds}, indent=2))
        print(f"wrote {args.json}")
    return rows


if __name__ == "__main__":
    main()
