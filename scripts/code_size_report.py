"""Module sizes and the longest functions of the nmfedu package.

Usage::

    .venv/bin/python scripts/code_size_report.py [PACKAGE_DIR] [--top N] [--over 60]
    git archive 09714a0 nmfedu | tar -x -C /tmp/old && python scripts/code_size_report.py /tmp/old/nmfedu

"Code lines" of a function are its lines without blank lines, comment lines and docstrings
(the function's own and those of nested functions); a nested function counts towards its
enclosing function and is also listed on its own. Only the standard library is used, so the
script runs on any checkout.
"""
from __future__ import annotations

import argparse
import ast
import io
import tokenize
from pathlib import Path


def _docstring_lines(tree):
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


def _code_lines(source):
    """Line numbers that hold code (not blank, not only a comment, not a docstring)."""
    tree = ast.parse(source)
    doc = _docstring_lines(tree)
    code = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                        tokenize.DEDENT, tokenize.ENDMARKER):
            continue
        for line in range(tok.start[0], tok.end[0] + 1):
            if line not in doc:
                code.add(line)
    return tree, code


def report(package: Path):
    modules, functions = [], []
    for path in sorted(package.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        tree, code = _code_lines(source)
        name = str(path.relative_to(package.parent))
        modules.append((name, source.count("\n"), len(code)))
        stack = [(node, "") for node in tree.body]
        while stack:
            node, prefix = stack.pop()
            if isinstance(node, ast.ClassDef):
                stack.extend((n, f"{prefix}{node.name}.") for n in node.body)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n_code = sum(1 for line in code if node.lineno <= line <= node.end_lineno)
                functions.append((n_code, f"{name}:{prefix}{node.name}"))
                stack.extend((n, f"{prefix}{node.name}.") for n in ast.walk(node)
                             if n is not node and isinstance(n, (ast.FunctionDef,
                                                                 ast.AsyncFunctionDef))
                             and n in node.body)
    return modules, sorted(functions, reverse=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", nargs="?", default=str(Path(__file__).resolve().parents[1] / "nmfedu"))
    parser.add_argument("--top", type=int, default=12, help="longest functions listed")
    parser.add_argument("--over", type=int, default=60, help="also count functions above this")
    args = parser.parse_args(argv)
    modules, functions = report(Path(args.package))
    print(f"{'module':40s} {'lines':>6s} {'code':>6s}")
    for name, lines, code in modules:
        print(f"{name:40s} {lines:6d} {code:6d}")
    print(f"{'total':40s} {sum(m[1] for m in modules):6d} {sum(m[2] for m in modules):6d}")
    print(f"\nlongest functions (code lines); {sum(1 for f in functions if f[0] > args.over)} "
          f"above {args.over}, longest {functions[0][0] if functions else 0}")
    for n, name in functions[:args.top]:
        print(f"{n:5d}  {name}")


if __name__ == "__main__":
    main()
