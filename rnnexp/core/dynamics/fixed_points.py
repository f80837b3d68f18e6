"""Fixed points of a (trained) cell, after Sussillo & Barak, "Opening the
black box" (Neural Computation 2013): for each input token x, the states s*
with F(s*, x) = s*, where F is one step of the NumPy reference.

q(s) = ½‖F(s, x) - s‖² is minimised from many starting states (states the
network visited plus noise) by Levenberg-Marquardt steps on G(s) = F(s) - s
with the analytic Jacobian ∂G/∂s = ∂F/∂s - I: Newton's quadratic convergence
near a root, gradient-descent-like steps far from one. Points that converge
(‖G‖∞ ≤ TOLERANCE) in the states a cell can reach (every |h_i| ≤ 1: h is a
tanh, or for GRU a mix of the previous h and a tanh; elsewhere a GRU whose
update gate saturates at 1 has slow plateaus, not fixed points) are
deduplicated and linearised: the eigenvalues of ∂F/∂s
at s* say whether nearby states are drawn in (all |λ| < 1: stable) or not.
"""

from dataclasses import dataclass
from typing import Dict, List, Mapping, Sequence

import numpy as np

from rnnexp.core.dynamics.jacobians import step_with_jacobian

TOLERANCE = 1e-5  # ‖F(s*) - s*‖∞ of a recorded point
SAME_POINT = 1e-4  # points closer than this (‖·‖∞) are one point
ITERATIONS = 200


@dataclass
class FixedPoint:
    token: str
    state: np.ndarray  # (S,) float64: h, or [h; c] for LSTM
    q: float  # ½‖F(s*) - s*‖²
    residual: float  # ‖F(s*) - s*‖∞
    eigenvalues: np.ndarray  # (S,) complex, of ∂F/∂s at s*

    @property
    def max_abs_eigenvalue(self) -> float:
        return float(np.abs(self.eigenvalues).max())

    @property
    def stable(self) -> bool:
        return self.max_abs_eigenvalue < 1.0

    def as_json(self) -> Dict:
        return {"token": self.token, "state": [float(v) for v in self.state], "q": self.q, "residual": self.residual,
                "max_abs_eigenvalue": self.max_abs_eigenvalue, "stable": self.stable}


def minimise_q(rnn, weights: Mapping[str, np.ndarray], x: np.ndarray, s: np.ndarray,
               iterations: int = ITERATIONS) -> np.ndarray:
    """Levenberg-Marquardt on G(s) = F(s, x) - s from each row of `s`.

    Args:
        x: (M, V) the input of each row; s: (M, S) the starting states.

    Returns:
        (M, S) the states reached (converged or not: the caller checks).
    """
    s = np.array(s, dtype=np.float64)
    damping = np.full(len(s), 1e-3)
    eye = np.eye(s.shape[-1])[None]
    new, jacobian = step_with_jacobian(rnn, x, s, weights)
    gap = new - s
    for _ in range(iterations):
        q = 0.5 * (gap * gap).sum(axis=1)
        if np.abs(gap).max(initial=0.0) < 1e-14:
            break
        a = jacobian - eye
        normal = np.swapaxes(a, 1, 2) @ a + damping[:, None, None] * eye
        step = np.linalg.solve(normal, -(np.swapaxes(a, 1, 2) @ gap[:, :, None]))[:, :, 0]
        tried = s + step
        tried_new, tried_jacobian = step_with_jacobian(rnn, x, tried, weights)
        tried_gap = tried_new - tried
        better = 0.5 * (tried_gap * tried_gap).sum(axis=1) < q
        s[better], gap[better], jacobian[better] = tried[better], tried_gap[better], tried_jacobian[better]
        damping = np.clip(np.where(better, damping * 0.3, damping * 10.0), 1e-12, 1e12)
    return s


def find_fixed_points(rnn, weights: Mapping[str, np.ndarray], vocab: Sequence[str], visited: np.ndarray,
                      starts: int = 64, noise: float = 0.1, seed: int = 0) -> List[FixedPoint]:
    """The fixed points of one recurrent layer, for each token of `vocab`.

    Args:
        rnn: the cell (an Rnn or its name).
        weights: ONE layer's kernel, recurrent_kernel, bias (Keras's names).
        vocab: the tokens; token i is the one-hot input i.
        visited: (N, S) states the network visited (starting points).
        starts: starting states per token: visited states drawn at random,
            plus Gaussian noise of `noise` times the visited states' std.
        seed: for the draws.

    Returns:
        The points with ‖F(s*) - s*‖∞ ≤ TOLERANCE and |h| ≤ 1, deduplicated, by token
        then from the smallest q.
    """
    rng = np.random.default_rng(seed)
    visited = np.asarray(visited, dtype=np.float64)
    spread = float(visited.std()) or 1.0
    points = []
    for index, token in enumerate(vocab):
        x = np.zeros((starts, len(vocab)))
        x[:, index] = 1.0
        chosen = visited[rng.integers(0, len(visited), size=starts)]
        reached = minimise_q(rnn, weights, x, chosen + noise * spread * rng.standard_normal(chosen.shape))
        new, jacobian = step_with_jacobian(rnn, x, reached, weights)
        gap = new - reached
        residual = np.abs(gap).max(axis=1)
        hidden = np.shape(weights["recurrent_kernel"])[0]
        residual[np.abs(reached[:, :hidden]).max(axis=1) > 1.0] = np.inf  # h out of reach: not recorded
        kept: List[FixedPoint] = []
        for row in np.argsort(0.5 * (gap * gap).sum(axis=1)):
            if not residual[row] <= TOLERANCE:
                continue
            if any(np.abs(point.state - reached[row]).max() < SAME_POINT for point in kept):
                continue
            kept.append(FixedPoint(token=token, state=reached[row], q=float(0.5 * (gap[row] ** 2).sum()),
                                   residual=float(residual[row]), eigenvalues=np.linalg.eigvals(jacobian[row])))
        points += kept
    return points
