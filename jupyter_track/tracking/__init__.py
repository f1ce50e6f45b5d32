"""Kernel side: the fluent API, the active-run stack, the background metric writer."""
