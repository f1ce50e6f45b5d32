"""The def-use analysis of one cell, and lineages over a log of executed cells.

The property tests generate random notebooks (assignments, augmented assignments, in-place
mutations, functions reading globals, branches, loops), run every cell in order, then run only
the cells the lineage names, in a fresh namespace: the tracked cell must compute the same value.
"""

from __future__ import annotations

import ast
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_track.lineage import defuse
from jupyter_track.lineage.defuse import analyze
from jupyter_track.lineage.notebook import NotebookCell, NotebookDocument, normalize
from jupyter_track.lineage.session import SessionLog


def facts(code: str) -> defuse.CellFacts:
    defuse._cache.clear()
    return analyze(code)


# ------------------------------------------------------------------------------ one cell


def test_assignments_imports_and_reads() -> None:
    f = facts(
        "import numpy as np\nfrom sklearn.model_selection import train_test_split as tts\n"
        "x = np.arange(n)\ny = x + offset\nz: int = 3\n(w := y + 1)\n"
    )
    assert f.defines == {"np", "tts", "x", "y", "z", "w"}
    assert f.uses == {"n", "offset", "int"}  # the annotation is evaluated
    assert dict(f.imports) == {
        "np": "numpy",
        "tts": "sklearn.model_selection.train_test_split",
    }


def test_read_before_write_in_the_same_cell_is_a_use() -> None:
    f = facts("x = x + 1\ncount += 1\n")
    assert f.uses == {"x", "count"}
    assert f.defines == {"x", "count"}


def test_branches_and_loops_may_bind() -> None:
    f = facts(
        "if flag:\n    a = 1\nelse:\n    a = 2\n"
        "if flag:\n    b = 1\n"
        "for i in items:\n    total = total + i\n"
        "try:\n    import torch\nexcept ImportError:\n    torch = None\n"
        "while cond:\n    w = 1\n"
    )
    assert {"a", "torch"} <= f.defines  # bound by every branch
    assert {"b", "i", "total", "w"} <= f.maybe_defines
    assert {"flag", "items", "total", "cond", "ImportError"} <= f.uses


def test_mutations() -> None:
    f = facts(
        "df['x'] = 1\ncfg.lr = 0.1\nitems.append(3)\nmodel.fit(X, y)\ndel cache[0]\n"
        "frame.dropna(inplace=True)\nframe2.head()\nprint(z)\n"
    )
    assert f.modifies == {"df", "cfg", "items", "model", "cache", "frame"}
    assert {"df", "cfg", "items", "model", "X", "y", "cache", "frame", "frame2", "z"} <= f.uses
    assert "frame2" not in f.modifies  # head() reads


def test_functions_classes_comprehensions_and_lambdas() -> None:
    f = facts(
        "def f(a, b=default):\n    c = a + g(b)\n    return [c * k for k in ks if k > lim]\n"
        "class C(Base):\n    size = width\n    def m(self):\n        return cfg\n"
        "h = lambda q: q * scale\n"
        "squares = [v * v for v in values]\n"
    )
    assert f.defines == {"f", "C", "h", "squares"}
    assert f.uses == {"default", "Base", "width", "values"}
    deferred = dict(f.deferred)
    assert deferred["f"] == {"g", "ks", "lim"}
    assert deferred["C"] == {"cfg"}
    assert deferred["h"] == {"scale"}


def test_a_function_called_in_its_own_cell_reads_its_globals_there() -> None:
    f = facts("def f():\n    return scale\nresult = f()\n")
    assert "scale" in f.uses


def test_global_statement_in_a_function_may_bind() -> None:
    f = facts("def bump():\n    global counter\n    counter += 1\n")
    assert "counter" in f.maybe_defines
    assert "counter" in dict(f.deferred)["bump"]


