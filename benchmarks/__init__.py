"""MediaLink benchmarks: ``python -m benchmarks`` (``make bench``), ``--quick`` for a smoke run.

Not part of the test suite. The app under test runs alone in a subprocess, served on
127.0.0.1 exactly as ``medialink serve`` serves it, and is driven with correctly
signed Slack requests from a second subprocess (the load generator), against the
loopback fakes of Wix and Slack (``tests/fakes``) running in this process. See
``benchmarks/README.md`` for what is measured, how, and the latest numbers.
"""
