#!/usr/bin/env python3
"""Reference values for src/stats/sequential (the vectors in its `reference` tests).

Computes the one-sided beta-binomial mixture e-values by direct numerical integration
of the likelihood ratio against the truncated Beta density (mpmath's tanh-sinh quadrature
at 40 digits), checked against mpmath's hypergeometric incomplete beta function (which is
printed), not by the continued fraction the Rust code uses, and the confidence-sequence bounds by SciPy's root finder on those integrals.
Needs scipy and mpmath. Run: python3 tests/reference/anytime_bounds.py
"""
import math
import mpmath
from scipy import optimize

mpmath.mp.dps = 40

def ln_e(a, b, s, t, p0, side):
    """ln of the mixture of likelihood ratios against p0 over (p0, 1) or (0, p0).

    When s + a < 1 the integrand p^(s+a-1) is singular at 0: there the numerator is
    integrated in u = p^(s+a), which removes the singularity. The prior mass is mpmath's
    hypergeometric betainc.
    """
    a, b, s, t, p0 = (mpmath.mpf(v) for v in (a, b, s, t, p0))
    lo, hi = (p0, mpmath.mpf(1)) if side == "above" else (mpmath.mpf(0), p0)
    k = s + a
    null = p0 ** s * (1 - p0) ** (t - s)
    if k < 1:
        smooth = lambda u: (1 - u ** (1 / k)) ** (t - s + b - 1) / k
        num = mpmath.quad(smooth, [lo ** k, hi ** k])
    else:
        # Cut at the posterior mode and a few standard deviations around it.
        mode = (k - 1) / (t + a + b - 2)
        sd = mpmath.sqrt(mode * (1 - mode) / t)
        cuts = sorted({lo, hi} | {mode + j * sd for j in (-8, -4, -2, -1, 0, 1, 2, 4, 8)
                                  if lo < mode + j * sd < hi})
        num = mpmath.quad(lambda p: p ** (k - 1) * (1 - p) ** (t - s + b - 1), cuts,
                          maxdegree=12)
    mass = mpmath.betainc(a, b, lo, hi)
    # The same integral in closed form (hypergeometric series at 40 digits): the printed
    # value, once the quadrature agrees with it.
    exact = mpmath.beta(k, t - s + b) * mpmath.betainc(k, t - s + b, lo, hi, regularized=True)
    assert abs(num / exact - 1) < 1e-7, (num, exact)
    return float(mpmath.log(exact / null / mass))

def bound(a, b, s, t, alpha, side):
    """Upper (side='upper') or lower confidence-sequence bound by root finding."""
    level = math.log(1 / alpha)
    est = s / t
    if side == "upper":
        f = lambda p: ln_e(a, b, s, t, p, "below") - level
        return optimize.brentq(f, est + 1e-9, 1 - 1e-9, xtol=1e-13)
    f = lambda p: ln_e(a, b, s, t, p, "above") - level
    return optimize.brentq(f, 1e-9, est - 1e-9, xtol=1e-13)

CASES = [  # a, b, s, t, p0
    (0.2, 19.8, 0, 300, 0.01),
    (0.2, 19.8, 12, 100, 0.01),
    (0.2, 19.8, 3, 400, 0.01),
    (10.0, 10.0, 60, 100, 0.5),
    (10.0, 10.0, 41, 100, 0.5),
    (0.02, 19.98, 2, 5000, 0.001),
    (1.0, 1.0, 5, 40, 0.3),
]
BOUNDS = [  # a, b, s, t, alpha
    (0.2, 19.8, 0, 500, 0.05),
    (0.2, 19.8, 30, 300, 0.05),
    (10.0, 10.0, 55, 100, 0.025),
]

if __name__ == "__main__":
    for a, b, s, t, p0 in CASES:
        print(f"({a}, {b}, {s}, {t}, {p0}, {ln_e(a, b, s, t, p0, 'above')!r}, "
              f"{ln_e(a, b, s, t, p0, 'below')!r}),")
    for a, b, s, t, alpha in BOUNDS:
        lower = bound(a, b, s, t, alpha, "lower") if s > 0 else 0.0
        print(f"({a}, {b}, {s}, {t}, {alpha}, {lower!r}, {bound(a, b, s, t, alpha, 'upper')!r}),")
