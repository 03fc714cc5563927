"""The `ndgrad` command, run as a user runs it (`python -m ndgrad ...` in a subprocess), and its expression parser.

Values are checked against hand-computed derivatives and against torch; refused expressions, bad input and
exit statuses are checked one by one. Many commands run in parallel to keep the file fast.
"""
from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import ndgrad
from ndgrad import _expr

ROOT = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "NDGRAD_DEBUG")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["MPLBACKEND"] = "Agg"
    env.update(extra)
    return env


def ndgrad_run(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ndgrad", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd or ROOT, env=env or _env())


# Runs many commands cheaply: one interpreter imports ndgrad once, then forks a child per command; each
# child runs `ndgrad.cli.main(args)` with its own stdout/stderr files and exits with its status, so streams
# and exit statuses are a real process's. Without fork (Windows), each command is its own subprocess.
_DRIVER = r"""
import json, os, sys, tempfile
import ndgrad.cli
jobs = json.loads(sys.stdin.read())
if any(a[:1] in (["plot"], ["tour"]) for a in jobs):
    try:  # import once here rather than in every child
        import matplotlib.figure, matplotlib.backends.backend_agg
    except ImportError:
        pass
results = []
tmp = tempfile.mkdtemp()
for k, args in enumerate(jobs):
    paths = [os.path.join(tmp, f"{k}.out"), os.path.join(tmp, f"{k}.err")]
    pid = os.fork()
    if pid == 0:
        for fd, path in zip((1, 2), paths):
            f = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(f, fd)
            os.close(f)
        code = 70
        try:
            code = ndgrad.cli.main(args)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        except BaseException:
            import traceback
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    outs = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            outs.append(f.read())
        os.remove(path)
    results.append([os.waitstatus_to_exitcode(status), *outs])
os.rmdir(tmp)
sys.stdout.write(json.dumps(results))
"""


def ndgrad_many(arglists: list, cwd: Path | None = None, env: dict | None = None) -> list:
    """Run several commands, each in its own process; CompletedProcess objects in order."""
    env = env or _env()
    if hasattr(os, "fork"):
        r = subprocess.run([sys.executable, "-c", _DRIVER], input=json.dumps(arglists), capture_output=True,
                           text=True, cwd=cwd or ROOT, env={**env, "PYTHONIOENCODING": "utf-8"}, timeout=300)
        assert r.returncode == 0, r.stderr
        return [subprocess.CompletedProcess(args, *res) for args, res in zip(arglists, json.loads(r.stdout))]
    procs = [subprocess.Popen([sys.executable, "-m", "ndgrad", *args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=cwd or ROOT, env=env) for args in arglists]
    return [subprocess.CompletedProcess(args, p.returncode, *p.communicate(timeout=120))
            for args, p in zip(arglists, procs)]


def assert_clean_error(r: subprocess.CompletedProcess, code: int = 2) -> str:
    """One line on stderr, nothing on stdout, no traceback, the given exit status."""
    assert r.returncode == code, (r.args, r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1, (r.args, r.stderr)
    assert re.match(r"ndgrad( \w+)?: error: ", lines[0]), lines[0]
    assert r.stdout == "", (r.args, r.stdout)
    return lines[0]


def diff_json(*args: str) -> dict:
    r = ndgrad_run("diff", *args, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def diff_jsons(*arglists: list) -> list:
    rs = ndgrad_many([["diff", *args, "--json"] for args in arglists])
    for r in rs:
        assert r.returncode == 0, (r.args, r.stderr)
    return [json.loads(r.stdout) for r in rs]


# -- version, help -------------------------------------------------------------------------------------------------
def test_version_and_help_for_every_subcommand():
    cmds = [["--version"], ["-V"], ["--help"], []] + [[c, "--help"] for c in ("diff", "plot", "graph", "explain", "tour")]
    rs = ndgrad_many(cmds)
    assert rs[0].returncode == 0 and rs[0].stdout.strip() == f"ndgrad {ndgrad.version.ndgrad}"
    assert rs[1].stdout == rs[0].stdout
    for r in rs[2:4]:
        assert r.returncode == 0 and "usage: ndgrad" in r.stdout
        for c in ("diff", "plot", "graph", "explain", "tour"):
            assert c in r.stdout
    for r, c in zip(rs[4:], ("diff", "plot", "graph", "explain", "tour")):
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith(f"usage: ndgrad {c}"), r.stdout
        assert "examples:" in r.stdout
    assert "sigmoid" in rs[4].stdout  # diff --help lists the functions


def test_python_m_is_the_console_script():
    exe = shutil.which("ndgrad")
    if exe is None:
        pytest.skip("the ndgrad console script is not installed")
    args = ["diff", "x**3", "--at", "x=2", "--json"]
    a = subprocess.run([exe, *args], capture_output=True, text=True, env=_env(), timeout=60)
    b = ndgrad_run(*args)
    assert (a.returncode, a.stdout, a.stderr) == (b.returncode, b.stdout, b.stderr)


def test_import_ndgrad_stays_light_and_nothing_imports_torch():
    code = ("import sys, ndgrad\n"
            "assert not any(m in sys.modules for m in ('ndgrad.cli', 'ndgrad.viz', 'ndgrad._tour', 'matplotlib')), "
            "sorted(m for m in sys.modules if m.startswith(('ndgrad.', 'matplotlib')))\n"
            "import ndgrad.cli, ndgrad.viz, ndgrad._expr, ndgrad._tour\n"
            "assert ndgrad.viz.graph and 'matplotlib' not in sys.modules\n"
            "assert 'torch' not in sys.modules\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=60)
    assert r.returncode == 0, r.stderr


# -- diff ----------------------------------------------------------------------------------------------------------
S3, C3 = math.sin(3.0), math.cos(3.0)
KNOWN = [
    # expression, --at, value, {variable: df/dvariable}   (all by hand)
    ("2*x**2 + 3*x + 1", "x=3", 28.0, {"x": 15.0}),
    ("sin(x) + cos(x)", "x=1", math.sin(1) + math.cos(1), {"x": math.cos(1) - math.sin(1)}),
    ("log(x)", "x=2", math.log(2), {"x": 0.5}),
    ("sqrt(x)", "x=4", 2.0, {"x": 0.25}),
    ("exp(2*x)", "x=0.5", math.e, {"x": 2 * math.e}),
    ("sigmoid(x)", "x=0", 0.5, {"x": 0.25}),
    ("tanh(x)", "x=0.5", math.tanh(0.5), {"x": 1 - math.tanh(0.5) ** 2}),
    ("x*y + sin(x)", "x=3,y=2", 6 + S3, {"x": 2 + C3, "y": 3.0}),
    ("x**2 * y - y/x", "x=2,y=3", 12 - 1.5, {"x": 12 + 0.75, "y": 4 - 0.5}),
    ("pow(x, 3) + 1/x", "x=-2", -8.5, {"x": 12 - 0.25}),
    ("exp(-x/4)*sin(pi*x)", "x=0.5", math.exp(-0.125), {"x": -0.25 * math.exp(-0.125)}),
]


def test_diff_known_derivatives():
    rs = ndgrad_many([["diff", e, "--at", at, "--json"] for e, at, _, _ in KNOWN])
    for (e, at, value, grads), r in zip(KNOWN, rs):
        assert r.returncode == 0, (e, r.stderr)
        d = json.loads(r.stdout)
        assert d["expression"] == e
        assert d["value"] == pytest.approx(value, rel=1e-12, abs=1e-14), e
        assert set(d["gradient"]) == set(grads)
        for v, g in grads.items():
            assert d["gradient"][v] == pytest.approx(g, rel=1e-12, abs=1e-14), (e, v)


def test_diff_text_output():
    r = ndgrad_run("diff", "2*x**2 + 3*x + 1", "--at", "x=3")
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout.splitlines() == ["f(x) = 2*x**2 + 3*x + 1", "at x = 3", "", "f     = 28", "df/dx = 15"]


def test_diff_higher_orders_of_the_tutorial_cubic():
    # y = x^3 + 2x^2 + 3x + 4: y' = 3x^2 + 4x + 3, y'' = 6x + 4, y''' = 6, then 0 (the ⚠ scenario 3)
    d, = diff_jsons(["x**3 + 2*x**2 + 3*x + 4", "--at", "x=2", "--order", "5"])
    assert [(p["order"], p["value"]) for p in d["derivatives"]] == [(1, 23.0), (2, 16.0), (3, 6.0), (4, 0.0), (5, 0.0)]


def test_diff_mixed_partials_hessian_wrt_and_jacobians():
    d, w, v, j = diff_jsons(["x*y + sin(x)", "--at", "x=3,y=2", "--order", "2", "--hessian"],
                            ["x*y + sin(x)", "--at", "y=2", "--at", "x=3", "--wrt", "x"],
                            ["[x*y, sin(x)]", "--at", "x=3,y=2"],
                            ["x**2 * y", "--at", "x=3,y=2", "--jacobian"])
    parts = {tuple(p["wrt"]): p["value"] for p in d["derivatives"]}
    assert list(parts) == [("x",), ("y",), ("x", "x"), ("x", "y"), ("y", "y")]
    assert parts[("x", "x")] == pytest.approx(-S3) and parts[("x", "y")] == 1.0 and parts[("y", "y")] == 0.0
    assert d["hessian"][0][0] == pytest.approx(-S3)
    assert d["hessian"][0][1:] == [1.0] and d["hessian"][1] == [1.0, 0.0]
    assert w["wrt"] == ["x"] and list(w["gradient"]) == ["x"] and w["at"] == {"x": 3.0, "y": 2.0}
    assert v["value"] == [6.0, pytest.approx(S3)]
    assert v["jacobian"] == [[2.0, 3.0], [pytest.approx(C3), 0.0]]
    assert j["jacobian"] == [[12.0, 9.0]]
    r, = ndgrad_many([["diff", "[x*y, sin(x)]", "--at", "x=3,y=2", "--order", "1"]])
    assert "Jacobian" in r.stdout and re.search(r"^f\[1\]\s+-0\.98999", r.stdout, re.M)


def test_diff_constants_values_given_as_formulas_and_non_finite_results():
    d, c, lg, sq = diff_jsons(["sin(x) * e", "--at", "x=pi/2"], ["sin(pi)"], ["log(x)", "--at", "x=0"],
                              ["sqrt(x)", "--at", "x=-1"])
    assert d["at"]["x"] == pytest.approx(math.pi / 2, rel=1e-15)
    assert d["value"] == pytest.approx(math.e, rel=1e-15)
    assert d["gradient"]["x"] == pytest.approx(0.0, abs=1e-15)
    assert c["value"] == pytest.approx(0.0, abs=1e-15) and "gradient" not in c  # float64 throughout
    assert lg["value"] == "-inf" and lg["gradient"]["x"] == "inf"
    assert sq["value"] == "nan"


def test_diff_matches_torch():
    torch = pytest.importorskip("torch")
    cases = [("x*y + sin(x)", {"x": 3.0, "y": 2.0}), ("exp(x)*log(y) - x/y", {"x": 0.5, "y": 2.0}),
             ("tanh(x*y)**2 + sqrt(y)", {"x": 0.3, "y": 1.7}), ("sigmoid(x - y) * cos(x*y)", {"x": 1.1, "y": -0.4})]
    rs = ndgrad_many([["diff", e, "--at", ",".join(f"{k}={v}" for k, v in at.items()), "--json", "--hessian"]
                      for e, at in cases])
    for (e, at), r in zip(cases, rs):
        d = json.loads(r.stdout)
        names = list(at)
        xs = [torch.tensor(at[k], dtype=torch.float64, requires_grad=True) for k in names]
        ns = {"sin": torch.sin, "cos": torch.cos, "exp": torch.exp, "log": torch.log, "tanh": torch.tanh,
              "sqrt": torch.sqrt, "sigmoid": torch.sigmoid, **dict(zip(names, xs))}
        f = eval(e, {"__builtins__": {}}, ns)  # our own trusted test strings
        gs = torch.autograd.grad(f, xs, create_graph=True)
        assert d["value"] == pytest.approx(f.item(), rel=1e-13)
        for k, g in zip(names, gs):
            assert d["gradient"][k] == pytest.approx(g.item(), rel=1e-13), (e, k)
        for i, g in enumerate(gs):
            row = torch.autograd.grad(g, xs, retain_graph=True, allow_unused=True) if g.requires_grad else [None] * 2
            want = [0.0 if h is None else h.item() for h in row]
            assert d["hessian"][i] == pytest.approx(want, rel=1e-12, abs=1e-14), (e, i)


def test_negative_looking_arguments_are_values():
    d = diff_json("-x**2", "--at", "x=-3")  # through `python -m ndgrad`: argparse sees what a shell passes
    assert d["value"] == -9.0 and d["gradient"]["x"] == 6.0
    r, = ndgrad_many([["diff", "--json", "--at", "x=2", "--", "-x"]])
    assert json.loads(r.stdout)["value"] == -2.0


# -- refused expressions -------------------------------------------------------------------------------------------
HOSTILE = [
    "__import__('os')",
    "__import__('os').system('touch pwned')",
    "x.__class__",
    "().__class__.__bases__[0].__subclasses__()",
    "open('/etc/passwd')",
    "open('pwned', 'w')",
    "eval('1+1')",
    "exec('import os')",
    "compile('1', '', 'eval')",
    "globals()",
    "locals()",
    "vars()",
    "getattr(x, 'grad')",
    "breakpoint()",
    "lambda: 1",
    "(lambda: 0)()",
    "[c for c in 'ab']",
    "{1: 2}",
    "{x}",
    "x[0]",
    "'abc'",
    "b'abc'",
    "f'{x}'",
    "(y := 1)",
    "x if x else 1",
    "x and y",
    "x < y",
    "not x",
    "~x",
    "x @ x",
    "x ^ 2",
    "sin.__globals__",
    "sin(x)(1)",
    "sin(*x)",
    "sin(x=1)",
    "__builtins__",
    "_x + 1",
    "import os",
    "x; import os",
    "None",
    "True",
    "1j * x",
    "...",
    "[[x]]",
    "sin",
    "9**9**9**9 + x.real",
    "(" * 300 + "x" + ")" * 300,
    "x" + "+x" * 700,
]


def test_at_least_twenty_hostile_strings():
    assert len(HOSTILE) >= 20


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_parser_refuses(text):
    with pytest.raises(_expr.ExprError) as e:
        _expr.parse(text)
    msg = str(e.value)
    assert "\n" not in msg and msg


def test_command_refuses_every_hostile_expression(tmp_path):
    rs = ndgrad_many([["diff", text, "--at", "x=1"] for text in HOSTILE], cwd=tmp_path)
    direct = [1, 20]  # two also through `python -m ndgrad`, as a shell runs it
    rs += [ndgrad_run("diff", HOSTILE[k], "--at", "x=1", cwd=tmp_path) for k in direct]
    for text, r in zip(HOSTILE + [HOSTILE[k] for k in direct], rs):
        line = assert_clean_error(r)
        assert line.startswith("ndgrad diff: error: bad expression: "), (text, line)
    assert not any(tmp_path.iterdir()), "a refused expression had a side effect"


def test_refusals_point_at_the_offending_part():
    for text, part in [("__import__('os').system('ls')", "__import__('os').system"),
                       ("x + open('f')", "open('f')"), ("x * y.grad", "y.grad"), ("x + 'a'", "'a'"),
                       ("sin(x) + x[0]", "x[0]"), ("2x", "2x")]:
        with pytest.raises(_expr.ExprError) as e:
            _expr.parse(text)
        assert part in str(e.value), (text, str(e.value))
    with pytest.raises(_expr.ExprError, match=r"column 5: open"):
        _expr.parse("x + open('f')")
    with pytest.raises(_expr.ExprError, match=r"\*\*"):
        _expr.parse("x^2")


def test_parser_accepts_the_allowed_language():
    e = _expr.parse("b*(a + c)**2 / sqrt(a) - -exp(c) + pi")
    assert e.variables == ("b", "a", "c") and not e.is_vector
    v = _expr.parse("[x, 2*y, 3]")
    assert v.is_vector and v.size == 3 and v.variables == ("x", "y")
    for name in ("sin", "cos", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs"):
        assert name in _expr.function_names()
        _expr.parse(f"{name}(x)")
    out = _expr.parse("maximum(x, 0) + clamp(x, -1, 1) + pow(x, 2)")(x=ndgrad.tensor(3.0, dtype=ndgrad.float64))
    assert out.item() == 3 + 1 + 9


def test_numbers_and_assignments():
    assert _expr.parse_number("-pi/2") == -math.pi / 2  # exactly: float64, never float32
    assert _expr.parse_assignments(["x=1, y=2e-3", "z=-e"]) == {"x": 1.0, "y": 0.002, "z": -math.e}
    for bad, msg in [(["x="], "missing value"), (["x"], "missing value"), (["x=1,x=2"], "twice"),
                     (["1x=3"], "NAME=VALUE"), (["pi=3"], "constant"), (["sin=1"], "function"),
                     (["x=y"], "variable"), (["x=1/0"], "finite"), (["x=__import__('os')"], "not an allowed")]:
        with pytest.raises(_expr.ExprError, match=msg):
            _expr.parse_assignments(bad)


# -- bad input -----------------------------------------------------------------------------------------------------
BAD_INPUT = [
    (["diff", "x +", "--at", "x=1"], "bad expression"),
    (["diff", "x", "--at", "y=1"], "unknown variable 'y'"),
    (["diff", "x*y", "--at", "x=1", "--wrt", "z"], "missing value for variable 'y'"),
    (["diff", "x*y", "--at", "x=1,y=2", "--wrt", "z"], "unknown variable 'z' in --wrt"),
    (["diff", "x*y", "--at", "x=1"], "missing value for variable 'y'"),
    (["diff", "x", "--at", "x="], "missing value for 'x'"),
    (["diff", "x", "--at", "x"], "missing value for 'x'"),
    (["diff", "x"], "missing value for variable 'x'"),
    (["diff", "x", "--at"], "expected one argument"),
    (["diff", "x", "--at", "x=1", "--order", "abc"], "invalid int value"),
    (["diff", "x", "--at", "x=1", "--order", "-1"], "--order"),
    (["diff", "x", "--at", "x=1", "--bogus"], "unrecognized arguments"),
    (["diff", "[x, x]", "--at", "x=1", "--hessian"], "scalar expression"),
    (["diff"], "required: EXPR"),
    (["plot", "x**2", "--range", "3:3"], "LOW must be less than HIGH"),
    (["plot", "x**2", "--range", "5:-5"], "LOW must be less than HIGH"),
    (["plot", "x**2", "--range", "10"], "LOW:HIGH"),
    (["plot", "x**2", "--range", "a:b"], "--range"),
    (["plot", "x*y", "--range", "-1:1"], "one variable"),
    (["plot", "[x, x]"], "scalar expression"),
    (["plot", "x", "-o", "plot.xyz"], ".xyz"),
    (["graph", "x*y", "--at", "x=1"], "missing value for variable 'y'"),
    (["explain", "3 + 4", ], "does not depend on any variable"),
    (["explain", "[x, x]", "--at", "x=1"], "scalar expression"),
    (["tour", "99"], "unknown scenario"),
    (["frobnicate"], "invalid choice"),
]


def test_bad_input_is_one_line_and_exit_status_2(tmp_path):
    rs = ndgrad_many([args for args, _ in BAD_INPUT], cwd=tmp_path)
    direct = [5, 14]
    rs += [ndgrad_run(*BAD_INPUT[k][0], cwd=tmp_path) for k in direct]
    for (args, msg), r in zip(BAD_INPUT + [BAD_INPUT[k] for k in direct], rs):
        line = assert_clean_error(r)
        assert msg in line, (args, line)
    assert not any(tmp_path.iterdir())


# -- plot ----------------------------------------------------------------------------------------------------------
def _check_png(path: Path) -> tuple:
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    image = pytest.importorskip("matplotlib.image")
    a = image.imread(str(path))
    assert a.ndim == 3 and a.shape[0] > 100 and a.shape[1] > 100
    assert a.std() > 0.05  # not a blank canvas
    return a.shape


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    rs = [ndgrad_run("plot", "x**2", "--range", "-10:10", "-o", "plot.png", cwd=tmp_path)]
    rs += ndgrad_many([["plot", "sin(x)*exp(-x/4)", "--range", "0:4*pi", "--order", "3", "-o", "sub/deriv.svg"],
                       ["plot", "a*x**2", "--at", "a=3", "--range", "-1:1", "-o", "a.pdf"]], cwd=tmp_path)
    assert rs[0].returncode == 0 and rs[0].stdout == "wrote plot.png\n", rs[0].stderr
    _check_png(tmp_path / "plot.png")
    assert rs[1].returncode == 1 and "cannot write sub/deriv.svg" in rs[1].stderr  # no such folder: clean error
    assert rs[2].returncode == 0 and (tmp_path / "a.pdf").read_bytes()[:5] == b"%PDF-"


def test_plot_without_output_and_without_display_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    r, = ndgrad_many([["plot", "x**3 - 3*x", "--range", "-2:2", "--order", "2"]], cwd=tmp_path,
                     env=_env(MPLBACKEND=""))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("wrote ndgrad-plot.png (no display")
    _check_png(tmp_path / "ndgrad-plot.png")


def test_plot_figure_has_the_function_and_its_derivative(tmp_path, monkeypatch):
    """The figure the command saves: two labelled lines, f and f', with the right data."""
    pytest.importorskip("matplotlib")
    import numpy as np
    from ndgrad import cli
    saved = []
    real = cli._save_figure
    monkeypatch.setattr(cli, "_save_figure", lambda fig, path: (saved.append(fig), real(fig, path)))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["plot", "x**2", "--range", "-10:10", "-o", "p.png"]) == 0
    fig, = saved
    ax, = fig.axes
    lines = [ln for ln in ax.get_lines() if not ln.get_label().startswith("_")]
    assert [ln.get_label() for ln in lines] == ["f(x) = x**2", "f'(x)"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["f(x) = x**2", "f'(x)"]
    xs, ys = lines[0].get_data()
    assert xs[0] == -10 and xs[-1] == 10 and np.allclose(ys, xs**2)
    assert np.allclose(lines[1].get_ydata(), 2 * xs)
    _check_png(tmp_path / "p.png")


def test_plot_without_matplotlib_is_a_clean_error(tmp_path):
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "from ndgrad.cli import main; sys.exit(main(sys.argv[1:]))")
    r = subprocess.run([sys.executable, "-c", code, "plot", "x**2", "-o", "p.png"], capture_output=True, text=True,
                       cwd=tmp_path, env=_env(), timeout=60)
    line = assert_clean_error(r, 1)
    assert "matplotlib" in line and "ndgrad[plot]" in line
    r = subprocess.run([sys.executable, "-c", code, "tour", "12"], capture_output=True, text=True,
                       cwd=tmp_path, env=_env(), timeout=60)
    assert r.returncode == 0 and "matplotlib is not installed" in r.stdout.splitlines()[-1]


# -- graph ---------------------------------------------------------------------------------------------------------
def parse_dot(text: str) -> tuple[dict, list]:
    """A strict reader for the DOT subset ndgrad writes: {node id: label}, [(from, to, attrs)]."""
    lines = text.rstrip("\n").split("\n")
    assert lines[0] == "digraph {" and lines[-1] == "}", text
    nodes: dict = {}
    edges: list = []
    for ln in lines[1:-1]:
        s = ln.strip()
        m = re.fullmatch(r"(\w+) -> (\w+)(?: \[([^\]]*)\])?", s)
        if m:
            edges.append((m.group(1), m.group(2), m.group(3) or ""))
            continue
        m = re.fullmatch(r'(\w+) \[label="((?:[^"\\]|\\.)*)"((?: \w+=[\w."]+)*)\]', s)
        if m:
            assert m.group(1) not in nodes, f"node {m.group(1)} declared twice"
            nodes[m.group(1)] = re.sub(r"\\(.)", lambda c: "\n" if c.group(1) == "n" else c.group(1), m.group(2))
            continue
        assert re.fullmatch(r"(graph|node|edge) \[.*\]", s), f"not DOT: {s!r}"
    for a, b, _ in edges:
        assert a in nodes and b in nodes, (a, b)
    return nodes, edges


def test_graph_prints_dot_naming_the_nodes():
    r = ndgrad_run("graph", "x**3 + 2*x**2", "--at", "x=2")
    assert r.returncode == 0, r.stderr
    nodes, edges = parse_dot(r.stdout)
    if shutil.which("dot"):  # Graphviz itself accepts it
        subprocess.run(["dot", "-Tsvg"], input=r.stdout, text=True, check=True, capture_output=True, timeout=60)
    labels = sorted(nodes.values())
    assert labels == sorted(["f\n()", "AddBackward0", "PowBackward0", "PowBackward0", "MulBackward0", "x\n()"])
    by = {v: k for k, v in nodes.items()}
    named = {(nodes[a], nodes[b]) for a, b, _ in edges}
    assert ("AddBackward0", "f\n()") in named and ("MulBackward0", "AddBackward0") in named
    assert sum(1 for a, b, _ in edges if a == by["x\n()"]) == 2  # x feeds both powers
    assert len(edges) == 6


def test_graph_of_two_variables_with_saved_tensors_and_vectors():
    rs = ndgrad_many([["graph", "x*y + sin(x)", "--at", "x=3,y=2", "--saved"],
                      ["graph", "[x*y, sin(x)]", "--at", "x=3,y=2"]])
    nodes, edges = parse_dot(rs[0].stdout)
    assert {"MulBackward0", "SinBackward0", "AddBackward0", "x\n()", "y\n()", "f\n()"} <= set(nodes.values())
    assert {"self\n()", "other\n()"} <= set(nodes.values())  # what MulBackward0 and SinBackward0 saved
    assert sum(1 for *_, attrs in edges if "dashed" in attrs) == 3
    nodes, edges = parse_dot(rs[1].stdout)
    assert {"f[0]\n()", "f[1]\n()"} <= set(nodes.values())


def test_graph_files_with_and_without_graphviz(tmp_path):
    no_dot = _env(PATH=os.path.dirname(sys.executable))
    rs = ndgrad_many([["graph", "x**2", "--at", "x=2", "-o", "g.dot"]], cwd=tmp_path)
    rs += ndgrad_many([["graph", "x**2", "--at", "x=2", "-o", "nodot.svg"]], cwd=tmp_path, env=no_dot)
    assert rs[0].returncode == 0 and rs[0].stdout == "wrote g.dot\n"
    parse_dot((tmp_path / "g.dot").read_text())
    line = assert_clean_error(rs[1], 1)
    assert "Graphviz" in line and "nodot.dot" in line
    assert not (tmp_path / "nodot.svg").exists()
    parse_dot((tmp_path / "nodot.dot").read_text())
    if shutil.which("dot") is None:
        return  # rendering needs Graphviz: checked where it is installed
    rs = ndgrad_many([["graph", "x*y + sin(x)", "--at", "x=3,y=2", "-o", "g.svg"],
                      ["graph", "x*y", "--at", "x=3,y=2", "-o", "g.png"]], cwd=tmp_path)
    assert rs[0].returncode == 0 and rs[1].returncode == 0, rs[0].stderr
    svg = (tmp_path / "g.svg").read_text()
    assert "<svg" in svg and "MulBackward0" in svg and "SinBackward0" in svg
    assert (tmp_path / "g.png").read_bytes()[:8] == PNG_SIGNATURE


# -- explain -------------------------------------------------------------------------------------------------------
def test_explain_matches_hand_derived_local_derivatives():
    """y = x**3 + 2*x**2 at x = 2: d(u+v)=1,1; d(2w)/dw = 2; d(x**2)/dx = 2x = 4; d(x**3)/dx = 3x^2 = 12."""
    rs = ndgrad_many([["explain", "x**3 + 2*x**2", "--at", "x=2", "--json"]])
    rs.append(ndgrad_run("explain", "x**3 + 2*x**2", "--at", "x=2"))
    d = json.loads(rs[0].stdout)
    assert d["value"] == 16.0 and d["gradients"] == {"x": 20.0}
    steps = d["steps"]
    assert [s["node"] for s in steps] == ["AddBackward0", "MulBackward0", "PowBackward0", "PowBackward0",
                                         "AccumulateGrad"]
    add, mul, sq, cube, acc = steps
    assert [e["local_derivative"] for e in add["edges"]] == [1.0, 1.0]
    assert [e["to_step"] for e in add["edges"]] == [4, 2]  # x**3 and 2*x**2
    assert mul["grad_in"] == [1.0] and [(e["grad"], e["local_derivative"]) for e in mul["edges"]] == [(2.0, 2.0)]
    assert sq["grad_in"] == [2.0] and [(e["grad"], e["local_derivative"]) for e in sq["edges"]] == [(8.0, 4.0)]
    assert cube["grad_in"] == [1.0] and [(e["grad"], e["local_derivative"]) for e in cube["edges"]] == [(12.0, 12.0)]
    assert acc["leaf"] == "x" and acc["grad_in"] == [20.0]
    assert [c["grad"] for c in acc["contributions"]] == [8.0, 12.0]
    text = rs[1].stdout
    assert rs[1].returncode == 0
    rows = [ln.split() for ln in text.splitlines()]
    assert ["3", "PowBackward0", "2", "x", "(step", "5)", "8", "4"] in rows
    assert ["4", "PowBackward0", "1", "x", "(step", "5)", "12", "12"] in rows
    assert "8 + 12 = 20" in text and "x.grad = 20" in text


def test_explain_two_variables_agrees_with_diff():
    rs = ndgrad_many([["explain", "x*y + sin(x)", "--at", "x=3,y=2", "--json"],
                      ["diff", "x*y + sin(x)", "--at", "x=3,y=2", "--json"]])
    e, d = json.loads(rs[0].stdout), json.loads(rs[1].stdout)
    assert e["gradients"] == pytest.approx(d["gradient"], rel=1e-15)
    sin = next(s for s in e["steps"] if s["node"] == "SinBackward0")
    assert sin["edges"][0]["local_derivative"] == pytest.approx(C3, rel=1e-12)


# -- tour ----------------------------------------------------------------------------------------------------------
def test_tour_runs_every_lesson_and_writes_the_plot(tmp_path):
    pytest.importorskip("matplotlib")
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from test_tutorials import EXPECTED
    finally:
        sys.path.remove(str(ROOT / "tests"))
    from ndgrad._tour import SCENARIOS
    r = ndgrad_run("tour", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for title, _ in SCENARIOS:
        assert f"=== {title} ===" in out
    # every line each lesson prints appears, right after the statement that printed it
    for number, expected in EXPECTED.items():
        section = out.split(f"=== {number}. ")[1].split("\n=== ")[0]
        section = section.split("\nNote: ")[0].split("\n\nwrote ")[0]
        printed = "".join(ln + "\n" for ln in section.splitlines()[1:] if not ln.startswith((">>> ", "...")) and ln)
        assert printed == expected, number
    assert ">>> print(x.grad)\ntensor([15.])\n" in out
    assert "Note: A popular tutorial" in out
    assert out.rstrip().endswith("(scenario 12)") and "wrote ndgrad-tour.png" in out
    _check_png(tmp_path / "ndgrad-tour.png")
    assert [p.name for p in tmp_path.iterdir()] == ["ndgrad-tour.png"]


def test_tour_selection_list_and_output_path(tmp_path):
    rs = ndgrad_many([["tour", "3", "11", "--no-plot"], ["tour", "--list"], ["tour", "12", "-o", "t.png"]],
                     cwd=tmp_path)
    assert rs[0].returncode == 0
    assert "=== 3. " in rs[0].stdout and "=== 11. " in rs[0].stdout and "=== 1. " not in rs[0].stdout
    assert "tensor([16.])" in rs[0].stdout
    assert len(rs[1].stdout.splitlines()) == 18
    if rs[2].returncode == 0 and "wrote t.png" in rs[2].stdout:
        _check_png(tmp_path / "t.png")
    assert not (tmp_path / "ndgrad-tour.png").exists()
