"""Tests of the project layer."""
