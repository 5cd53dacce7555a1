"""Write provider keys into .env (mode 0600) and switch llmswitch to multi-provider mode.

    python scripts/update_env_multi_provider.py              # asks for each key, without echo
    python scripts/update_env_multi_provider.py --groq gsk_... --non-interactive

Keys given as flags are visible to other local users in the process list; prefer the prompts.
The same code runs behind ``llmswitch setup`` (``llmswitch._envfile``).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

try:
    from llmswitch._envfile import key_variables, prompt_for_keys, update_env_file
except ImportError:  # run from a checkout without installing the package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from llmswitch._envfile import key_variables, prompt_for_keys, update_env_file


def main(argv: list[str] | None = None) -> int:
    variables = key_variables()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for provider, variable in variables.items():
        parser.add_argument(f"--{provider}", metavar="KEY", help=f"sets {variable}")
    parser.add_argument("--env-file", default=".env", help="the file to write (default: .env)")
    parser.add_argument("--non-interactive", action="store_true", help="never prompt")
    args = parser.parse_args(argv)
    values = {v: getattr(args, p) for p, v in variables.items() if getattr(args, p)}
    if not args.non_interactive and not values:
        values = prompt_for_keys(getpass.getpass)
    path = update_env_file(args.env_file, values)
    names = ", ".join(sorted(values)) or "no keys"
    print(f"wrote {path} (mode 0600): {names}; LLM_PROVIDER=multi, LLM_MODEL=auto")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
