"""Benchmark of nmfedu.nmf against libfmp, scikit-learn and the matrix-product bound.

Prints one table whose ratios all come from this single run (so they are
meaningful on a busy machine even when absolute times are not). Not a test:
it only reports (and marks each target PASS/FAIL).

Setting: multiplicative-update NMF of a K = 1025 × N ≈ 2900 magnitude
spectrogram (the bundled piano pieces concatenated and tiled; a random
low-rank + noise matrix if data/ is missing), R = 88 and 176, the same
W0/H0 and iteration count for every implementation.

Bounds, timed in the same run with the same shapes and dtype:

* Frobenius: the six products of one iteration in their cheapest order,
  WᵀV, WᵀW, (WᵀW)H, VHᵀ, HHᵀ, W(HHᵀ);
* KL: the four K × N-sized products WH (twice), WᵀQ, QHᵀ.

Run:  .venv/bin/python benchmarks/bench_nmf.py [--quick] [--iters 20] [--repeat 3]
(``make bench`` runs every benchmarks/bench_*.py). Use OPENBLAS_NUM_THREADS=1
for steadier numbers; the thread count is printed.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import nmfedu  # noqa: E402
from nmfedu.factorization import init_random, loss as nmf_loss  # noqa: E402

K_BINS = 1025
N_FRAMES = 2900


# --------------------------------------------------------------------------- #
# input
# --------------------------------------------------------------------------- #
def make_V(N=N_FRAMES, seed=0):
    """A realistic K × N magnitude spectrogram and a description of its source."""
    try:
        from nmfedu import data, spectrogram
        specs = []
        for name in data.names():
            if name == data.TOY:
                continue
            specs.append(spectrogram.magnitude(data.load(name).x))
        if not specs:
            raise RuntimeError("no pieces")
        S = np.concatenate(specs, axis=1)
        reps = int(np.ceil(N / S.shape[1]))
        V = np.ascontiguousarray(np.tile(S, (1, reps))[:, :N], dtype=np.float64)
        if V.shape[0] != K_BINS:
            raise RuntimeError(f"unexpected K={V.shape[0]}")
        return V, f"bundled piano pieces ({S.shape[1]} frames) tiled to N={N}"
    except Exception as exc:  # data/ missing or incomplete
        rng = np.random.default_rng(seed)
        Wt = rng.random((K_BINS, 40)) ** 4
        Ht = rng.random((40, N)) ** 4
        V = Wt @ Ht + 0.01 * rng.random((K_BINS, N))
        return V, f"random low-rank + noise (data unavailable: {exc})"


def threads_info():
    env = os.environ.get("OPENBLAS_NUM_THREADS", "unset")
    try:
        from threadpoolctl import threadpool_info
        n = ",".join(f"{i['internal_api']}:{i['num_threads']}" for i in threadpool_info()
                     if i.get("user_api") == "blas")
    except Exception:
        n = "?"
    return f"OPENBLAS_NUM_THREADS={env}, BLAS threads {n}, cores {os.cpu_count()}"


# --------------------------------------------------------------------------- #
# timing helpers
# --------------------------------------------------------------------------- #
CLOCK = time.perf_counter


def interleaved(fns, repeat):
    """Best time (seconds) of each callable in ``fns`` (dict name -> fn).

    The callables are run in rounds (each once per round, ``repeat`` rounds),
    so that load from other processes hits all of them alike.
    """
    best = {k: float("inf") for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            t = CLOCK()
            fn()
            best[k] = min(best[k], CLOCK() - t)
    return best


def frob_bound(V, W, H, iters):
    WtV = np.empty((W.shape[1], V.shape[1]), V.dtype)
    D = np.empty_like(WtV)
    VHt = np.empty_like(W)
    E = np.empty_like(W)

    def run():
        for _ in range(iters):
            np.matmul(W.T, V, out=WtV)
            WtW = W.T @ W
            np.matmul(WtW, H, out=D)
            np.matmul(V, H.T, out=VHt)
            HHt = H @ H.T
            np.matmul(W, HHt, out=E)
    return run


def kl_bound(V, W, H, iters):
    Q = np.empty_like(V)
    G = np.empty_like(H)
    P = np.empty_like(W)

    def run():
        for _ in range(iters):
            np.matmul(W, H, out=Q)
            np.matmul(W.T, Q, out=G)
            np.matmul(W, H, out=Q)
            np.matmul(Q, H.T, out=P)
    return run


def run_libfmp(V, W0, H0, iters):
    import libfmp.c8
    return lambda: libfmp.c8.nmf(V, W0.shape[1], thresh=0.0, L=iters, W=W0.copy(), H=H0.copy())


def run_sklearn(V, W0, H0, iters, beta):
    from sklearn.decomposition import NMF
    bl = "frobenius" if beta == "frobenius" else "kullback-leibler"

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = NMF(n_components=W0.shape[1], init="custom", solver="mu", beta_loss=bl,
                    max_iter=iters, tol=0.0)
            W = m.fit_transform(V, W=W0.copy(), H=H0.copy())
        return W, m.components_
    return run


def run_nmfedu(V, W0, H0, iters, beta, **kw):
    # the default call: default tol (stop rule checked every iteration), loss history
    # of every iteration. The default tol is small enough that no run here stops early.
    return lambda: nmfedu.nmf(V, W0.shape[1], W0, H0, n_iter=iters, beta=beta, **kw)


# --------------------------------------------------------------------------- #
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iters", type=int, default=30, help="iterations per timed run (default 30)")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="wall time (default) or process CPU time (steadier on a shared machine "
                         "with OPENBLAS_NUM_THREADS=1)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per implementation; the best counts")
    ap.add_argument("--long", type=int, default=200, help="iterations of the float32 and accelerated comparisons")
    ap.add_argument("--ranks", type=int, nargs="+", default=[88, 176])
    ap.add_argument("--quick", action="store_true", help="R=88 only, fewer repeats (a smoke run)")
    ap.add_argument("--skip-refs", action="store_true", help="skip libfmp and scikit-learn")
    args = ap.parse_args(argv)
    if args.quick:
        args.ranks, args.repeat, args.long = [88], 2, 100

    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    V64, source = make_V()
    K, N = V64.shape
    print(f"# bench_nmf: V {K} x {N} from {source}")
    print(f"# {threads_info()}; {args.iters} iterations per run, best of {args.repeat} interleaved rounds; "
          f"clock: {args.clock}")
    rows = []
    checks = []
    it = args.iters

    def add(impl, beta, dtype, R, sec, bound=None, fmp=None, skl=None, note=""):
        ms = 1e3 * sec / it
        rows.append((impl, beta, dtype, R, ms,
                     sec / bound if bound else None,
                     fmp / sec if fmp else None,
                     skl / sec if skl else None, note))

    def check(name, ok, detail):
        checks.append((name, ok, detail))
        print(f"  {'PASS' if ok else 'FAIL'}  {name}: {detail}", flush=True)

    for R in args.ranks:
        W0, H0 = init_random(V64, R, seed=1, scale=float(V64.mean()))
        V32, W32, H32 = (a.astype(np.float32) for a in (V64, W0, H0))

        # ---------------- Frobenius -----------------------------------------
        fns = {
            "bound64": frob_bound(V64, W0, H0, it),
            "bound32": frob_bound(V32, W32, H32, it),
            "nmf64": run_nmfedu(V64, W0, H0, it, "frobenius"),
            "nmf64_tol0": run_nmfedu(V64, W0, H0, it, "frobenius", tol=0),
            "nmf32": run_nmfedu(V64, W0, H0, it, "frobenius", dtype=np.float32),
        }
        if not args.skip_refs:
            run_libfmp(V64, W0, H0, 2)()                       # numba warm-up (compilation)
            fns["libfmp"] = run_libfmp(V64, W0, H0, it)
            fns["sklearn"] = run_sklearn(V64, W0, H0, it, "frobenius")
        t = interleaved(fns, args.repeat)
        tb64, tb32, t64, t32 = t["bound64"], t["bound32"], t["nmf64"], t["nmf32"]
        tf, ts = t.get("libfmp"), t.get("sklearn")
        add("bound (6 products)", "frobenius", "float64", R, tb64, tb64)
        add("bound (6 products)", "frobenius", "float32", R, tb32, tb32)
        if tf:
            add("libfmp.c8.nmf", "frobenius", "float64", R, tf, tb64, tf, ts)
            add("sklearn NMF(solver='mu')", "frobenius", "float64", R, ts, tb64, tf, ts)
        add("nmfedu.nmf (default call)", "frobenius", "float64", R, t64, tb64, tf, ts,
            "loss every it + stop rule")
        add("nmfedu.nmf tol=0", "frobenius", "float64", R, t["nmf64_tol0"], tb64, tf, ts, "loss every it")
        add("nmfedu.nmf (default call)", "frobenius", "float32", R, t32, tb32, None, None,
            f"{t64 / t32:.2f}x faster than float64")
        check(f"R={R} frobenius f64 <= 1.15x bound", t64 / tb64 <= 1.15, f"{t64 / tb64:.3f}x")
        if tf:
            check(f"R={R} frobenius f64 >= 2.2x faster than libfmp", tf / t64 >= 2.2, f"{tf / t64:.2f}x")
            check(f"R={R} frobenius f64 at least as fast as sklearn", ts / t64 >= 1.0, f"{ts / t64:.2f}x")
        check(f"R={R} frobenius f32 >= 1.8x faster than f64", t64 / t32 >= 1.8, f"{t64 / t32:.2f}x")

        # ---------------- KL ---------------------------------------------------
        le = nmfedu_default_loss_every("kl")
        fns = {
            "bound64": kl_bound(V64, W0, H0, it),
            "bound32": kl_bound(V32, W32, H32, it),
            "nmf64": run_nmfedu(V64, W0, H0, it, "kl"),
            "nmf64_le1": run_nmfedu(V64, W0, H0, it, "kl", loss_every=1),
            "nmf32": run_nmfedu(V64, W0, H0, it, "kl", dtype=np.float32),
        }
        if not args.skip_refs:
            fns["sklearn"] = run_sklearn(V64, W0, H0, it, "kl")
        t = interleaved(fns, args.repeat)
        kb64, kb32, k64, k32, k64e = t["bound64"], t["bound32"], t["nmf64"], t["nmf32"], t["nmf64_le1"]
        ks = t.get("sklearn")
        add("bound (4 KxN products)", "kl", "float64", R, kb64, kb64)
        add("bound (4 KxN products)", "kl", "float32", R, kb32, kb32)
        if ks:
            add("sklearn NMF(solver='mu', KL)", "kl", "float64", R, ks, kb64, None, ks, "no loss computed")
        add("nmfedu.nmf (default call)", "kl", "float64", R, k64, kb64, None, ks, f"loss_every={le}")
        add("nmfedu.nmf loss_every=1", "kl", "float64", R, k64e, kb64, None, ks, "loss every it")
        add("nmfedu.nmf (default call)", "kl", "float32", R, k32, kb32, None, None,
            f"{k64 / k32:.2f}x faster than float64")
        check(f"R={R} kl f64 <= 1.4x bound (default call, loss_every={le})", k64 / kb64 <= 1.4,
              f"{k64 / kb64:.3f}x (with loss_every=1: {k64e / kb64:.3f}x)")
        if ks:
            check(f"R={R} kl f64 >= 1.25x faster than sklearn", ks / k64 >= 1.25, f"{ks / k64:.2f}x")
        check(f"R={R} kl f32 >= 1.8x faster than f64", k64 / k32 >= 1.8, f"{k64 / k32:.2f}x")

        # ---------------- float32 accuracy -------------------------------------
        for beta in ("frobenius", "kl"):
            a = nmfedu.nmf(V64, R, W0, H0, n_iter=args.long, tol=0, beta=beta)
            b = nmfedu.nmf(V64, R, W0, H0, n_iter=args.long, tol=0, beta=beta, dtype=np.float32)
            la = nmf_loss(V64, a.W, a.H, beta)
            lb = nmf_loss(V64, b.W.astype(np.float64), b.H.astype(np.float64), beta)
            rel = abs(la - lb) / la
            check(f"R={R} {beta} f32 vs f64: relative loss difference after {args.long} its < 1e-3",
                  rel < 1e-3, f"{rel:.2e}")

        # ---------------- accelerated MU: time to plain MU's loss --------------
        t_mu = float("inf")
        acc_best = float("inf")
        its = None
        for _ in range(max(1, args.repeat - 1)):
            t0 = CLOCK()
            mu = nmfedu.nmf(V64, R, W0, H0, n_iter=args.long, tol=0)
            t_mu = min(t_mu, CLOCK() - t0)
            target = mu.loss[-1]
            hit = {}

            def cb(i, W, H, value):
                if value <= target:
                    hit["t"], hit["it"] = CLOCK(), i
                    return True
                return False
            t0 = CLOCK()
            acc = nmfedu.nmf(V64, R, W0, H0, n_iter=args.long, tol=0, method="accelerated", callback=cb)
            if "t" in hit:
                acc_best = min(acc_best, hit["t"] - t0)
                its = hit["it"]
        ok = its is not None and acc_best / t_mu <= 0.5
        ih, iw = nmfedu.factorization.inner_iterations(K, N, R)
        rows.append((f"accelerated MU (inner <= {ih} H, {iw} W)", "frobenius", "float64", R,
                     1e3 * acc_best / its if its else float("nan"), None, None, None,
                     f"reaches MU's {args.long}-it loss in {acc_best:.2f}s vs {t_mu:.2f}s "
                     f"= {acc_best / t_mu:.2f}x ({its} outer its)" if its else "target not reached"))
        check(f"R={R} accelerated MU reaches plain MU's {args.long}-it loss in <= 0.5x the time", ok,
              f"{acc_best / t_mu:.2f}x" if its else "not reached")

    # ---------------- table ----------------------------------------------------
    hdr = f"{'implementation':<40} {'beta':<9} {'dtype':<7} {'R':>4} {'ms/it':>8} {'x bound':>8} " \
          f"{'libfmp/x':>8} {'sklearn/x':>9}  note"
    print(hdr)
    print("-" * len(hdr))
    f = lambda v: f"{v:8.3f}" if v is not None else f"{'':8}"  # noqa: E731
    for impl, beta, dt, R, ms, rb, rf, rs, note in rows:
        print(f"{impl:<40} {beta:<9} {dt:<7} {R:>4} {ms:8.2f} {f(rb)} {f(rf)} {f(rs)}  {note}")
    print("\n# libfmp/x and sklearn/x: how many times faster than the reference (> 1 is faster)")
    print("# targets")
    for name, ok, detail in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")
    return 0


def nmfedu_default_loss_every(beta):
    import inspect
    from nmfedu import factorization
    d = inspect.signature(factorization.nmf).parameters["loss_every"].default
    if d is None and hasattr(factorization, "_default_loss_every"):
        return factorization._default_loss_every(beta)
    return d


if __name__ == "__main__":
    sys.exit(main())
