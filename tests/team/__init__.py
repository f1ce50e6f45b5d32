"""Tests of the team layer."""
