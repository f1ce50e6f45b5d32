"""Tests of the tracking layer."""
