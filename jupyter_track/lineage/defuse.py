"""What one cell reads and writes: a static def-use analysis of its parse tree.

:func:`analyze` turns a cell's code (after IPython's transforms, so magics are calls to
``get_ipython()``) into :class:`CellFacts`: the global names it binds for sure, may bind, mutates
in place and reads before binding them, plus what the cell log cannot follow by names alone
(star-imports, ``%run``/``%load``/``!pip`` and other magics, ``exec``/``globals()``), the seeds it
passes to random number generators, its import aliases and the strings that may name data files.

The rules, all by static reading of the tree (nothing is executed):

* ``x = ...``, ``import x``, ``def x``, ``class x``, ``for x in``, ``with ... as x``, ``x := ...``
  bind ``x``; bindings inside ``if``/``for``/``while``/``try``/``match`` bodies *may* bind
  (unless every branch binds), so an earlier definition stays in the lineage;
* ``x += 1`` reads and rebinds ``x``; ``x.a = 1``, ``x[i] = 1``, ``del x[i]`` and a statement
  that calls a method of ``x`` (``model.fit(X)``) mutate ``x`` (read and modify);
* a function's or class's free names are read by the cell that defines it (they are looked up
  when it is called); ``global x`` inside a function that assigns ``x`` may bind ``x``;
* comprehension variables, lambda and function parameters are local.

Facts are immutable and cached per source text, so a cell run again costs a dict lookup.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from typing import Any

#: IPython cell magics whose body is Python run in the user namespace (analysed as code)
PYTHON_CELL_MAGICS = frozenset({"track", "time", "timeit", "capture", "prun", "debug"})
#: line magics whose argument is a Python statement run in the user namespace
PYTHON_LINE_MAGICS = frozenset({"time", "timeit", "prun", "debug"})
#: magics the lineage ignores (display and tooling; they do not change the user namespace)
QUIET_MAGICS = frozenset(
    {
        "matplotlib",
        "load_ext",
        "reload_ext",
        "unload_ext",
        "config",
        "track_cells",
        "who",
        "whos",
        "pwd",
        "history",
        "lsmagic",
        "precision",
        "pdb",
        "xmode",
        "autoreload",
        "aimport",
        "html",
        "markdown",
        "latex",
        "javascript",
        "js",
        "svg",
        "pinfo",
        "pinfo2",
        "psearch",
        "timeit",
        "time",
    }
)
#: magics after which names may exist that no cell's code shows (``%run`` executes a script in
#: the namespace, ``%store -r`` restores variables, ``%load`` pastes a file into the cell)
DEFINING_MAGICS = frozenset({"run", "store", "load", "loadpy", "ed", "edit", "recall"})
#: magics that change the environment or the process state the cells run in
STATE_MAGICS = frozenset({"pip", "conda", "mamba", "cd", "env", "set_env"})

SEED_CALLS = {
    "random.seed": "random",
    "random.Random": "random",
    "numpy.random.seed": "numpy",
    "numpy.random.default_rng": "numpy",
    "numpy.random.RandomState": "numpy",
    "numpy.random.Generator": "numpy",
    "torch.manual_seed": "torch",
    "torch.cuda.manual_seed": "torch",
    "torch.cuda.manual_seed_all": "torch",
    "torch.random.manual_seed": "torch",
    "tensorflow.random.set_seed": "tensorflow",
    "keras.utils.set_random_seed": "tensorflow",
    "transformers.set_seed": "transformers",
    "lightning.seed_everything": "torch",
    "pytorch_lightning.seed_everything": "torch",
    "jax.random.PRNGKey": "jax",
    "jax.random.key": "jax",
}
"""Calls that seed a random number generator (dotted names after import aliases are resolved),
and the library whose global state they set."""

CONVENTIONAL_ALIASES = {
    "np": "numpy",
    "pd": "pandas",
    "tf": "tensorflow",
    "pl": "pytorch_lightning",
}
"""Import aliases assumed when the cell itself does not import the name (``np.random.seed``
in a cell after ``import numpy as np``)."""

SEED_KEYWORDS = frozenset({"random_state", "seed"})
"""Keyword arguments that carry a seed (scikit-learn's ``random_state=``, ``seed=``)."""

#: modules whose global generator a bare seeding call sets (``np.random.seed(0)``)
GLOBAL_SEEDERS = frozenset(
    {
        "random.seed",
        "numpy.random.seed",
        "torch.manual_seed",
        "torch.cuda.manual_seed",
        "torch.cuda.manual_seed_all",
        "torch.random.manual_seed",
        "tensorflow.random.set_seed",
        "keras.utils.set_random_seed",
        "transformers.set_seed",
        "lightning.seed_everything",
        "pytorch_lightning.seed_everything",
    }
)
_GLOBAL_SUFFIXES = (
    ".random.seed",
    ".manual_seed",
    ".manual_seed_all",
    ".set_seed",
    "seed_everything",
)


def resolve(name: str, imports: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> str:
    """``np.random.seed`` -> ``numpy.random.seed`` through ``imports`` (alias, target), later
    imports winning, else :data:`CONVENTIONAL_ALIASES`."""
    root, _, rest = name.partition(".")
    target = None
    for alias, imported in reversed(imports):
        if alias == root:
            target = imported
            break
    if target is None:
        target = CONVENTIONAL_ALIASES.get(root)
    if target is None:
        return name
    return f"{target}.{rest}" if rest else target


def is_seed_call(resolved: str) -> bool:
    """A call that seeds a generator (by resolved name, or by the name's usual ending)."""
    return resolved in SEED_CALLS or resolved.endswith(_GLOBAL_SUFFIXES)


def is_global_seeder(resolved: str) -> bool:
    """A call that seeds a library's global generator."""
    return resolved in GLOBAL_SEEDERS or resolved.endswith(_GLOBAL_SUFFIXES)


SEED_STATE_PREFIX = "@seed:"
"""Pseudo-name a global seeding call binds, after the alias it was called through
(``@seed:np``): the lineage keeps the last seeding of every library the run's cells import."""

READ_ONLY_METHODS = frozenset(
    """head tail describe info sample show plot hist boxplot scatter bar summary value_counts
    nunique unique isna isnull notna count mean sum max min std var median mode quantile corr
    cov keys values items get copy print display to_csv to_json to_parquet to_pickle to_excel
    to_string to_markdown to_html savefig imshow legend title xlabel ylabel grid tight_layout
    figure subplots memory_usage duplicated any all round abs idxmax idxmin argmax argmin
    predict predict_proba score transform decision_function evaluate tolist to_numpy numpy
    item __repr__ __str__ format join split strip lower upper startswith endswith""".split()
)
"""Methods that read an object: a statement calling one (``df.head()``) does not mutate it
(unless it passes ``inplace=``). Any other method called as a statement counts as a mutation."""

DYNAMIC_CALLS = frozenset({"exec", "eval", "globals", "vars", "locals", "__import__"})

MAX_PATH_STRINGS = 20


@dataclass(frozen=True)
class Seed:
    """A seed found in a cell: ``call`` is the seeding function (dotted, as written) or the
    keyword (``random_state``); ``value`` a literal, or ``name`` the variable passed."""

    call: str
    value: Any = None
    name: str | None = None
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"call": self.call, "value": self.value, "name": self.name, "line": self.line}


@dataclass(frozen=True)
class CellFacts:
    """What one cell binds, may bind, mutates and reads (global names), and what it hides."""

    defines: frozenset[str] = frozenset()
    maybe_defines: frozenset[str] = frozenset()
    modifies: frozenset[str] = frozenset()
    uses: frozenset[str] = frozenset()
    optional_uses: frozenset[str] = frozenset()
    """Uses read only after a branch of the cell may have bound them (an earlier binding is
    then not required)."""
    deferred: tuple[tuple[str, frozenset[str]], ...] = ()
    """(function or class, the global names its body reads when called): a cell that uses the
    function needs those names as they are where it is called."""
    imports: tuple[tuple[str, str], ...] = ()
    """(alias, dotted module or object) in the order bound."""
    star_imports: tuple[str, ...] = ()
    magics: tuple[str, ...] = ()
    """Magics and shell commands, as the user wrote them (``%run prep.py``, ``!pip install x``)."""
    dynamic: tuple[str, ...] = ()
    """Calls that define or read names the analysis cannot see (``exec``, ``globals``)."""
    seeds: tuple[Seed, ...] = ()
    literals: tuple[tuple[str, Any], ...] = ()
    """Top-level ``NAME = literal`` assignments (a seed passed as ``SEED`` is read from here)."""
    strings: tuple[str, ...] = ()
    """String constants that may name files (checked against the disk when a run starts)."""
    error: str | None = None
    """Why the code could not be parsed (the cell then binds and reads nothing known)."""
    dotted_calls: frozenset[str] = frozenset()
    """Dotted names of the functions the cell calls (``np.random.rand``), as written."""

    @property
    def binds(self) -> frozenset[str]:
        """Every name the cell binds, may bind or modifies."""
        return self.defines | self.maybe_defines | self.modifies

    @property
    def hides_names(self) -> bool:
        """True when names may appear that the code does not show (star-import, ``%run``...)."""
        return bool(self.star_imports or self.dynamic) or any(
            _magic_name(m) in DEFINING_MAGICS for m in self.magics
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "defines": sorted(self.defines),
            "maybe_defines": sorted(self.maybe_defines),
            "modifies": sorted(self.modifies),
            "uses": sorted(self.uses),
            "deferred": {k: sorted(v) for k, v in self.deferred},
            "star_imports": list(self.star_imports),
            "magics": list(self.magics),
            "dynamic": list(self.dynamic),
            "seeds": [s.to_dict() for s in self.seeds],
        }


def _magic_name(text: str) -> str:
    """``%run x.py`` -> ``run``; ``!pip install`` -> ``!pip``; ``%%bash`` -> ``bash``."""
    if text.startswith("!"):
        word = text[1:].split(None, 1)
        return "!" + (word[0] if word else "")
    return text.lstrip("%").split(None, 1)[0] if text.strip("%") else ""


# ------------------------------------------------------------------------------- helpers


def dotted(node: ast.AST) -> str | None:
    """``np.random.seed`` for the expression ``np.random.seed``; None for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _root_name(node: ast.AST) -> str | None:
    """The variable an attribute/subscript chain starts from (``df`` in ``df.loc[0].x``)."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _literal(node: ast.AST | None) -> tuple[bool, Any]:
    if node is None:
        return False, None
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None
    if isinstance(value, (int, float, str, bool)) or value is None:
        return True, value
    return False, None


def _is_ipython_call(node: ast.AST) -> str | None:
    """``run_line_magic`` for ``get_ipython().run_line_magic(...)``, else None."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Call)
        and isinstance(node.func.value.func, ast.Name)
        and node.func.value.func.id == "get_ipython"
    ):
        return node.func.attr
    return None


def _const_args(node: ast.Call) -> list[str]:
    return [
        a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else ""
        for a in node.args
    ]


def _path_like(text: str) -> bool:
    return 0 < len(text) < 512 and "\n" not in text and ("/" in text or "." in text)


# ------------------------------------------------------------------------------ scopes


class _Scope:
    """Names a nested scope (function, lambda, class, comprehension) binds and reads."""

    __slots__ = ("globals", "kind", "loads", "nonlocals", "params", "stores")

    def __init__(self, kind: str):
        self.kind = kind
        self.stores: set[str] = set()
        self.loads: set[str] = set()
        self.globals: set[str] = set()
        self.nonlocals: set[str] = set()
        self.params: set[str] = set()


class _Analyzer:
    """Walks one cell. Module-level statements are followed in order (what is bound before a
    read); nested scopes report their free names to the module level."""

    def __init__(self) -> None:
        self.defines: set[str] = set()
        self.maybe: set[str] = set()
        self.modifies: set[str] = set()
        self.uses: set[str] = set()
        self.imports: list[tuple[str, str]] = []
        self.import_names: set[str] = set()
        self.star: list[str] = []
        self.magics: list[str] = []
        self.dynamic: list[str] = []
        self.seeds: list[Seed] = []
        self.literals: dict[str, Any] = {}
        self.strings: list[str] = []
        self.calls: set[str] = set()
        self.global_writes: set[str] = set()
        self._scopes: list[_Scope] = []
        # module level: names bound for sure so far, and whether we are in a branch
        self._bound: set[str] = set()
        self._branch = 0
        self._walrus_names: list[str] = []
        self._seed_states: set[str] = set()
        self.deferred: dict[str, set[str]] = {}
        self.loaded: set[str] = set()
        self.hard_uses: set[str] = set()
        self._calling: set[str] = set()

    # -------------------------------------------------------------------- module level

    def module(self, tree: ast.Module) -> None:
        self._block(tree.body, self._bound)
        self.maybe |= self.global_writes - self.defines

    def _block(self, stmts: list[ast.stmt], bound: set[str]) -> set[str]:
        """Statements in order; ``bound`` is updated in place and returned."""
        for stmt in stmts:
            self._stmt(stmt, bound)
        return bound

    def _bind(self, name: str, bound: set[str]) -> None:
        if self._branch:
            self.maybe.add(name)
        else:
            self.defines.add(name)
        bound.add(name)

    def _read(self, name: str, bound: set[str]) -> None:
        self.loaded.add(name)
        if name not in bound:
            self.uses.add(name)
            if name not in self.maybe:  # not even bound in a branch before: a hard read
                self.hard_uses.add(name)
        later = self.deferred.get(name)
        if later and name not in self._calling:  # a function of this cell, called here
            self._calling.add(name)
            try:
                for free in later:
                    self._read(free, bound)
            finally:
                self._calling.discard(name)

    def _modify(self, name: str | None, bound: set[str]) -> None:
        if name is None:
            return
        self._read(name, bound)
        self.modifies.add(name)

    def _expr(self, node: ast.AST | None, bound: set[str]) -> None:
        """Reads of an expression evaluated at module level (nested scopes included)."""
        if node is None:
            return
        before = len(self._scopes)
        for name, is_store in self._names(node):
            if is_store:  # a walrus at module level
                self._bind(name, bound)
            else:
                self._read(name, bound)
        assert len(self._scopes) == before

    def _target(self, target: ast.AST, bound: set[str]) -> None:
        if isinstance(target, ast.Name):
            self._bind(target.id, bound)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._target(element, bound)
        elif isinstance(target, ast.Starred):
            self._target(target.value, bound)
        elif isinstance(target, (ast.Attribute, ast.Subscript)):
            # x.a = v / x[i] = v: reads the index expressions, mutates x
            self._expr(target.value, bound)
            if isinstance(target, ast.Subscript):
                self._expr(target.slice, bound)
            self._modify(_root_name(target), bound)

    def _branch_block(self, stmts: list[ast.stmt], bound: set[str]) -> set[str]:
        self._branch += 1
        try:
            return self._block(stmts, set(bound))
        finally:
            self._branch -= 1

    def _stmt(self, node: ast.stmt, bound: set[str]) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for decorator in node.decorator_list:
                self._expr(decorator, bound)
            if isinstance(node, ast.ClassDef):
                for base in [*node.bases, *(k.value for k in node.keywords)]:
                    self._expr(base, bound)
                free, later = self._class_free(node)
                for name in free - {node.name}:  # the class body runs now
                    self._read(name, bound)
            else:
                self._arguments_outer(node.args, bound)
                self._expr(node.returns, bound)
                later = self._function_free(node.args, node.body)
            # what the body reads is looked up when it is called
            self.deferred[node.name] = later - {node.name}
            self._bind(node.name, bound)
        elif (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Lambda)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):  # f = lambda x: x * scale: like a def
            self._arguments_outer(node.value.args, bound)
            name = node.targets[0].id
            self.deferred[name] = self._function_free(node.value.args, node.value.body) - {name}
            self._bind(name, bound)
        elif isinstance(node, ast.Assign):
            self._expr(node.value, bound)
            for target in node.targets:
                self._target(target, bound)
            if (
                len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and not self._branch
            ):
                ok, value = _literal(node.value)
                if ok:
                    self.literals[node.targets[0].id] = value
        elif isinstance(node, ast.AugAssign):
            self._expr(node.value, bound)
            if isinstance(node.target, ast.Name):
                self._read(node.target.id, bound)
                self._bind(node.target.id, bound)
            else:
                self._target(node.target, bound)
        elif isinstance(node, ast.AnnAssign):
            self._expr(node.annotation, bound)
            if node.value is not None:
                self._expr(node.value, bound)
                self._target(node.target, bound)
                if isinstance(node.target, ast.Name) and not self._branch:
                    ok, value = _literal(node.value)
                    if ok:
                        self.literals[node.target.id] = value
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            self._import(node, bound)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            self._expr(node.iter, bound)
            self._branch += 1
            try:
                inner = set(bound)
                self._target(node.target, inner)
                self._block(node.body, inner)
                self._block(node.orelse, set(bound))
            finally:
                self._branch -= 1
        elif isinstance(node, ast.While):
            self._expr(node.test, bound)
            self._branch_block(node.body, bound)
            self._branch_block(node.orelse, bound)
        elif isinstance(node, ast.If):
            self._expr(node.test, bound)
            # a name bound by both branches is bound for sure
            self._branch += 1
            try:
                first = self._block(node.body, set(bound))
                second = self._block(node.orelse, set(bound))
            finally:
                self._branch -= 1
            for name in (first & second) - bound:
                self._bind(name, bound)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                self._expr(item.context_expr, bound)
                if item.optional_vars is not None:
                    self._target(item.optional_vars, bound)
            self._block(node.body, bound)
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            try_node: Any = node
            body = self._branch_block(try_node.body, bound)
            outcomes = [self._branch_block(try_node.orelse, body)]
            for handler in try_node.handlers:
                self._expr(handler.type, bound)
                inner = set(bound)
                if handler.name:
                    self._branch += 1
                    self._bind(handler.name, inner)
                    self._branch -= 1
                outcomes.append(self._branch_block(handler.body, inner))
            for name in set.intersection(*outcomes) - bound:
                self._bind(name, bound)
            self._block(try_node.finalbody, bound)
        elif isinstance(node, ast.Match):
            self._expr(node.subject, bound)
            self._branch += 1
            try:
                for case in node.cases:
                    inner = set(bound)
                    for name, is_store in self._names(case.pattern):
                        if is_store:
                            self._bind(name, inner)
                        else:
                            self._read(name, inner)
                    self._expr(case.guard, inner)
                    self._block(case.body, inner)
            finally:
                self._branch -= 1
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    self._read(target.id, bound)
                    self.modifies.add(target.id)
                    bound.discard(target.id)
                else:
                    self._target(target, bound)
        elif isinstance(node, ast.Expr):
            self._expr(node.value, bound)
            call = node.value
            if isinstance(call, ast.Await):
                call = call.value
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and _is_ipython_call(call) is None
                and (
                    call.func.attr not in READ_ONLY_METHODS
                    or any(k.arg == "inplace" for k in call.keywords)
                )
            ):
                # `model.fit(X)`, `df.dropna(inplace=True)`, `items.append(x)`: a method called
                # for its effect mutates the object it belongs to
                self._modify(_root_name(call.func.value), bound)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            return
        else:  # Return, Raise, Assert, Pass, Break, Continue ...
            for child in ast.iter_child_nodes(node):
                self._expr(child, bound)

    def _arguments_outer(self, args: ast.arguments, bound: set[str]) -> None:
        """Defaults and annotations are evaluated where the function is defined."""
        for default in [*args.defaults, *(d for d in args.kw_defaults if d is not None)]:
            self._expr(default, bound)
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if arg is not None and arg.annotation is not None:
                self._expr(arg.annotation, bound)

    def _import(self, node: ast.Import | ast.ImportFrom, bound: set[str]) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.asname or alias.name.split(".", 1)[0]
                target = alias.name if alias.asname else name
                self.imports.append((name, target))
                self.import_names.add(name)
                self._bind(name, bound)
            return
        module = ("." * node.level) + (node.module or "")
        for alias in node.names:
            if alias.name == "*":
                self.star.append(module)
                continue
            name = alias.asname or alias.name
            self.imports.append((name, f"{module}.{alias.name}"))
            self.import_names.add(name)
            self._bind(name, bound)

    # ------------------------------------------------------------------- nested scopes

    def _function_free(self, args: ast.arguments, body: list[ast.stmt] | ast.expr) -> set[str]:
        """Global names a function (or lambda) body reads; ``global`` writes are recorded."""
        scope = _Scope("function")
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if arg is not None:
                scope.params.add(arg.arg)
        self._scopes.append(scope)
        try:
            nodes = body if isinstance(body, list) else [body]
            for stmt in nodes:
                self._scan(stmt, scope)
        finally:
            self._scopes.pop()
        local = (scope.stores | scope.params) - scope.globals - scope.nonlocals
        self.global_writes |= scope.stores & scope.globals
        return (scope.loads - local) | (scope.loads & scope.globals)

    def _class_free(self, node: ast.ClassDef) -> tuple[set[str], set[str]]:
        """(names the class body reads when it runs, names its methods read when called)."""
        scope = _Scope("class")
        self._scopes.append(scope)
        free: set[str] = set()
        later: set[str] = set()
        try:
            for stmt in node.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    for child in [*stmt.decorator_list, *stmt.args.defaults]:
                        before = set(scope.stores)
                        self._scan(child, scope)
                        free |= scope.loads - before
                    scope.stores.add(stmt.name)
                    later |= self._function_free(stmt.args, stmt.body)
                    continue
                before = set(scope.stores)
                loads_before = set(scope.loads)
                self._scan(stmt, scope)
                # a class body reads names not bound earlier in the class body
                free |= (scope.loads - loads_before) - before
        finally:
            self._scopes.pop()
        self.global_writes |= scope.stores & scope.globals
        return free, later

    def _comprehension_free(self, node: ast.AST, enclosing: _Scope) -> set[str]:
        """Free names of a comprehension; its first iterable is read by the enclosing scope."""
        generators: list[ast.comprehension] = node.generators  # type: ignore[attr-defined]
        self._scan(generators[0].iter, enclosing)
        scope = _Scope("comprehension")
        self._scopes.append(scope)
        try:
            for index, gen in enumerate(generators):
                if index:
                    self._scan(gen.iter, scope)
                self._scan_target(gen.target, scope)
                for cond in gen.ifs:
                    self._scan(cond, scope)
            for part in ("elt", "key", "value"):
                child = getattr(node, part, None)
                if child is not None:
                    self._scan(child, scope)
        finally:
            self._scopes.pop()
        return scope.loads - scope.stores

    def _scan_target(self, target: ast.AST, scope: _Scope) -> None:
        for child in ast.walk(target):
            if isinstance(child, ast.Name):
                scope.stores.add(child.id)

    def _scan(self, node: ast.AST, scope: _Scope) -> None:
        """Collect the names a nested scope binds and reads (recursing into inner scopes)."""
        self._note_call(node)
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                scope.loads.add(node.id)
            else:
                scope.stores.add(node.id)
                if isinstance(node.ctx, ast.Del):
                    scope.loads.add(node.id)
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in node.decorator_list:
                self._scan(decorator, scope)
            for default in [*node.args.defaults, *(d for d in node.args.kw_defaults if d)]:
                self._scan(default, scope)
            scope.stores.add(node.name)
            scope.loads |= self._function_free(node.args, node.body)
            return
        if isinstance(node, ast.Lambda):
            for default in [*node.args.defaults, *(d for d in node.args.kw_defaults if d)]:
                self._scan(default, scope)
            scope.loads |= self._function_free(node.args, node.body)
            return
        if isinstance(node, ast.ClassDef):
            for child in [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]:
                self._scan(child, scope)
            scope.stores.add(node.name)
            free, later = self._class_free(node)
            scope.loads |= free | later
            return
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            scope.loads |= self._comprehension_free(node, scope)
            return
        if isinstance(node, ast.Global):
            scope.globals.update(node.names)
            return
        if isinstance(node, ast.Nonlocal):
            scope.nonlocals.update(node.names)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    scope.stores.add(alias.asname or alias.name.split(".", 1)[0])
            return
        if isinstance(node, ast.ExceptHandler) and node.name:
            scope.stores.add(node.name)
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            scope.loads.add(node.target.id)
        if isinstance(node, ast.NamedExpr) and scope.kind == "comprehension":
            # a walrus in a comprehension binds in the enclosing function or module
            self._walrus_out(node.target.id)
            self._scan(node.value, scope)
            return
        if isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            scope.stores.add(node.name)
        if isinstance(node, ast.MatchMapping) and node.rest:
            scope.stores.add(node.rest)
        for child in ast.iter_child_nodes(node):
            self._scan(child, scope)

    def _walrus_out(self, name: str) -> None:
        for scope in reversed(self._scopes):
            if scope.kind in ("function", "outer"):
                scope.stores.add(name)
                return
        self._walrus_names.append(name)

    # ------------------------------------------------------------------- module reads

    def _names(self, node: ast.AST) -> list[tuple[str, bool]]:
        """(name, is_store) of a module-level expression; nested scopes give their free names."""
        scope = _Scope("outer")
        self._walrus_names = []
        self._scopes.append(scope)
        try:
            self._scan(node, scope)
        finally:
            self._scopes.pop()
        found = [(name, False) for name in scope.loads]
        found += [(name, True) for name in scope.stores]
        found += [(name, True) for name in self._walrus_names]
        return found

    # -------------------------------------------------------------- calls, magics, seeds

    def _note_call(self, node: ast.AST) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            if (
                len(self.strings) < MAX_PATH_STRINGS
                and _path_like(text)
                and text not in self.strings
            ):
                self.strings.append(text)
            return
        if not isinstance(node, ast.Call):
            return
        kind = _is_ipython_call(node)
        if kind is not None:
            self._magic(kind, node)
            return
        name = dotted(node.func)
        seeding = False
        if name is not None:
            self.calls.add(name)
            if name in DYNAMIC_CALLS:
                self.dynamic.append(f"{name}()")
            seeding = is_seed_call(self._resolve(name))
            if seeding:
                self._seed(name, node.args[0] if node.args else None, node)
                for keyword in node.keywords:
                    if keyword.arg in SEED_KEYWORDS:
                        self._seed(name, keyword.value, node)
        for keyword in node.keywords:
            if keyword.arg in SEED_KEYWORDS and not seeding:
                self._seed(keyword.arg, keyword.value, node)

    def _resolve(self, name: str) -> str:
        """The dotted name with import aliases of this cell (or the usual ones) resolved."""
        return resolve(name, self.imports)

    def _seed(self, call: str, value_node: ast.AST | None, node: ast.Call) -> None:
        line = getattr(node, "lineno", None)
        if is_global_seeder(self._resolve(call)) and all(s.kind == "outer" for s in self._scopes):
            # run when the cell runs (not inside a function): sets the library's global state,
            # named by the alias as written (`np` in `np.random.seed(0)`)
            self._seed_states.add(SEED_STATE_PREFIX + call.split(".", 1)[0])
        ok, value = _literal(value_node)
        if ok and value is not None:
            self.seeds.append(Seed(call, value=value, line=line))
        elif isinstance(value_node, ast.Name):
            self.seeds.append(Seed(call, name=value_node.id, line=line))

    def _magic(self, kind: str, node: ast.Call) -> None:
        """A magic or shell command (IPython turned it into a ``get_ipython()`` call)."""
        args = _const_args(node)
        if kind == "run_line_magic" and args:
            magic, line = args[0], args[1] if len(args) > 1 else ""
            if magic in PYTHON_LINE_MAGICS:
                self._inline_code(line)
            if magic not in QUIET_MAGICS:
                self.magics.append(f"%{magic} {line}".rstrip())
        elif kind == "run_cell_magic" and args:
            magic = args[0]
            line = args[1] if len(args) > 1 else ""
            body = args[2] if len(args) > 2 else ""
            if magic in PYTHON_CELL_MAGICS:
                self._inline_code(body)
            if magic != "track":
                self.magics.append(f"%%{magic} {line}".rstrip())
        elif kind in ("system", "getoutput") and args:
            self.magics.append(f"!{args[0]}")

    def _inline_code(self, code: str) -> None:
        """Code a magic runs in the user namespace (``%time x = f()``, a ``%%time`` body)."""
        facts = analyze(code)
        if facts.error is not None:
            return
        self.uses |= facts.uses - self._bound
        self.hard_uses |= (facts.uses - facts.optional_uses) - self._bound
        if self._branch:
            self.maybe |= facts.binds
        else:
            self.defines |= facts.defines
            self.maybe |= facts.maybe_defines
            self.modifies |= facts.modifies
        self._bound |= facts.defines
        self.imports.extend(facts.imports)
        for name, later in facts.deferred:
            self.deferred[name] = set(later)
        self.star.extend(facts.star_imports)
        self.magics.extend(facts.magics)
        self.dynamic.extend(facts.dynamic)
        self.seeds.extend(facts.seeds)
        self.literals.update(facts.literals)
        self.strings.extend(s for s in facts.strings if s not in self.strings)
        self.calls |= facts.dotted_calls

    # ----------------------------------------------------------------------- result

    def facts(self) -> CellFacts:
        # a global seeding call binds the library's seed state (@seed:numpy)
        defines = frozenset(self.defines | self._seed_states)
        seeds = list(self.seeds)
        uses = set(self.uses)
        return CellFacts(
            defines=defines,
            maybe_defines=frozenset(self.maybe - self.defines),
            modifies=frozenset(self.modifies - self.defines - self.import_names),
            uses=frozenset(uses),
            optional_uses=frozenset(uses - self.hard_uses),
            deferred=tuple((k, frozenset(v)) for k, v in sorted(self.deferred.items())),
            imports=tuple(self.imports),
            star_imports=tuple(self.star),
            magics=tuple(self.magics),
            dynamic=tuple(dict.fromkeys(self.dynamic)),
            seeds=tuple(seeds),
            literals=tuple(self.literals.items()),
            strings=tuple(self.strings[:MAX_PATH_STRINGS]),
            dotted_calls=frozenset(self.calls),
        )


# --------------------------------------------------------------------------------- API

_cache: dict[str, CellFacts] = {}
MAX_CACHE = 4096


def analyze(source: str | ast.Module) -> CellFacts:
    """The facts of one cell's code (IPython-transformed Python, or its parse tree).

    Code that does not parse gives facts with ``error`` set and nothing bound or read.
    Results for source text are cached (a cell run again is a dict lookup).
    """
    if isinstance(source, ast.Module):
        return _analyze_tree(source)
    key = hashlib.blake2b(source.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    cached = _cache.get(key)
    if cached is not None:
        return cached
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        facts = CellFacts(error=f"{type(exc).__name__}: {exc}")
    else:
        facts = _analyze_tree(tree)
    if len(_cache) >= MAX_CACHE:
        _cache.clear()
    _cache[key] = facts
    return facts


def _analyze_tree(tree: ast.Module) -> CellFacts:
    analyzer = _Analyzer()
    try:
        analyzer.module(tree)
    except RecursionError as exc:  # absurdly deep code: say so rather than fail the cell
        return CellFacts(error=f"RecursionError: {exc}")
    return analyzer.facts()
