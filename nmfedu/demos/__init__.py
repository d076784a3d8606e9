"""Interactive figures of the notebooks, one module per notebook (``nmfedu.demos.nbNN``).

A notebook displays ``nbNN.<name>_widget()``; ``benchmarks/bench_widgets.py`` builds the same
object and calls its ``update(**params)`` — the callback a slider or Run button runs — to
measure how long a reader waits. Keeping the factories here (not in the notebooks) is what
makes that measurement possible.

Notebooks: 01–04, 06–08 (one module each).
"""
