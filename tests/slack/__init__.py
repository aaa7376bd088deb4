"""Tests of the Slack layer: unit tests of the pure parts, end-to-end tests over HTTP."""
