"""Exercise solutions for the notebooks, shown only when the reader asks.

Each notebook ``NN_*.ipynb`` has a module ``nmfedu.exercises.nbNN`` with one
function per exercise. A notebook cell calls ``show(solution, SHOW_SOLUTIONS)``:
with the flag False it prints a one-line hint that a solution exists; with the
flag True it runs the solution (which prints and/or plots its answer).

Notebooks: 01–04, 06–08 (one module each; :func:`show` in every one).
"""
from __future__ import annotations

import inspect


def show(solution, flag: bool, *args, **kwargs):
    """Run ``solution(*args, **kwargs)`` if ``flag`` is true, else say how to reveal it.

    Notebooks: 01–04, 06–08 (every exercise).

    Parameters
    ----------
    solution : callable
        A solution function from ``nmfedu.exercises.nbNN``.
    flag : bool
        The notebook's ``SHOW_SOLUTIONS`` flag.

    Returns
    -------
    The solution's return value, or None when hidden.
    """
    if not flag:
        print(f"Solution hidden: set SHOW_SOLUTIONS = True and re-run this cell "
              f"to see nmfedu.exercises.{solution.__module__.rsplit('.', 1)[-1]}.{solution.__name__}.")
        return None
    return solution(*args, **kwargs)


def source(solution) -> str:
    """The source code of a solution function (to print it instead of running it).

    Notebooks: 01–04, 06–08 (through :func:`show`).
    """
    return inspect.getsource(solution)
