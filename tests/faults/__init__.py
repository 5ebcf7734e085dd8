"""Fault tests: real servers against real databases that fail. Run with `make faults`
(MASTHEAD_FAULTS=1); skipped in the normal suite."""
