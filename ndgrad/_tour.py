"""The tutorial scenarios: the everyday autograd lessons, and `ndgrad tour`, which runs them one by one.

Each scenario is plain PyTorch tutorial code that refers to the library as `torch`; it runs unchanged
with `import ndgrad as torch` and prints what PyTorch 2.13 prints. `examples/tutorial_scenarios.py`
and the test suite import the list from here; `ndgrad tour` shows each snippet as a REPL transcript
(each statement followed by what it printed) and writes the function-and-derivative plot.
"""
from __future__ import annotations

import ast
import contextlib
import io
import textwrap
import traceback
from typing import Any, TextIO

__all__ = ["SCENARIOS", "NOTES", "run", "tour"]

SCENARIOS: list[tuple[str, str]] = [
    ("1. derivative of a polynomial", """
        x = torch.tensor([3.0], requires_grad=True)
        y = 2 * x**2 + 3 * x + 1
        y.backward()
        print(x.grad)
    """),
    ("2. partial derivatives", """
        x = torch.tensor([1.0], requires_grad=True)
        y = torch.tensor([2.0], requires_grad=True)
        z = 3 * x**2 + 4 * y + 2
        z.backward()
        print(x.grad)
        print(y.grad)
    """),
    ("3. second derivative with create_graph", """
        x = torch.tensor([2.0], requires_grad=True)
        y = x**3 + 2 * x**2 + 3 * x + 4
        first = torch.autograd.grad(y, x, create_graph=True)[0]
        print(first)
        second = torch.autograd.grad(first, x)[0]
        print(second)
    """),
    ("4. sin + cos", """
        x = torch.tensor([1.0], requires_grad=True)
        y = torch.sin(x) + torch.cos(x)
        y.backward()
        print(x.grad)
    """),
    ("5. vector-Jacobian product with gradient=1/x", """
        x = torch.tensor([2.0], requires_grad=True)
        y = torch.log(x)
        y.backward(gradient=1 / x)
        print(x.grad)
    """),
    ("6. manual gradient descent", """
        x = torch.tensor([3.0], requires_grad=True)
        lr = 0.1
        for _ in range(100):
            y = 2 * x**2 + 3 * x + 1
            y.backward()
            x.data -= lr * x.grad
            x.grad.zero_()
        print(x)
    """),
    ("7. gradient descent with optim.SGD", """
        x = torch.tensor([3.0], requires_grad=True)
        opt = torch.optim.SGD([x], lr=0.1)
        for _ in range(100):
            opt.zero_grad()
            y = 2 * x**2 + 3 * x + 1
            y.backward()
            opt.step()
        print(x)
    """),
    ("8. integer tensors cannot require grad", """
        try:
            x = torch.tensor([5], requires_grad=True)
        except RuntimeError as e:
            print("RuntimeError:", e)
    """),
    ("9. custom autograd.Function ReLU", """
        class CustomReLU(torch.autograd.Function):
            @staticmethod
            def forward(ctx, input):
                ctx.save_for_backward(input)
                return torch.max(input, torch.tensor([0.0]))

            @staticmethod
            def backward(ctx, grad_output):
                input, = ctx.saved_tensors
                grad_input = grad_output.clone()
                grad_input[input < 0] = 0
                return grad_input

        x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = CustomReLU.apply(x)
        print(y)
        y.backward(torch.tensor([1.0, 1.0, 1.0]))
        print(x.grad)
    """),
    ("10. detach", """
        x = torch.tensor([2.0], requires_grad=True)
        y = torch.tensor([3.0])
        z = x**2 + y.detach()
        z.backward()
        print(x.grad)
    """),
    ("11. gradients accumulate", """
        x = torch.tensor([2.0], requires_grad=True)
        loss1 = x**2
        loss2 = x**3
        loss1.backward(retain_graph=True)
        loss2.backward()
        print(x.grad)
    """),
    ("12. function and derivative on a grid", """
        x = torch.linspace(-10, 10, 10, requires_grad=True)
        Y = x**2
        y = torch.sum(x**2)
        y.backward()
        print(x.grad)
        import numpy as np
        xs, ys, gs = x.detach().numpy(), Y.detach().numpy(), x.grad.detach().numpy()
        print(np.allclose(gs, 2 * xs), ys.shape)
    """),
    ("13. custom Function SQ on a 0-d tensor", """
        class SQ(torch.autograd.Function):
            @staticmethod
            def forward(ctx, i):
                ctx.save_for_backward(i)
                return i**2

            @staticmethod
            def backward(ctx, grad_output):
                i, = ctx.saved_tensors
                return grad_output * 2 * i

        x = torch.tensor(2.0, requires_grad=True)
        y = SQ.apply(x)
        print(y)
        print(type(y.grad_fn).__name__)
        y.backward()
        print(x.grad)
        print(x.is_leaf, y.is_leaf)
    """),
    ("14. indexing a vector", """
        x = torch.tensor([2.0, 3.0], requires_grad=True)
        print(x)
        print(x.requires_grad)
        y = x[0]**2 + 3 * x[1]
        print(y)
        y.backward()
        print(x.grad)
        print(x.grad.zero_())
    """),
    ("15. no_grad and detach", """
        x = torch.tensor([2.0, 3.0], requires_grad=True)
        with torch.no_grad():
            z = x * 2
        print(z)
        print(x.detach())
    """),
    ("16. higher-order partials", """
        x = torch.tensor([2.0, 3.0], requires_grad=True)
        y = x[0]**3 + 2 * x[1]**2
        y.backward(retain_graph=True)
        print(x.grad)
        g = torch.autograd.grad(y, x, create_graph=True)
        print(g)
        print(torch.autograd.grad(g[0][0], x, retain_graph=True))
    """),
    ("17. grad with grad_outputs", """
        a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = torch.tensor([2.0, 3.0, 4.0], requires_grad=True)
        c = a * b
        print(torch.autograd.grad(c, a, grad_outputs=torch.tensor([1.0, 1.0, 1.0])))
    """),
    ("18. Jacobian and Hessian", """
        f = lambda x: x[0]**2 + 2 * x[1]**2
        print(torch.autograd.functional.jacobian(f, torch.tensor([2.0, 3.0])))
        print(torch.autograd.functional.hessian(f, torch.tensor([2.0, 3.0])))
    """),
]