def test_star_imports_magics_and_dynamic_code_are_flagged() -> None:
    f = facts(
        "from os.path import *\n"
        "get_ipython().run_line_magic('run', 'prep.py')\n"
        "get_ipython().run_line_magic('load', 'snippet.py')\n"
        "get_ipython().system('pip install polars')\n"
        "get_ipython().run_line_magic('pip', 'install tqdm')\n"
        "get_ipython().run_line_magic('matplotlib', 'inline')\n"
        "exec('z = 1')\n"
    )
    assert f.star_imports == ("os.path",)
    assert f.magics == (
        "%run prep.py",
        "%load snippet.py",
        "!pip install polars",
        "%pip install tqdm",
    )
    assert f.dynamic == ("exec()",)
    assert f.hides_names


def test_python_magic_bodies_are_analysed() -> None:
    f = facts(
        "get_ipython().run_cell_magic('time', '', 'model = train(data)\\n')\n"
        "get_ipython().run_line_magic('time', 'score = evaluate(model)')\n"
    )
    assert {"model", "score"} <= f.defines
    assert f.uses >= {"train", "data"}
    assert "evaluate" in f.uses


def test_seeds() -> None:
    f = facts(
        "import numpy as np\nimport random\nimport torch\nSEED = 7\n"
        "np.random.seed(42)\nrandom.seed(SEED)\ntorch.manual_seed(0)\n"
        "rng = np.random.default_rng(123)\n"
        "clf = RandomForestClassifier(random_state=SEED)\n"
        "split = train_test_split(X, random_state=0)\n"
        "other = Model(random_state=None)\n"
    )
    calls = [(s.call, s.value, s.name) for s in f.seeds]
    assert ("np.random.seed", 42, None) in calls
    assert ("random.seed", None, "SEED") in calls
    assert ("torch.manual_seed", 0, None) in calls
    assert ("np.random.default_rng", 123, None) in calls
    assert ("random_state", None, "SEED") in calls
    assert ("random_state", 0, None) in calls
    assert len(calls) == 6  # random_state=None is not a seed
    assert {"@seed:np", "@seed:random", "@seed:torch"} <= f.defines
    assert dict(f.literals)["SEED"] == 7


def test_a_seed_inside_a_function_is_not_global_state() -> None:
    f = facts("import numpy as np\ndef setup(s):\n    np.random.seed(s)\n")
    assert "@seed:numpy" not in f.defines


def test_code_that_does_not_parse() -> None:
    f = facts("x = (\n")
    assert f.error is not None and f.defines == frozenset() and f.uses == frozenset()


def test_strings_that_may_name_files() -> None:
    f = facts("df = read_csv('data/train.csv')\nname = 'plain words'\nother = 'a.parquet'\n")
    assert f.strings == ("data/train.csv", "a.parquet")


def test_facts_are_cached_per_source() -> None:
    defuse._cache.clear()
    assert analyze("a = b") is analyze("a = b")


@given(st.text(max_size=200))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_any_text_gives_facts_and_never_raises(text: str) -> None:
    f = analyze(text)
    assert isinstance(f, defuse.CellFacts)
    assert f.defines.isdisjoint(f.maybe_defines)


# ---------------------------------------------------------------------- lineage over a log


def make_log(*cells: str | tuple[str, str]) -> SessionLog:
    log = SessionLog(background=False)
    for count, cell in enumerate(cells, start=1):
        cell_id, code = cell if isinstance(cell, tuple) else (None, cell)
        log.add(
            cell_id=cell_id,
            execution_count=count,
            source=code,
            code=code,
            start_ms=count,
            status="ok",
        )
    return log


def lineage_sources(log: SessionLog, tracked: str, **kw: Any) -> list[str]:
    return [c.source for c in log.lineage(facts(tracked), **kw).cells]


def test_lineage_follows_reads_transitively_in_executed_order() -> None:
    log = make_log(
        "import pandas as pd",
        "df = pd.read_csv('x.csv')",
        "unrelated = 1",
        "features = ['a']",
        "X = df[features]",
        "X = X * 2",
    )
    assert lineage_sources(log, "model = fit(X)", hidden={"fit"}) == [
        "import pandas as pd",
        "df = pd.read_csv('x.csv')",
        "features = ['a']",
        "X = df[features]",
        "X = X * 2",
    ]


def test_the_latest_definition_wins_and_earlier_ones_drop_out() -> None:
    log = make_log("a = 1", "b = a", "a = 2")
    assert lineage_sources(log, "c = a") == ["a = 2"]


