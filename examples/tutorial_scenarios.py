"""The tutorial scenarios of ndgrad's brief, runnable with ndgrad or (for comparison) torch.

    python examples/tutorial_scenarios.py            # with ndgrad
    python examples/tutorial_scenarios.py --torch    # the same code with PyTorch

Each scenario is plain PyTorch tutorial code that refers to the library as `torch`.
"""
from __future__ import annotations

import sys
import textwrap

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


def run(torch_module, names: list[str] | None = None, echo: bool = False) -> None:
    """Run the scenarios (all, or those whose title starts with one of `names`)."""
    for title, code in SCENARIOS:
        if names and not any(title.startswith(n + ".") for n in names):
            continue
        src = textwrap.dedent(code).strip("\n")
        if echo:
            print(f"# --- {title}")
            print(textwrap.indent(src, ">>> "))
        exec(compile(src, f"<scenario {title}>", "exec"), {"torch": torch_module, "__name__": "__scenario__"})
        if echo:
            print()


if __name__ == "__main__":
    if "--torch" in sys.argv:
        import torch as lib
    else:
        import ndgrad as lib
    run(lib, [a for a in sys.argv[1:] if not a.startswith("-")], echo=True)
