"""Tests of the magics layer."""
