"""Tests of MLflow compatibility (module layout, REST protocol, import)."""
