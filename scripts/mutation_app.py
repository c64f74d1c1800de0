"""Incremental mutation testing of the app: mutmut 3.8.1 over app/onedigest_app, gated.

scripts/mutation.sh runs this with the project's .venv. Every mutant's result is committed in
app/mutmut-results.json together with what it was computed from; a run tests again only the
mutants whose result may differ now, and takes every other result from that file:

  - every mutant, when the environment the tests run in changed (Python, installed packages,
    the non-test files mutmut copies next to the tests: conftest.py, wsgi.py, gunicorn.conf.py,
    pyproject.toml's [tool.mutmut] and [tool.pytest] tables), when there is no committed result,
    or with --force;
  - a function's mutants, when the function changed (mutmut's own hash of its syntax tree, so a
    comment or formatting change is not a change), when it is new, or when its last result was
    neither killed nor survived (a timeout, suspicious, …);
  - a function's mutants, when its module changed outside the mutated functions (imports,
    constants, class bodies, functions mutmut does not mutate), or a module it imports did: the
    function reads those names;
  - a function's mutants, when a test that covers it changed or went away, or a changed or new
    test covers it now. "Covers" is mutmut's own record of which tests reach a function (the
    tests mutmut runs for its mutants); a test's hash is its definition plus everything else in
    its module (helpers, fixtures, constants) plus the test modules it imports from.

Those are the inputs of a mutant's result: its function and module, the tests mutmut runs for
it, and the environment. What is not tracked: an edit to one function that changes the result
of another function's mutants through a call (a caller's mutant that a changed callee now hides),
so an edit re-tests exactly the edited function's mutants; `--force` re-tests everything.

  python scripts/mutation_app.py            what the suite runs: reads app/mutmut-results.json,
                                            never writes a file in the repository
  python scripts/mutation_app.py --update   the same, then rewrites app/mutmut-results.json
  python scripts/mutation_app.py --force    every mutant again, then rewrites the file

mutmut runs in a copy of the app in a temporary directory. The gate: at least MIN_SCORE % of all
mutants killed (old results and new; timeouts and suspicious ones are not killed), and every
survivor listed in app/mutmut-survivors.txt with its reason. Ends with
"mutation: N passed, N failed".
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

FORMAT = 1
MUTMUT_VERSION = "3.8.1"
RESULTS = "mutmut-results.json"
SURVIVORS = "mutmut-survivors.txt"
# The results a later run may take as they are; any other (timeout, suspicious, …) runs again.
REUSABLE_EXIT_CODES = {"killed": 1, "survived": 0}
# Installed packages that never change a test's outcome (they differ with each venv's pip).
IGNORED_PACKAGES = {"pip", "setuptools", "wheel"}
# What the copy of the app leaves out: caches and mutmut's own working files.
IGNORED_NAMES = {"mutants", "__pycache__", ".pytest_cache", ".ruff_cache", "mutmut.log"}
TEST_MODULE = re.compile(r"(^|/)(test_[^/]*|[^/]*_test)\.py$")


def digest(data: str | bytes) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()[:16]


def test_key(nodeid: str) -> str:
    """The test a pytest node id belongs to: `tests/t.py::test_y[a-b]` -> `tests/t.py::test_y`."""
    return nodeid.split("[", 1)[0]


def mutant_function(mutant: str) -> str:
    return mutant.partition("__mutmut_")[0]


def mutant_number(mutant: str) -> str:
    return mutant.rpartition("__mutmut_")[2]


# ---------------------------------------------------------------------------------------------
# What a result is computed from, read from the sources (pure functions of file contents)


def module_name(path: str) -> str:
    """`onedigest_app/settings.py` -> `onedigest_app.settings`; `__init__.py` is its package."""
    parts = path[: -len(".py")].split("/")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def module_frame(source: str, mutated: set[str]) -> str:
    """Hash of a module without the functions mutmut mutates (keys as mutmut mangles them:
    `x_name`, `xǁClassǁname`): its imports, constants, class bodies and every other function."""
    tree = ast.parse(source)

    def strip(body: list[ast.stmt], class_name: str) -> list[ast.stmt]:
        kept = []
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                key = f"xǁ{class_name}ǁ{node.name}" if class_name else f"x_{node.name}"
                if key in mutated:
                    continue
            elif isinstance(node, ast.ClassDef):
                node.body = strip(
                    node.body, f"{class_name}.{node.name}" if class_name else node.name
                )
            kept.append(node)
        return kept

    tree.body = strip(tree.body, "")
    return digest(ast.dump(tree, annotate_fields=False))


def imported_modules(path: str, source: str, known: set[str]) -> set[str]:
    """The modules among `known` that the module at `path` imports, wherever the import is."""
    package = (
        module_name(path) if path.endswith("__init__.py") else module_name(path).rpartition(".")[0]
    )
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        candidates: list[str] = []
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                if node.level > len(parts):  # above the top package: Python refuses it too
                    continue
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            candidates = [target] + [f"{target}.{alias.name}" for alias in node.names]
        for name in candidates:
            # `import a.b.c` imports a, a.b and a.b.c
            parts = name.split(".")
            found |= {".".join(parts[: i + 1]) for i in range(len(parts))} & known
    found.discard(module_name(path))
    return found


def test_definitions(tree: ast.Module) -> list[tuple[str, ast.AST, list[ast.stmt], int]]:
    """(`Class::name` or `name`, node, the body holding it, index) for every test pytest collects
    by its default rules: functions `test*`, and methods `test*` of classes `Test*`."""
    found = []

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for index, node in enumerate(body):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
                "test"
            ):
                found.append((prefix + node.name, node, body, index))
            elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                visit(node.body, f"{prefix}{node.name}::")

    visit(tree.body, "")
    return found


def names_used(tree: ast.Module) -> set[str]:
    """Every name a module refers to: variables, attributes and names it imports."""
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            used.add(node.id)
        elif isinstance(node, ast.Attribute):
            used.add(node.attr)
        elif isinstance(node, ast.alias):
            used.add(node.name.rpartition(".")[2])
    return used


def test_hashes(root: Path, test_files: list[str]) -> dict[str, str]:
    """`tests/test_x.py::test_y` -> hash of the test's definition and of what it shares: the rest
    of its module (helpers, fixtures, constants, and any test something there refers to by
    name), and the same of each test module it imports from, with the tests it names there.
    A module that does not parse counts as one test: `tests/test_x.py`."""
    sources = {path: (root / path).read_text() for path in test_files}
    modules = {module_name(path): path for path in test_files}
    trees: dict[str, ast.Module] = {}
    for path, source in sources.items():
        with contextlib.suppress(SyntaxError):
            trees[path] = ast.parse(source)
    own: dict[str, dict[str, str]] = {}
    local: dict[str, str] = {}
    for path, tree in trees.items():
        tests = test_definitions(tree)
        used = names_used(tree)
        own[path] = {
            name: digest(ast.dump(node, annotate_fields=False)) for name, node, _, _ in tests
        }
        frame = copy.deepcopy(tree)
        for name, node, _, _ in tests:
            if node.name in used:  # another part of the module uses it: it stays shared
                continue
            for other, _, body, index in test_definitions(frame):
                if other == name:
                    del body[index]
                    break
        local[path] = digest(ast.dump(frame, annotate_fields=False))
    shared: dict[str, str] = {}

    def shared_hash(path: str, visiting: tuple[str, ...] = ()) -> str:
        if path not in trees:
            return digest(sources[path])
        if path in visiting:  # an import cycle: its modules are in the hash already
            return ""
        if path not in shared:
            used = names_used(trees[path])
            parts = [local[path]]
            for name in sorted(imported_modules(path, sources[path], set(modules))):
                other = modules[name]
                parts.append(shared_hash(other, (*visiting, path)))
                parts += [
                    h
                    for test, h in sorted(own.get(other, {}).items())
                    if test.split("::")[-1] in used
                ]
            shared[path] = digest("".join(parts))
        return shared[path]

    hashes: dict[str, str] = {}
    for path in test_files:
        if path not in trees:
            hashes[path] = shared_hash(path)
        for name, h in own.get(path, {}).items():
            hashes[f"{path}::{name}"] = digest(h + shared_hash(path))
    return hashes


def pyproject_tables(text: str) -> dict[str, str]:
    """The parts of pyproject.toml a mutmut run reads: [tool.mutmut] and pytest's [tool.pytest*]."""
    tool = tomllib.loads(text).get("tool", {})
    return {
        f"pyproject.toml [tool.{name}]": digest(json.dumps(tool.get(name), sort_keys=True))
        for name in ("mutmut", "pytest")
    }


