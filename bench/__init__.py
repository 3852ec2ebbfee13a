"""``make bench``: speed figures, each script measuring one thing (turns in process, HTTP, the
notifier, the machine's floor, the whole service under load); docs/performance.md reads them."""
