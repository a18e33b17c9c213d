"""Scenarios shipped with Oculi: the demo, the end-to-end tests and the benchmarks replay them."""