def installed_packages() -> dict[str, str]:
    return {
        dist.metadata["Name"].lower(): dist.version
        for dist in sorted(
            importlib.metadata.distributions(), key=lambda d: d.metadata["Name"].lower()
        )
        if dist.metadata["Name"].lower() not in IGNORED_PACKAGES
    }


# ---------------------------------------------------------------------------------------------
# The decision


@dataclass
class Facts:
    """What results are computed from, as it is now (or as it was, read from the results file)."""

    environment: dict
    modules: dict[str, str]  # source path -> frame hash
    functions: dict[str, str]  # function -> mutmut's hash of it
    function_module: dict[str, str]  # function -> source path
    imports: dict[str, set[str]]  # source path -> source paths it imports
    mutants: list[str]
    tests: dict[str, str]  # test -> hash


@dataclass
class Committed:
    environment: dict = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)
    tests: dict[str, str] = field(default_factory=dict)
    functions: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> Committed | None:
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        if data.get("format") != FORMAT:
            return None
        return cls(data["environment"], data["modules"], data["tests"], data["functions"])

    def status(self, mutant: str) -> str | None:
        return (
            self.functions.get(mutant_function(mutant), {})
            .get("mutants", {})
            .get(mutant_number(mutant))
        )

    def covering(self, function: str) -> list[str]:
        return self.functions.get(function, {}).get("tests", [])


