"""Tests of the widgets layer."""
