"""Chart specs built from several threads at once in a fresh interpreter (the server's thread
pool on its first requests): the lazy altair/pandas import must not race."""

from __future__ import annotations

import textwrap

from fresh_python import python_json

CODE = textwrap.dedent("""
    import concurrent.futures
    import jupyter_track.charts as charts

    runs = [
        {"run_id": "a" * 32, "run_name": "x", "params": {"lr": "0.1"}, "metrics": {"acc": 0.5}},
        {"run_id": "b" * 32, "run_name": "y", "params": {"lr": "0.2"}, "metrics": {"acc": 0.7}},
        {"run_id": "c" * 32, "run_name": "z", "params": {"lr": "0.4"}, "metrics": {"acc": 0.9}},
    ]

    def work(i):
        if i % 2:
            return charts.spec_dict(charts.scatter(runs, param="lr", metric="acc"))["mark"]
        return len(charts.param_importance(runs, metric="acc"))

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        parallel = list(pool.map(work, range(6)))
    print(json.dumps({"parallel": parallel, "sequential": [work(i) for i in range(6)]}))
""").replace("import concurrent.futures", "import concurrent.futures\nimport json")


def test_first_charts_from_several_threads() -> None:
    for _ in range(2):
        got = python_json(CODE, timeout=120)
        # every thread built its chart, and the same one as one thread alone builds
        assert got["parallel"] == got["sequential"], got
        importance, mark = got["parallel"][0], got["parallel"][1]
        assert importance == 1 and got["parallel"] == [importance, mark] * 3, got
        assert isinstance(mark, dict) and mark["type"] == "circle", mark  # scatter: circles