def environment_changes(old: Mapping, new: Mapping) -> list[str]:
    changes = []
    if old.get("python") != new.get("python"):
        changes.append(f"{old.get('python')} -> {new.get('python')}")
    old_packages, new_packages = old.get("packages", {}), new.get("packages", {})
    for name in sorted(old_packages.keys() | new_packages.keys()):
        if old_packages.get(name) != new_packages.get(name):
            changes.append(
                f"{name} {old_packages.get(name, 'absent')} -> {new_packages.get(name, 'absent')}"
            )
    old_files, new_files = old.get("files", {}), new.get("files", {})
    changes += [
        name
        for name in sorted(old_files.keys() | new_files.keys())
        if old_files.get(name) != new_files.get(name)
    ]
    return changes


def changed_tests(committed: Committed, now: Mapping[str, str]) -> tuple[set[str], set[str]]:
    """(tests changed or gone since the results were written, tests that are new)."""
    changed = {test for test, old in committed.tests.items() if now.get(test) != old}
    return changed, set(now) - set(committed.tests)


def plan(
    committed: Committed | None,
    facts: Facts,
    fresh_covering: Mapping[str, set[str]] | None = None,
    force: bool = False,
) -> dict[str, str]:
    """Mutant -> why it runs again; a mutant not in the answer keeps its committed result.

    fresh_covering (function -> the tests covering it now, from a fresh mutmut stats run) is
    needed only when tests were changed or added (needs_fresh_covering): it finds the functions
    a changed or new test reaches now."""
    if force:
        return dict.fromkeys(facts.mutants, "--force")
    if committed is None:
        return dict.fromkeys(facts.mutants, f"no committed results (app/{RESULTS})")
    env = environment_changes(committed.environment, facts.environment)
    if env:
        return dict.fromkeys(facts.mutants, "the environment changed: " + ", ".join(env))
    changed_frames = {
        path for path, frame in facts.modules.items() if committed.modules.get(path) != frame
    }
    changed, new = changed_tests(committed, facts.tests)
    reasons: dict[str, str] = {}
    for mutant in facts.mutants:
        function = mutant_function(mutant)
        old = committed.functions.get(function)
        module = facts.function_module[function]
        status = committed.status(mutant)
        if old is None:
            reasons[mutant] = "new function"
        elif old.get("hash") != facts.functions[function]:
            reasons[mutant] = "the function changed"
        elif status is None:
            reasons[mutant] = "new mutant"
        elif status not in REUSABLE_EXIT_CODES:
            reasons[mutant] = f"its last result was {status}"
        elif module in changed_frames:
            reasons[mutant] = f"{module} changed outside its mutated functions"
        elif facts.imports.get(module, set()) & changed_frames:
            changed_imports = ", ".join(sorted(facts.imports[module] & changed_frames))
            reasons[mutant] = f"{changed_imports} (imported) changed outside its mutated functions"
        else:
            tests = set(committed.covering(function)) & changed
            if fresh_covering is not None:
                tests |= fresh_covering.get(function, set()) & (changed | new)
            if tests:
                reasons[mutant] = "a covering test changed: " + ", ".join(sorted(tests))
    return reasons


