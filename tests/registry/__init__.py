"""Tests of the registry layer."""
