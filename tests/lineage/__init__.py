"""Tests of the lineage layer."""
