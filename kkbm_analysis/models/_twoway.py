"""Two-way (unit and period) fixed effects on part of a balanced panel, solved exactly in O(N T²).

The imputation DiD (:mod:`.did`) fits ``Y_it = a_i + l_t`` (``l`` of the first period 0) by
least squares on a subset of the cells of an N x T panel (the untreated village-months),
and then needs the same least-squares solution for many other right-hand sides (the
implied weights of every estimand, the lead indicators of the pre-trend regression).

The normal equations of the two sets of dummies are ``[[diag(n), C], [C', diag(m)]]``
with ``n_i`` the unit's cells in the mask, ``m_t`` the period's, and ``C = mask[:, 1:]``.
The unit block is diagonal, so the unit effects are eliminated exactly (block elimination,
the direct-solver form of the within transformation): the ``(T - 1)``-square Schur complement
``S = diag(m) - C' diag(1/n) C`` is Cholesky-factorised once, and each right-hand side then
costs O(N T). At 6,000 villages and 60 months that is one 59-square factorisation in place of
a dense 6,059-square solve. The answer is the least-squares solution itself, to rounding,
not an iterative approximation (alternating projections would need a convergence tolerance).
"""
from __future__ import annotations

import numpy as np
from scipy import linalg


class TwoWayFE:
    """Unit and period fixed effects fitted on the cells of ``mask`` (N x T booleans).

    Every unit must have at least one cell in the mask, and the mask must connect all units
    and periods (true when some unit is observed in every period, or every unit in a common
    period); otherwise the effects are not identified and ``LinAlgError`` is raised.
    """

    def __init__(self, mask: np.ndarray):
        self.mask = np.asarray(mask, dtype=bool)
        cells = self.mask.astype(float)
        self.n_unit = cells.sum(axis=1)
        if (self.n_unit == 0).any():
            raise np.linalg.LinAlgError("a unit has no cell in the mask: its fixed effect is not identified")
        self._C = cells[:, 1:]
        schur = np.diag(cells.sum(axis=0)[1:]) - (self._C / self.n_unit[:, None]).T @ self._C
        self._factor = linalg.cho_factor(schur)

    def solve(self, unit_sums: np.ndarray, period_sums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The fixed effects b solving ``Z'Z b = Z'w`` for right-hand sides given as sums of w.

        Parameters
        ----------
        unit_sums : ndarray, N x K
            Per unit, the sum of w over its cells in the mask (K right-hand sides).
        period_sums : ndarray, T x K
            Per period, the same sums (the first period's row is not used).

        Returns
        -------
        a : ndarray, N x K
            Unit effects.
        l : ndarray, T x K
            Period effects, the first period's 0.
        """
        rhs = period_sums[1:] - self._C.T @ (unit_sums / self.n_unit[:, None])
        l_rest = linalg.cho_solve(self._factor, rhs)
        a = (unit_sums - self._C @ l_rest) / self.n_unit[:, None]
        return a, np.vstack([np.zeros((1, l_rest.shape[1])), l_rest])

    def fitted(self, Y: np.ndarray) -> np.ndarray:
        """``a_i + l_t`` in every cell (N x T) of the least-squares fit of ``Y`` on the mask's cells."""
        W = np.where(self.mask, Y, 0.0)
        a, lam = self.solve(W.sum(axis=1)[:, None], W.sum(axis=0)[:, None])
        return a + lam.T

    def residuals(self, Y: np.ndarray) -> np.ndarray:
        """``Y`` minus its fixed-effects fit on the mask's cells, 0 outside the mask."""
        return np.where(self.mask, Y - self.fitted(Y), 0.0)
