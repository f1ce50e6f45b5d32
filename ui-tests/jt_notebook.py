"""Notebook helpers shared by the browser tests: write a notebook, run all its cells."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from playwright.sync_api import Page, expect

KERNEL_IDLE = "Python 3 (ipykernel) | Idle"


def write_notebook(root: Path, name: str, sources: list[str]) -> Path:
    """A notebook of code cells ``sources`` at ``root/name``, on the python3 kernel."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": "python3",
    }
    path = root / name
    nbformat.write(nb, path)
    return path


def run_all_cells(page: Page, timeout: float) -> None:
    """Run every cell once the kernel is idle (toolchain.md §6). An early click is sometimes
    lost: when no cell is queued a few seconds later, click again."""
    expect(page.get_by_text(KERNEL_IDLE)).to_be_visible(timeout=timeout)
    # the first code cell (a markdown cell's prompt stays empty)
    first = page.locator(".jp-NotebookPanel:visible .jp-CodeCell .jp-InputPrompt").first
    for _ in range(3):
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
        try:
            expect(first).not_to_have_text(re.compile(r"^\[ \]"), timeout=10_000)
            break
        except AssertionError:
            continue
    expect(first).to_contain_text("[1]", timeout=timeout)
