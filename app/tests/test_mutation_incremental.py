"""The incremental mutation stage (scripts/mutation_app.py): which mutants run again, and the gate.

The decision is tested on its own, then through the script end to end: real mutmut runs over a
small project of three functions (seconds each), and the mutant plan for an edit of the app
itself. These tests drive mutmut, so they do not run inside mutmut's own runs of this suite.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    "MUTANT_UNDER_TEST" in os.environ, reason="drives mutmut: not run inside a mutmut run"
)

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "mutation_app.py"
APP = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ma():
    spec = importlib.util.spec_from_file_location("mutation_app", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutation_app"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


# --- what a result is computed from --------------------------------------------------------


def test_a_module_frame_leaves_out_only_the_mutated_functions(ma):
    source = textwrap.dedent(
        """
        LIMIT = 10

        def mutated(x):
            return x + LIMIT

        class Box:
            size = 3

            def grow(self):
                return self.size + 1

        @decorated
        def kept(x):
            return x
        """
    )
    frame = ma.module_frame(source, {"x_mutated", "xǁBoxǁgrow"})
    edits = {
        "the mutated function": source.replace("x + LIMIT", "x - LIMIT"),
        "the mutated method": source.replace("self.size + 1", "self.size + 2"),
        "a comment and blank lines": source.replace("LIMIT = 10", "# the limit\n\nLIMIT = 10"),
    }
    for what, edited in edits.items():
        assert ma.module_frame(edited, {"x_mutated", "xǁBoxǁgrow"}) == frame, what
    edits = {
        "a constant": source.replace("LIMIT = 10", "LIMIT = 11"),
        "a class attribute": source.replace("size = 3", "size = 4"),
        "a function mutmut does not mutate": source.replace("return x\n", "return -x\n"),
        "an import": "import os\n" + source,
    }
    for what, edited in edits.items():
        assert ma.module_frame(edited, {"x_mutated", "xǁBoxǁgrow"}) != frame, what


def test_imports_are_resolved_to_the_modules_of_the_app(ma):
    known = {"pkg", "pkg.a", "pkg.b", "pkg.c", "pkg.sub", "pkg.sub.d"}
    source = textwrap.dedent(
        """
        import os
        from . import d
        from .e import thing

        def late():
            from ..c import other
            import pkg.b
        """
    )
    assert ma.imported_modules("pkg/sub/e.py", source, known) == {
        "pkg",
        "pkg.b",
        "pkg.c",
        "pkg.sub",
        "pkg.sub.d",
    }
    init = "from . import a, b\nfrom .sub import d\nfrom ...up import x\n"
    assert ma.imported_modules("pkg/__init__.py", init, known) == {
        "pkg.a",
        "pkg.b",
        "pkg.sub",
        "pkg.sub.d",
    }


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text).lstrip())


TEST_MODULES = {
    "tests/test_one.py": """
        import pytest

        SAMPLE = 3

        def helper(x):
            return x * SAMPLE

        def test_first():
            assert helper(1) == 3

        @pytest.mark.parametrize("n", [1, 2])
        def test_second(n):
            assert helper(n) > 0

        class TestGroup:
            def test_method(self):
                assert helper(0) == 0
    """,
    "tests/test_two.py": """
        from tests.test_one import helper

        def test_uses_the_other_module():
            assert helper(2) == 6
    """,
    "tests/test_three.py": """
        def test_alone():
            assert True

        def test_calls_another():
            test_alone()
    """,
    "tests/test_four.py": """
        from tests.test_one import test_first as first

        def test_runs_one_of_the_first_module():
            first()
    """,
}


def hashes_after(ma, tmp_path: Path, edit: tuple[str, str, str] | None = None) -> dict[str, str]:
    write(tmp_path, TEST_MODULES)
    if edit:
        name, old, new = edit
        path = tmp_path / name
        assert old in path.read_text()
        path.write_text(path.read_text().replace(old, new))
    return ma.test_hashes(tmp_path, sorted(TEST_MODULES))


def test_each_test_has_a_hash_of_its_own(ma, tmp_path):
    assert sorted(hashes_after(ma, tmp_path)) == [
        "tests/test_four.py::test_runs_one_of_the_first_module",
        "tests/test_one.py::TestGroup::test_method",
        "tests/test_one.py::test_first",
        "tests/test_one.py::test_second",
        "tests/test_three.py::test_alone",
        "tests/test_three.py::test_calls_another",
        "tests/test_two.py::test_uses_the_other_module",
    ]


@pytest.mark.parametrize(
    ("edit", "changed"),
    [
        (("tests/test_one.py", "== 3\n", "== 3  # one\n"), set()),
        (
            ("tests/test_one.py", "helper(1) == 3", "helper(1) == 3 and True"),
            {"one::test_first", "four::test_runs_one_of_the_first_module"},
        ),
        (("tests/test_one.py", "[1, 2]", "[1, 2, 3]"), {"one::test_second"}),
        (("tests/test_one.py", "helper(0)", "helper(-0)"), {"one::TestGroup::test_method"}),
        (
            ("tests/test_one.py", "SAMPLE = 3", "SAMPLE = 4"),
            {
                "one::test_first",
                "one::test_second",
                "one::TestGroup::test_method",
                "two::test_uses_the_other_module",
                "four::test_runs_one_of_the_first_module",
            },
        ),
        (("tests/test_two.py", "helper(2)", "helper(3)"), {"two::test_uses_the_other_module"}),
        # a test another test calls is shared code of its module
        (
            ("tests/test_three.py", "assert True", "assert 1"),
            {"three::test_alone", "three::test_calls_another"},
        ),
    ],
)
def test_an_edit_changes_the_hash_of_the_tests_it_can_affect(ma, tmp_path, edit, changed):
    before = hashes_after(ma, tmp_path / "before")
    after = hashes_after(ma, tmp_path / "after", edit)
    short = {key: key.replace("tests/test_", "").replace(".py", "") for key in before}
    assert {short[key] for key in before if before[key] != after[key]} == changed


# --- the decision ------------------------------------------------------------------------------

FUNCS = {"pkg.a.x_f": "pkg/a.py", "pkg.a.x_g": "pkg/a.py", "pkg.b.x_h": "pkg/b.py"}
MUTANTS = [f"{f}__mutmut_{n}" for f in FUNCS for n in (1, 2)]


def facts(ma, **changes):
    values = {
        "environment": {
            "python": "CPython 3.11",
            "packages": {"flask": "3.1.3"},
            "files": {"tests/conftest.py": "c"},
        },
        "modules": {"pkg/a.py": "fa", "pkg/b.py": "fb"},
        "functions": {f: "h-" + f for f in FUNCS},
        "function_module": dict(FUNCS),
        "imports": {"pkg/a.py": set(), "pkg/b.py": {"pkg/a.py"}},
        "mutants": list(MUTANTS),
        "tests": {"t::f": "1", "t::g": "2", "t::h": "3"},
    }
    for key, value in changes.items():
        values[key] = {**values[key], **value} if isinstance(value, dict) else value
    return ma.Facts(**values)


def committed(ma, facts, statuses=None, covering=None):
    covering = covering or {
        "pkg.a.x_f": ["t::f"],
        "pkg.a.x_g": ["t::g"],
        "pkg.b.x_h": ["t::h", "t::f"],
    }
    statuses = {m: "killed" for m in facts.mutants} | (statuses or {})
    document = json.loads(ma.results_document(facts, covering, statuses))
    return ma.Committed(
        document["environment"], document["modules"], document["tests"], document["functions"]
    )


def test_nothing_changed_nothing_runs(ma):
    now = facts(ma)
    assert ma.plan(committed(ma, now), now) == {}
    assert not ma.needs_fresh_covering(committed(ma, now), now)


def test_a_changed_function_runs_exactly_its_own_mutants(ma):
    old = committed(ma, facts(ma))
    assert ma.plan(old, facts(ma, functions={"pkg.a.x_g": "edited"})) == {
        "pkg.a.x_g__mutmut_1": "the function changed",
        "pkg.a.x_g__mutmut_2": "the function changed",
    }


def test_new_mutants_and_functions_run(ma):
    old = committed(ma, facts(ma))
    now = facts(
        ma,
        functions={"pkg.b.x_k": "new"},
        function_module={"pkg.b.x_k": "pkg/b.py"},
        mutants=[*MUTANTS, "pkg.b.x_k__mutmut_1"],
    )
    assert ma.plan(old, now) == {"pkg.b.x_k__mutmut_1": "new function"}


def test_results_other_than_killed_and_survived_run_again(ma):
    old = committed(
        ma, facts(ma), {"pkg.a.x_f__mutmut_2": "timeout", "pkg.b.x_h__mutmut_1": "survived"}
    )
    assert ma.plan(old, facts(ma)) == {"pkg.a.x_f__mutmut_2": "its last result was timeout"}


def test_a_module_change_outside_its_functions_runs_its_mutants_and_its_importers(ma):
    old = committed(ma, facts(ma))
    assert set(ma.plan(old, facts(ma, modules={"pkg/a.py": "edited"}))) == set(MUTANTS)
    assert set(ma.plan(old, facts(ma, modules={"pkg/b.py": "edited"}))) == {
        "pkg.b.x_h__mutmut_1",
        "pkg.b.x_h__mutmut_2",
    }


def test_a_changed_or_removed_covering_test_runs_the_functions_it_covers(ma):
    old = committed(ma, facts(ma))
    assert set(ma.plan(old, facts(ma, tests={"t::h": "edited"}))) == {
        "pkg.b.x_h__mutmut_1",
        "pkg.b.x_h__mutmut_2",
    }
    removed = facts(ma, tests={"t::f": "1", "t::g": "2"})
    removed.tests.pop("t::h")
    assert set(ma.plan(old, removed)) == {"pkg.b.x_h__mutmut_1", "pkg.b.x_h__mutmut_2"}
    assert set(ma.plan(old, facts(ma, tests={"t::f": "edited"}))) == {
        "pkg.a.x_f__mutmut_1",
        "pkg.a.x_f__mutmut_2",
        "pkg.b.x_h__mutmut_1",
        "pkg.b.x_h__mutmut_2",
    }


def test_what_a_changed_or_new_test_covers_now_runs_too(ma):
    old = committed(ma, facts(ma))
    now = facts(ma, tests={"t::new": "4", "t::g": "edited"})
    assert ma.needs_fresh_covering(old, now)
    fresh = {"pkg.a.x_f": {"t::f", "t::new"}, "pkg.a.x_g": {"t::g"}, "pkg.b.x_h": {"t::h", "t::g"}}
    assert ma.plan(old, now, fresh) == {
        "pkg.a.x_f__mutmut_1": "a covering test changed: t::new",
        "pkg.a.x_f__mutmut_2": "a covering test changed: t::new",
        "pkg.a.x_g__mutmut_1": "a covering test changed: t::g",
        "pkg.a.x_g__mutmut_2": "a covering test changed: t::g",
        "pkg.b.x_h__mutmut_1": "a covering test changed: t::g",
        "pkg.b.x_h__mutmut_2": "a covering test changed: t::g",
    }


@pytest.mark.parametrize(
    ("environment", "reason"),
    [
        ({"python": "CPython 3.12"}, "CPython 3.11 -> CPython 3.12"),
        ({"packages": {"flask": "3.1.4"}}, "flask 3.1.3 -> 3.1.4"),
        ({"files": {"tests/conftest.py": "edited"}}, "tests/conftest.py"),
    ],
)
def test_an_environment_change_runs_everything(ma, environment, reason):
    old = committed(ma, facts(ma))
    now = facts(ma)
    now.environment = {**now.environment, **environment}
    assert ma.plan(old, now) == dict.fromkeys(MUTANTS, f"the environment changed: {reason}")


def test_without_results_or_with_force_everything_runs(ma):
    now = facts(ma)
    assert set(ma.plan(None, now)) == set(MUTANTS)
    assert set(ma.plan(committed(ma, now), now, force=True)) == set(MUTANTS)


def test_an_unchanged_test_keeps_what_it_covered_and_a_changed_one_is_seen_afresh(ma):
    old = committed(ma, facts(ma))
    now = facts(ma, tests={"t::f": "edited"})
    fresh = {"pkg.a.x_f": set(), "pkg.a.x_g": {"t::f"}, "pkg.b.x_h": {"t::h"}}
    assert ma.merge_covering(old, now, fresh, force=False) == {
        "pkg.a.x_f": [],
        "pkg.a.x_g": ["t::f", "t::g"],
        "pkg.b.x_h": ["t::h"],
    }
    assert ma.merge_covering(old, now, fresh, force=True)["pkg.a.x_g"] == ["t::f"]


def test_the_results_file_is_the_same_for_the_same_results(ma):
    now = facts(ma)
    covering = {"pkg.b.x_h": ["t::h"], "pkg.a.x_f": ["t::f"], "pkg.a.x_g": []}
    statuses = {m: "killed" for m in reversed(MUTANTS)}
    shuffled = facts(ma, mutants=list(reversed(MUTANTS)))
    assert ma.results_document(now, covering, statuses) == ma.results_document(
        shuffled, covering, statuses
    )


# --- the gate ------------------------------------------------------------------------------------


def statuses(
    killed: int, survived: list[str], other: dict[str, str] | None = None
) -> dict[str, str]:
    return (
        {f"m.x_f__mutmut_{i}": "killed" for i in range(killed)}
        | dict.fromkeys(survived, "survived")
        | (other or {})
    )


def test_the_gate_counts_every_mutant_and_wants_every_survivor_listed(ma):
    result = ma.gate(statuses(9, ["m.x_s__mutmut_1"]), {"m.x_s__mutmut_1"}, 90)
    assert (result.passed, result.failed) == (2, 0)
    assert result.lines[0] == "ok    score: 9 of 10 mutants killed (90.0 %, gate 90 %)"
    result = ma.gate(statuses(9, ["m.x_s__mutmut_1"]), set(), 90)
    assert (result.passed, result.failed, result.unlisted) == (1, 1, ["m.x_s__mutmut_1"])
    result = ma.gate(
        statuses(8, ["m.x_s__mutmut_1", "m.x_s__mutmut_2"]),
        {"m.x_s__mutmut_1", "m.x_s__mutmut_2"},
        90,
    )
    assert (result.passed, result.failed) == (1, 1)


def test_timeouts_and_suspicious_mutants_are_not_killed(ma):
    result = ma.gate(statuses(99, [], {"m.x_t__mutmut_1": "timeout"}), set(), 90)
    assert (result.passed, result.failed) == (1, 1)
    assert "      m.x_t__mutmut_1: timeout" in result.lines


# --- end to end: real mutmut runs over a small project ----------------------------------------

PROJECT = {
    "pyproject.toml": """
        [tool.mutmut]
        source_paths = ["calc/"]
        pytest_add_cli_args_test_selection = ["tests/"]

        [tool.pytest.ini_options]
        testpaths = ["tests"]
    """,
    "mutmut-survivors.txt": "",
    "calc/__init__.py": "",
    "calc/core.py": """
        LIMIT = 10


        def scale(x, factor=3):
            return x * factor + 1


        def double(x):
            return x * 2
    """,
    "calc/use.py": """
        from .core import LIMIT


        def over(x):
            return x > LIMIT
    """,
    "tests/test_core.py": """
        from calc.core import double, scale


        def test_scale():
            assert scale(2) == 7
            assert scale(2, 2) == 5


        def test_double():
            assert double(3) == 6
    """,
    "tests/test_use.py": """
        from calc.use import over


        def test_over():
            assert over(11)
            assert not over(10)
    """,
}


def run(project: Path, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    report = project.parent / f"{project.name}-report.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--app", str(project), "--report", str(report), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if k not in ("MIN_SCORE", "PYTEST_CURRENT_TEST")},
    )
    assert done.stdout.rstrip().splitlines()[-1].startswith("mutation: "), done.stdout + done.stderr
    return done, json.loads(report.read_text()) if report.exists() else {}


def plan_of(project: Path, *args: str) -> dict[str, str]:
    out = project.parent / f"{project.name}-plan.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--app", str(project), "--plan", str(out), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(out.read_text())["rerun"]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (old, text)
    path.write_text(text.replace(old, new))


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


def mutants_of(report: dict, function: str) -> set[str]:
    return {m for m in report["statuses"] if m.partition("__mutmut_")[0] == function}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """The project with its results written by `--update` (every mutant killed)."""
    project = tmp_path_factory.mktemp("baseline") / "project"
    write(project, PROJECT)
    done, report = run(project, "--update")
    assert done.returncode == 0, done.stdout
    assert set(report["rerun"]) == set(report["statuses"])
    assert set(report["statuses"].values()) == {"killed"}
    assert {m.partition("__mutmut_")[0] for m in report["statuses"]} == {
        "calc.core.x_scale",
        "calc.core.x_double",
        "calc.use.x_over",
    }
    return project, report


@pytest.fixture
def project(baseline, tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(baseline[0], copy)
    return copy


def test_nothing_changed_runs_no_mutant_and_writes_nothing(project):
    before = snapshot(project)
    done, report = run(project)
    assert done.returncode == 0, done.stdout
    assert report["rerun"] == {}
    assert "nothing they were computed from changed" in done.stdout
    assert done.stdout.rstrip().endswith("mutation: 2 passed, 0 failed")
    assert snapshot(project) == before


def test_an_edited_function_runs_exactly_its_mutants_again(project, baseline):
    edit(project / "calc/core.py", "return x * 2", "return 2 * x")
    before = snapshot(project)
    done, report = run(project)
    assert set(report["rerun"]) == mutants_of(report, "calc.core.x_double") != set()
    assert set(report["rerun"].values()) == {"the function changed"}
    assert report["statuses"] == baseline[1]["statuses"]
    assert "does not match app/" in done.stdout
    assert snapshot(project) == before  # the suite's run only reads the results
    done, _ = run(project, "--update")
    assert plan_of(project) == {}


def test_a_surviving_mutant_an_edit_brings_fails_the_gate(project):
    edit(
        project / "calc/core.py",
        "return x * 2",
        "if x > LIMIT:\n        return x * 2\n    return x * 2",
    )
    done, report = run(project)
    survivors = {m for m, s in report["statuses"].items() if s == "survived"}
    assert survivors and survivors <= mutants_of(report, "calc.core.x_double")
    assert set(report["rerun"]) == mutants_of(report, "calc.core.x_double")
    assert done.returncode == 1
    assert "FAIL  survivors not in app/mutmut-survivors.txt" in done.stdout
    assert all(f"      {m}\n" in done.stdout for m in survivors)
    assert done.stdout.rstrip().endswith("mutation: 0 passed, 2 failed")


def test_a_weakened_covering_test_runs_its_functions_again_and_fails_the_gate(project):
    edit(project / "tests/test_core.py", "assert double(3) == 6", "assert double(3)")
    done, report = run(project)
    assert set(report["rerun"]) == mutants_of(report, "calc.core.x_double")
    assert set(report["rerun"].values()) == {
        "a covering test changed: tests/test_core.py::test_double"
    }
    assert "survived" in {report["statuses"][m] for m in report["rerun"]}
    assert done.returncode == 1


def test_a_new_test_runs_the_functions_it_covers_again(project):
    write(
        project,
        {
            "tests/test_more.py": """
                from calc.use import over


                def test_far_over():
                    assert over(99)
            """
        },
    )
    assert plan_of(project) == {}  # the sources alone cannot tell what the new test covers
    done, report = run(project)
    assert set(report["rerun"]) == mutants_of(report, "calc.use.x_over")
    assert set(report["rerun"].values()) == {
        "a covering test changed: tests/test_more.py::test_far_over"
    }
    assert done.returncode == 0, done.stdout


def test_a_module_change_outside_its_functions_runs_its_and_its_importers_mutants(
    project, baseline
):
    edit(project / "calc/core.py", "LIMIT = 10", "LIMIT = 5 + 5")
    assert set(plan_of(project)) == set(baseline[1]["statuses"])
    edit(project / "calc/use.py", "from .core import LIMIT", "from .core import LIMIT, double")
    edit(project / "calc/core.py", "LIMIT = 5 + 5", "LIMIT = 10")
    assert {m.partition("__mutmut_")[0] for m in plan_of(project)} == {"calc.use.x_over"}


def test_an_environment_change_or_force_runs_everything(project, baseline):
    everything = set(baseline[1]["statuses"])
    assert set(plan_of(project, "--force")) == everything
    write(project, {"tests/conftest.py": "import pytest\n"})
    rerun = plan_of(project)
    assert set(rerun) == everything
    assert set(rerun.values()) == {"the environment changed: tests/conftest.py"}


# --- the app itself ------------------------------------------------------------------------------


def insert_a_statement(module: Path, function: str) -> None:
    """Puts `pass` first in the body of a function named as mutmut names it (`x_f`, `xǁCǁm`)."""
    tree = ast.parse(module.read_text())
    nodes = [(f"x_{n.name}", n) for n in tree.body if isinstance(n, ast.FunctionDef)]
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        nodes += [(f"xǁ{cls.name}ǁ{n.name}", n) for n in cls.body if isinstance(n, ast.FunctionDef)]
    first = dict(nodes)[function].body[0]
    lines = module.read_text().splitlines(keepends=True)
    lines.insert(first.lineno - 1, " " * first.col_offset + "pass\n")
    module.write_text("".join(lines))


def test_an_edit_of_one_app_function_runs_exactly_its_mutants_again(tmp_path):
    """On a copy of the app, against the committed app/mutmut-results.json: whatever an
    out-of-date file makes run again anyway, the edit adds exactly the edited function's mutants."""
    if not (APP / "mutmut-results.json").exists():
        pytest.skip("no app/mutmut-results.json: bash scripts/mutation.sh --update writes it")
    copy = tmp_path / "app"
    shutil.copytree(APP, copy, ignore=shutil.ignore_patterns("__pycache__", "mutants", ".*_cache"))
    before = plan_of(copy)
    functions = json.loads((APP / "mutmut-results.json").read_text())["functions"]
    unchanged = [f for f in sorted(functions) if not {m for m in before if m.startswith(f + "__")}]
    if not unchanged:
        pytest.skip("every mutant runs again anyway: app/mutmut-results.json is out of date")
    function = unchanged[0]
    module, _, name = function.rpartition(".")
    path = copy / (module.replace(".", "/") + ".py")
    insert_a_statement(
        path if path.exists() else copy / module.replace(".", "/") / "__init__.py", name
    )
    after = plan_of(copy)
    added = {m for m in after if m not in before}
    assert added == {m for m in after if m.startswith(function + "__mutmut_")}
    assert len(added) == len(functions[function]["mutants"])
    assert {after[m] for m in added} == {"the function changed"}
