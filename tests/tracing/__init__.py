"""Tests of the tracing layer."""
