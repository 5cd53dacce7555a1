"""``python -m llmswitch``: the same command as the ``llmswitch`` console script."""

from llmswitch._cli import main

main()
