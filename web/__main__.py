"""``python -m web`` is the ``phb-ledger`` command."""

from web.cli import main

main()