def needs_fresh_covering(committed: Committed | None, facts: Facts) -> bool:
    if committed is None:
        return False
    changed, new = changed_tests(committed, facts.tests)
    return bool(new or {test for test in changed if test in facts.tests})


def merge_covering(
    committed: Committed | None, facts: Facts, fresh: Mapping[str, set[str]] | None, force: bool
) -> dict[str, list[str]]:
    """The covering tests to record. mutmut's record of a test that runs the app in threads can
    miss a function one run and see it the next; keeping what an unchanged test covered before
    keeps the file from flapping (an extra test only means an extra re-run later)."""
    functions = sorted(facts.functions)
    if fresh is None:
        return {f: sorted(committed.covering(f)) if committed else [] for f in functions}
    if force or committed is None:
        return {f: sorted(fresh.get(f, set())) for f in functions}
    unchanged = {test for test, h in facts.tests.items() if committed.tests.get(test) == h}
    return {
        f: sorted(fresh.get(f, set()) | (set(committed.covering(f)) & unchanged)) for f in functions
    }


def results_document(
    facts: Facts, covering: Mapping[str, list[str]], statuses: Mapping[str, str]
) -> str:
    functions: dict[str, dict] = {}
    for function in sorted(facts.functions):
        mutants = sorted(
            (m for m in facts.mutants if mutant_function(m) == function),
            key=lambda m: int(mutant_number(m)),
        )
        functions[function] = {
            "hash": facts.functions[function],
            "tests": list(covering.get(function, [])),
            "mutants": {mutant_number(m): statuses[m] for m in mutants},
        }
    document = {
        "format": FORMAT,
        "about": "mutmut results of app/onedigest_app and what they were computed from: "
        "written by `bash scripts/mutation.sh --update`, read by `bash scripts/mutation.sh`",
        "environment": facts.environment,
        "modules": dict(sorted(facts.modules.items())),
        "tests": dict(sorted(facts.tests.items())),
        "functions": functions,
    }
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------------------
# The gate


@dataclass
class Gate:
    lines: list[str]
    passed: int
    failed: int
    unlisted: list[str]