# Where popular written tutorials print a wrong number, the tour says so and gives the mathematics.
NOTES: dict[str, str] = {
    "3": "A popular tutorial prints 17 and 10. In fact y' = 3x^2 + 4x + 3 = 23 and y'' = 6x + 4 = 16 at x = 2.",
    "5": "A popular tutorial claims 0.5. backward(gradient=v) computes v * dy/dx = (1/x) * (1/x) = 0.25 at x = 2.",
    "6": "A popular tutorial claims -1.5. The minimum of 2x^2 + 3x + 1 is where 4x + 3 = 0, x = -0.75; each "
         "step x <- x - 0.1(4x + 3) shrinks the distance to it by 0.6.",
    "7": "optim.SGD does the same update as the manual loop: the minimum is at x = -0.75, not -1.5.",
    "8": "A popular tutorial claims a gradient of 30. Only floating point and complex tensors can require "
         "gradients, and a loop count such as range(x) is not differentiable anyway.",
    "11": "A popular tutorial claims 8. Gradients accumulate in .grad: d(x^2)/dx + d(x^3)/dx = 4 + 12 = 16 at x = 2.",
}


def _select(names: list[str] | None) -> list[tuple[str, str]]:
    return [(t, c) for t, c in SCENARIOS if not names or any(t.startswith(n + ".") for n in names)]


def run(torch_module: Any, names: list[str] | None = None, echo: bool = False) -> None:
    """Run the scenarios (all, or those whose title starts with one of `names`)."""
    for title, code in _select(names):
        src = textwrap.dedent(code).strip("\n")
        if echo:
            print(f"# --- {title}")
            print(textwrap.indent(src, ">>> "))
        exec(compile(src, f"<scenario {title}>", "exec"), {"torch": torch_module, "__name__": "__scenario__"})
        if echo:
            print()


def _transcript(src: str, title: str, ns: dict, out: TextIO) -> bool:
    """Run `src` statement by statement, writing each one REPL-style followed by what it printed."""
    lines = src.splitlines()
    ok = True
    for stmt in ast.parse(src).body:
        first = stmt.decorator_list[0].lineno if getattr(stmt, "decorator_list", None) else stmt.lineno
        chunk = lines[first - 1:stmt.end_lineno]
        for k, line in enumerate(chunk):
            out.write(((">>> " if k == 0 else "... ") + line).rstrip() + "\n")
        if len(chunk) > 1 or hasattr(stmt, "body"):
            out.write("...\n")  # the blank line that ends a block at the prompt
        buf = io.StringIO()
        try:
            with contextlib.redirect_stdout(buf):
                exec(compile(ast.Module([stmt], []), f"<scenario {title}>", "exec"), ns)
        except Exception as e:  # a failing lesson is reported and the tour goes on
            ok = False
            buf.write("".join(traceback.format_exception_only(type(e), e)))
        out.write(buf.getvalue())
        if not ok:
            break
    return ok


def tour(torch_module: Any, names: list[str] | None = None, out: TextIO | None = None) -> bool:
    """Show each scenario as a transcript; returns False if one of them raised."""
    import sys
    out = out or sys.stdout
    chosen = _select(names)
    ok = True
    for k, (title, code) in enumerate(chosen):
        number = title.split(".")[0]
        src = textwrap.dedent(code).strip("\n")
        out.write(("\n" if k else "") + f"=== {title} ===\n")
        ok &= _transcript(src, title, {"torch": torch_module, "__name__": "__scenario__"}, out)
        if number in NOTES:
            out.write(textwrap.fill("Note: " + NOTES[number], width=100, subsequent_indent="      ") + "\n")
    return ok
