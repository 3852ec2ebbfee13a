"""Simulators of the outside systems we cannot reach from here. Each speaks
the documented HTTP contract of its system (docs/*-api.md) with realistic
latency and failures, so the production client is tested unchanged."""