def gate(statuses: Mapping[str, str], listed: set[str], min_score: float) -> Gate:
    total = len(statuses)
    killed = sum(1 for s in statuses.values() if s == "killed")
    survivors = sorted(m for m, s in statuses.items() if s == "survived")
    other = sorted(f"{m}: {s}" for m, s in statuses.items() if s not in ("killed", "survived"))
    score = 100 * killed / total if total else 0.0
    lines: list[str] = []
    passed = failed = 0
    summary = f"score: {killed} of {total} mutants killed ({score:.1f} %, gate {min_score:g} %)"
    if total and round(score, 1) >= min_score and not other:
        lines.append(f"ok    {summary}")
        passed += 1
    else:
        lines.append(f"FAIL  {summary}")
        failed += 1
        if other:
            lines.append("not killed and not survived (timeouts, suspicious, …):")
            lines += [f"      {line}" for line in other]
    unlisted = [m for m in survivors if m not in listed]
    if not unlisted:
        lines.append(f"ok    every survivor is listed with its reason in app/{SURVIVORS}")
        passed += 1
    else:
        lines.append(
            f"FAIL  survivors not in app/{SURVIVORS}"
            " (kill each with a test, or list it with why it survives):"
        )
        failed += 1
    return Gate(lines, passed, failed, unlisted)


def listed_survivors(path: Path) -> set[str]:
    if not path.exists():
        return set()
    return {
        line.split("\t", 1)[0].strip()
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }


# ---------------------------------------------------------------------------------------------
# Running mutmut (in a copy of the app)