def test_mutations_since_the_definition_are_kept() -> None:
    log = make_log("items = []", "items.append(1)", "other = 2", "items[0] = 5")
    assert lineage_sources(log, "n = len(items)") == [
        "items = []",
        "items.append(1)",
        "items[0] = 5",
    ]


def test_module_method_calls_are_not_mutations() -> None:
    log = make_log("import matplotlib.pyplot as plt", "plt.plot([1, 2])", "x = 1")
    assert lineage_sources(log, "plt.figure(); y = x") == [
        "import matplotlib.pyplot as plt",
        "x = 1",
    ]


def test_maybe_definitions_keep_the_earlier_one() -> None:
    log = make_log("flag = True", "a = 1", "if flag:\n    a = 2")
    assert lineage_sources(log, "b = a") == ["flag = True", "a = 1", "if flag:\n    a = 2"]


def test_functions_read_their_globals_where_they_are_called() -> None:
    log = make_log("scale = 1", "def f():\n    return scale", "scale = 2", "unused = 0")
    assert lineage_sources(log, "y = f()") == ["def f():\n    return scale", "scale = 2"]


def test_global_seeding_of_an_imported_library_is_kept() -> None:
    log = make_log("import numpy as np", "np.random.seed(3)", "x = np.random.rand(3)")
    lineage = log.lineage(facts("y = x.sum()"))
    assert [c.source for c in lineage.cells] == [
        "import numpy as np",
        "np.random.seed(3)",
        "x = np.random.rand(3)",
    ]
    assert lineage.seeds[0]["call"] == "numpy.random.seed" and lineage.seeds[0]["value"] == 3
    assert not lineage.unseeded


def test_unseeded_only_when_a_random_library_is_used() -> None:
    log = make_log("import numpy as np", "x = np.random.rand(3)")
    assert log.lineage(facts("y = x.sum()")).unseeded
    assert not make_log("x = 1").lineage(facts("y = x")).unseeded


def test_seed_names_resolve_to_literals_of_the_lineage() -> None:
    log = make_log("SEED = 11", "from sklearn.ensemble import RandomForestClassifier as RF")
    lineage = log.lineage(facts("clf = RF(random_state=SEED)"))
    assert lineage.seeds == [
        {"call": "random_state", "value": 11, "name": "SEED", "cell": "tracked", "line": 1}
    ]


def test_unknown_names_are_those_in_the_namespace_no_cell_bound() -> None:
    log = make_log("a = 1")
    lineage = log.lineage(facts("c = a + b + missing + len([])"), namespace={"a": 1, "b": 2})
    assert lineage.unknown == ["b"]
    assert [f.code for f in lineage.flags] == ["unknown-names"]


def test_star_imports_are_kept_when_names_are_unresolved() -> None:
    log = make_log("from math import *", "x = 2")
    lineage = log.lineage(facts("y = sqrt(x)"), namespace={"sqrt": 1, "x": 2})
    assert [c.source for c in lineage.cells] == ["from math import *", "x = 2"]
    assert [f.code for f in lineage.flags] == ["hidden-names"]


def test_out_of_order_edited_and_deleted_against_the_notebook() -> None:
    log = make_log(
        ("c-load", "df = load()"),
        ("c-feat", "features = ['a']"),
        ("c-prep", "X = df[features]"),
        ("c-gone", "w = 2"),
    )
    document = NotebookDocument(
        "nb.ipynb",
        cells := (
            NotebookCell(0, "c-load", "df = load()"),
            NotebookCell(1, "c-prep", "X = df[features]  # edited"),
            NotebookCell(2, "c-feat", "features = ['a']"),
            NotebookCell(3, "c-train", "model = fit(X, w)"),
        ),
        {c.cell_id: c for c in cells if c.cell_id},
        {normalize(c.source): [c] for c in cells},
    )
    lineage = log.lineage(
        facts("model = fit(X, w)"),
        hidden={"load", "fit"},
        document=document,
        tracked_cell_id="c-train",
        tracked_source="model = fit(X, w)",
    )
    codes = {(f.code, tuple(f.cells)) for f in lineage.flags}
    assert ("out-of-order", ("[2]",)) in codes  # features ran before X's cell, sits below it
    assert ("edited", ("[3]",)) in codes
    assert ("deleted", ("[4]",)) in codes
    assert lineage.stale


