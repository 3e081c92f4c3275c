"""`python -m devtools.tiny_model --share DIR`: write the tiny base model and adapter into DIR."""

import argparse
from pathlib import Path

from devtools.tiny_model.build import build


def main() -> None:
    """Parse arguments and build the model."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--share", type=Path, required=True, help="share directory to write into")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    paths = build(args.share, seed=args.seed)
    print(f"base model: {paths.base_dir}\nadapter:    {paths.adapter_dir}")


if __name__ == "__main__":
    main()