@contextlib.contextmanager
def output_to(log: Path) -> Iterator[None]:
    """mutmut and pytest print progress and spinners; this keeps them in the log."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log, "a") as f:
        os.dup2(f.fileno(), 1)
        os.dup2(f.fileno(), 2)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


def mutmut_cli() -> str:
    return str(Path(sys.executable).parent / "mutmut")


class MutmutFailed(Exception):
    pass


def copy_app(app: Path, work: Path) -> None:
    shutil.copytree(
        app,
        work,
        ignore=lambda _dir, names: [n for n in names if n in IGNORED_NAMES or n.endswith(".pyc")],
    )


def read_facts(jobs: int, log: Path) -> Facts:
    """Generates the mutants (mutmut's own code, in this process, cwd = the copy) and reads what
    their results are computed from."""
    import mutmut.__main__ as mm
    from mutmut.configuration import config
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.utils.file_utils import walk_mutatable_files, walk_source_files
    from mutmut.utils.format_utils import get_mutant_name

    installed = importlib.metadata.version("mutmut")
    if installed != MUTMUT_VERSION:  # the files read here are mutmut's own, not an interface
        raise MutmutFailed(
            f"mutmut {installed} is installed; this script reads mutmut {MUTMUT_VERSION}'s files"
        )
    with output_to(log):
        mm.copy_src_dir()
        mm.copy_also_copy_files()
        mm.setup_source_paths()
        mm.create_mutants(jobs)
    sources = sorted(str(p) for p in walk_source_files())
    known = {module_name(p): p for p in sources}
    functions: dict[str, str] = {}
    function_module: dict[str, str] = {}
    mutants: list[str] = []
    modules: dict[str, str] = {}
    mutated_by_path: dict[str, set[str]] = {path: set() for path in sources}
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        mutated_by_path[str(path)] = set(data.hash_by_function_name)
        for name, h in data.hash_by_function_name.items():
            functions[get_mutant_name(path, name)] = h
            function_module[get_mutant_name(path, name)] = str(path)
        mutants += data.exit_code_by_key
    imports = {}
    for path in sources:
        source = Path(path).read_text()
        modules[path] = module_frame(source, mutated_by_path[path])
        imports[path] = {known[m] for m in imported_modules(path, source, set(known))}
    for mutant in mutants:
        if mutant_function(mutant) not in functions:
            raise MutmutFailed(f"mutant {mutant} belongs to no function mutmut hashed")

    files: dict[str, str] = {}
    test_files: list[str] = []
    copied = [Path(p) for p in config().also_copy if Path(p).exists()]
    for source_path in config().source_paths:  # non-Python files beside the sources are copied too
        copied += [p for p in Path(source_path).rglob("*") if p.is_file() and p.suffix != ".py"]
    for item in copied:
        for f in sorted([item] if item.is_file() else (p for p in item.rglob("*") if p.is_file())):
            rel = f.as_posix()
            if set(f.parts) & IGNORED_NAMES or rel.endswith(".pyc"):
                continue
            if TEST_MODULE.search(rel):
                test_files.append(rel)
            elif rel == "pyproject.toml":
                files.update(pyproject_tables(f.read_text()))
            else:
                files[rel] = digest(f.read_bytes())
    environment = {
        "python": "{} {}.{}".format(platform.python_implementation(), *sys.version_info[:2]),
        "packages": installed_packages(),
        "files": dict(sorted(files.items())),
    }
    return Facts(
        environment,
        modules,
        functions,
        function_module,
        imports,
        sorted(mutants),
        test_hashes(Path("."), sorted(test_files)),
    )


def collect_covering(jobs: int, log: Path) -> None:
    """mutmut's stats run (every test once, recording which functions each reaches), in a child
    process so this one imports neither pytest nor the app; it writes mutants/mutmut-stats.json,
    which the `mutmut run` that follows reads instead of collecting again."""
    import mutmut.__main__ as mm

    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            with output_to(log):
                mm.run_stats_collection(mm.get_mutant_runner(jobs))
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise MutmutFailed("mutmut could not collect which tests cover which function")


def read_covering() -> dict[str, set[str]]:
    stats = json.loads(Path("mutants/mutmut-stats.json").read_text())
    return {
        f: {test_key(t) for t in tests}
        for f, tests in stats["tests_by_mangled_function_name"].items()
    }


def seed_and_run(
    committed: Committed | None, rerun: Mapping[str, str], jobs: int, log: Path
) -> dict[str, str]:
    """Writes the committed results into mutmut's .meta files (the mutants to run again get
    none), runs `mutmut run` on exactly those, and returns every mutant's status."""
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.stats import status_by_exit_code
    from mutmut.utils.file_utils import walk_mutatable_files

    datas = []
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        for mutant in data.exit_code_by_key:
            keep = mutant not in rerun and committed is not None
            data.exit_code_by_key[mutant] = (
                REUSABLE_EXIT_CODES[committed.status(mutant)] if keep else None
            )
        data.save()
        datas.append(data)
    if rerun:
        # by name, or all of them: mutmut runs the mutants without a result then
        names = [] if len(rerun) == sum(len(d.exit_code_by_key) for d in datas) else sorted(rerun)
        with open(log, "a") as out:
            rc = subprocess.call(  # noqa: S603 (the venv's own mutmut, on mutant names it made)
                [mutmut_cli(), "run", "--max-children", str(jobs), *names],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        if rc != 0:
            raise MutmutFailed(f"mutmut run exited with {rc}")
    statuses = {}
    for data in datas:
        data.load()
        statuses.update({m: status_by_exit_code[code] for m, code in data.exit_code_by_key.items()})
    return statuses


def describe(rerun: Mapping[str, str], total: int) -> list[str]:
    """One line per reason: the functions whose mutants ran again for it, with how many."""
    counts: dict[str, dict[str, int]] = {}
    for mutant, reason in sorted(rerun.items()):
        functions = counts.setdefault(reason, {})
        functions[mutant_function(mutant)] = functions.get(mutant_function(mutant), 0) + 1
    lines = [f"re-ran {len(rerun)} of {total} mutants:"]
    for reason, functions in counts.items():
        if len(functions) > 4:
            what = f"{sum(functions.values())} mutants of {len(functions)} functions"
        else:
            what = ", ".join(f"{count} of {function}" for function, count in functions.items())
        lines.append(f"  {what}: {reason}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--update", action="store_true", help=f"rewrite app/{RESULTS} after the run")
    mode.add_argument(
        "--force", action="store_true", help=f"run every mutant again, then rewrite app/{RESULTS}"
    )
    parser.add_argument("--app", type=Path, default=Path(__file__).resolve().parent.parent / "app")
    parser.add_argument(
        "--plan",
        type=Path,
        help="write the mutants the sources alone say must run again (JSON) and stop: no test"
        " runs, so not what a changed or new test covers that it did not before",
    )
    parser.add_argument(
        "--report", type=Path, help="write the mutants run again and every status (JSON)"
    )
    args = parser.parse_args(argv)
    app = args.app.resolve()
    jobs = int(os.environ.get("MUTATION_JOBS", "2"))
    min_score = float(os.environ.get("MIN_SCORE", "90"))
    started = time.monotonic()

    work_root = Path(tempfile.mkdtemp(prefix="onedigest-mutation."))
    keep = False  # the copy stays when mutmut fails: its log is there
    try:
        return run_stage(args, app, work_root, jobs, min_score, started)
    except MutmutFailed:
        keep = True
        return 1
    finally:
        os.chdir(app)
        if not keep:
            shutil.rmtree(work_root, ignore_errors=True)


def run_stage(
    args: argparse.Namespace,
    app: Path,
    work_root: Path,
    jobs: int,
    min_score: float,
    started: float,
) -> int:
    work = work_root / "app"
    log = work_root / "mutmut.log"
    copy_app(app, work)
    os.chdir(work)
    committed = Committed.read(app / RESULTS)
    try:
        facts = read_facts(jobs, log)
        fresh = None
        if args.plan:
            rerun = plan(committed, facts, force=args.force)
            args.plan.write_text(json.dumps({"rerun": rerun}, indent=1, ensure_ascii=False))
            return 0
        if needs_fresh_covering(committed, facts) and not args.force:
            collect_covering(jobs, log)
            fresh = read_covering()
        rerun = plan(committed, facts, fresh, force=args.force)
        statuses = seed_and_run(committed, rerun, jobs, log)
        if rerun and Path("mutants/mutmut-stats.json").exists():
            fresh = read_covering()
    except MutmutFailed as e:
        if log.exists():
            print("\n".join(log.read_text().replace("\r", "\n").splitlines()[-30:]))
        print(f"{e} (the whole log: {log})")
        print("mutation: 0 passed, 1 failed (mutmut did not run)")
        raise

    seconds = round(time.monotonic() - started)
    if rerun:
        print("\n".join(describe(rerun, len(facts.mutants))))
    else:
        print(
            f"all {len(facts.mutants)} results from app/{RESULTS}:"
            " nothing they were computed from changed"
        )
    document = results_document(
        facts, merge_covering(committed, facts, fresh, args.force), statuses
    )
    results_path = app / RESULTS
    if args.update or args.force:
        if not results_path.exists() or results_path.read_text() != document:
            results_path.write_text(document)
            print(f"wrote app/{RESULTS}: commit it with the change that caused it")
        else:
            print(f"app/{RESULTS} is up to date")
    elif not results_path.exists() or results_path.read_text() != document:
        print(
            f"note  app/{RESULTS} does not match app/:"
            " run `bash scripts/mutation.sh --update` and commit it"
        )
    if args.report:
        args.report.write_text(
            json.dumps({"rerun": rerun, "statuses": statuses}, indent=1, ensure_ascii=False)
        )

    result = gate(statuses, listed_survivors(app / SURVIVORS), min_score)
    print("\n".join(result.lines))
    for mutant in result.unlisted:
        print(f"      {mutant}")
        shown = subprocess.run(  # noqa: S603 (the venv's own mutmut, on a mutant name it made)
            [mutmut_cli(), "show", mutant],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        diff = [line for line in shown.splitlines() if re.match(r"^[-+] ", line)][:4]
        print("\n".join(f"        {line}" for line in diff))
    print(f"({seconds} s, {len(rerun)} mutants run)")
    print(f"mutation: {result.passed} passed, {result.failed} failed")
    return 0 if result.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