def test_edited_and_run_again_without_a_notebook() -> None:
    log = make_log(("c1", "a = 1\nold = 5"), ("c1", "a = 1"))
    lineage = log.lineage(facts("y = old + a"))
    assert [c.source for c in lineage.cells] == ["a = 1\nold = 5", "a = 1"]
    assert [f.code for f in lineage.flags] == ["edited"]


# ------------------------------------------------------------------ property: soundness

NAMES = ["a", "b", "c", "d"]
LISTS = ["L", "M"]


@st.composite
def notebooks(draw: Any) -> tuple[list[str], str]:
    defined: set[str] = set()
    functions: list[str] = []
    cells = []

    def expr() -> str:
        choices = sorted(defined)
        terms = [str(draw(st.integers(0, 9)))]
        if choices:
            terms += draw(st.lists(st.sampled_from(choices), max_size=3))
        lists = [n for n in LISTS if n in defined]
        if lists and draw(st.booleans()):
            terms.append(f"sum({draw(st.sampled_from(lists))})")
        if functions and draw(st.booleans()):
            terms.append(f"{draw(st.sampled_from(functions))}()")
        return " + ".join(t for t in terms if t not in LISTS)

    for _ in range(draw(st.integers(1, 8))):
        lines = []
        for _ in range(draw(st.integers(1, 3))):
            kind = draw(st.sampled_from(["assign", "aug", "list", "mutate", "def", "if", "for"]))
            if kind == "assign" or (kind == "aug" and not defined - set(LISTS)):
                name = draw(st.sampled_from(NAMES))
                lines.append(f"{name} = {expr()}")
                defined.add(name)
            elif kind == "aug":
                name = draw(st.sampled_from(sorted(defined - set(LISTS))))
                lines.append(f"{name} += {expr()}")
            elif kind == "list":
                name = draw(st.sampled_from(LISTS))
                lines.append(f"{name} = [{expr()}]")
                defined.add(name)
            elif kind == "mutate":
                lists = [n for n in LISTS if n in defined]
                if not lists:
                    continue
                name = draw(st.sampled_from(lists))
                if draw(st.booleans()):
                    lines.append(f"{name}.append({expr()})")
                else:
                    lines.append(f"{name}[0] = {expr()}")
            elif kind == "def":
                fname = f"f{len(functions)}"
                lines.append(f"def {fname}():\n    return {expr()}")
                functions.append(fname)
            elif kind == "if":
                name = draw(st.sampled_from(NAMES))
                flag = draw(st.booleans())
                if name in defined or flag:
                    lines.append(f"if {flag}:\n    {name} = {expr()}")
                    defined.add(name) if flag else None
            elif kind == "for":
                name = draw(st.sampled_from([n for n in NAMES if n in defined] or ["a"]))
                if name not in defined:
                    lines.append(f"{name} = 0")
                    defined.add(name)
                lines.append(f"for i in range({draw(st.integers(0, 2))}):\n    {name} += i")
        if lines:
            cells.append("\n".join(lines))
    return cells, f"result = {expr()}"


def run_cells(cells: list[str], tracked: str) -> Any:
    namespace: dict[str, Any] = {}
    for cell in [*cells, tracked]:
        exec(compile(ast.parse(cell), "<cell>", "exec"), namespace)
    return namespace["result"]


@given(notebooks())
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_running_only_the_lineage_gives_the_same_result(notebook: tuple[list[str], str]) -> None:
    cells, tracked = notebook
    expected = run_cells(cells, tracked)
    log = make_log(*cells)
    lineage = log.lineage(facts(tracked))
    assert run_cells([c.source for c in lineage.cells], tracked) == expected
    assert lineage.unknown == []
    # what the lineage names, in the order it ran
    assert [c.index for c in lineage.cells] == sorted(c.index for c in lineage.cells)
