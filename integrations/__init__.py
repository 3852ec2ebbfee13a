"""Clients of outside systems, each with a simulator speaking the same HTTP contract."""
