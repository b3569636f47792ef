"""Durable jobs: the retry policy, the worker that runs handlers, and how idle workers wait."""
