"""A constant-velocity Kalman filter over boxes, batched over all of a stream's tracks.

State per track: (cx, cy, w, h, vx, vy, vw, vh): box centre and size in source pixels, and their
velocities in source pixels per source frame. The measurement is the detected box's (cx, cy, w, h).

Why a Kalman filter rather than a fixed-gain alpha-beta filter: its gain adapts to what it knows. A
new track's velocity is unknown, so the first few detections move the velocity estimate a lot and later
ones little; a track that went unmatched (occlusion, dropped frames) grows its uncertainty, so the next
detection pulls it back hard. Fixed alpha/beta gains get one of those two cases wrong.

Noise standard deviations scale with the box size (the geometric mean of w and h): a near, large
object jitters and moves more pixels per frame than a far, small one. The weights are DeepSORT's and
ByteTrack's (they scale by the height alone), except for a larger initial velocity uncertainty so that a
fast mover's velocity is learnt from its first few detections.

Every covariance block is per coordinate (x with vx, y with vy, ...): the model never couples axes.
"""

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

STATE_DIM: Final = 8
BOX_DIM: Final = 4

POSITION_NOISE_WEIGHT: Final = 1.0 / 20.0
"""Std of one frame's position/size process noise, and of the measurement, as a fraction of box size."""
VELOCITY_NOISE_WEIGHT: Final = 1.0 / 160.0
"""Std of one frame's velocity process noise (change of speed per frame) as a fraction of box size."""
INITIAL_POSITION_WEIGHT: Final = 2.0 * POSITION_NOISE_WEIGHT
"""Std of a new track's position, as a fraction of its box size."""
INITIAL_VELOCITY_WEIGHT: Final = 0.25
"""Std of a new track's velocity (per frame), as a fraction of its box size: a quarter box per frame."""
MIN_SIZE: Final = 1.0
"""Smallest box side in pixels the filter reports, and the floor of the noise scale (no zero-size boxes)."""


@dataclass(frozen=True)
class BoxMotion:
    """The filter state of T tracks, one row each."""

    mean: npt.NDArray[np.float64]
    """(T, 8) float64 as (cx, cy, w, h, vx, vy, vw, vh): source pixels, and source pixels per source frame."""
    covariance: npt.NDArray[np.float64]
    """(T, 8, 8) float64 covariance of ``mean``."""

    @classmethod
    def empty(cls) -> "BoxMotion":
        return cls(np.zeros((0, STATE_DIM)), np.zeros((0, STATE_DIM, STATE_DIM)))

    def __len__(self) -> int:
        return int(self.mean.shape[0])

    def boxes(self) -> npt.NDArray[np.float32]:
        """(T, 4) float32 estimated boxes as (x1, y1, x2, y2) in source pixels."""
        centre = self.mean[:, 0:2]
        half = np.maximum(self.mean[:, 2:4], MIN_SIZE) / 2.0
        return np.hstack([centre - half, centre + half]).astype(np.float32)

    def take(self, rows: npt.NDArray[np.intp]) -> "BoxMotion":
        """The tracks at ``rows`` (R,) intp, in that order."""
        return BoxMotion(self.mean[rows], self.covariance[rows])

    def concat(self, other: "BoxMotion") -> "BoxMotion":
        return BoxMotion(np.concatenate([self.mean, other.mean]), np.concatenate([self.covariance, other.covariance]))


def initiate(boxes: npt.NDArray[np.float32]) -> BoxMotion:
    """New tracks at (N, 4) (x1, y1, x2, y2) source-pixel boxes, at rest, with a wide velocity uncertainty."""
    measured = _to_cxcywh(boxes)
    mean = np.hstack([measured, np.zeros_like(measured)])
    size = _noise_scale(measured)[:, None]
    std = np.hstack([np.repeat(INITIAL_POSITION_WEIGHT * size, 4, 1), np.repeat(INITIAL_VELOCITY_WEIGHT * size, 4, 1)])
    covariance = np.zeros((len(mean), STATE_DIM, STATE_DIM))
    idx = np.arange(STATE_DIM)
    covariance[:, idx, idx] = std**2
    return BoxMotion(mean, covariance)


def predict(motion: BoxMotion, frames: int) -> BoxMotion:
    """Step every track ``frames`` (>= 1) source frames ahead at constant velocity.

    Exact for any gap, in O(1): the state moves by ``frames`` times its velocity, and the process noise
    is the sum of ``frames`` one-frame noises carried through the motion (closed form below), so a gap of
    k frames gives the same result as k single steps.
    """
    k = float(frames)
    transition = np.eye(STATE_DIM)
    transition[:BOX_DIM, BOX_DIM:] = k * np.eye(BOX_DIM)
    mean = motion.mean @ transition.T
    mean[:, 2:4] = np.maximum(mean[:, 2:4], MIN_SIZE)
    covariance = transition @ motion.covariance @ transition.T + _process_noise(motion.mean, k)
    return BoxMotion(mean, covariance)


def correct(motion: BoxMotion, boxes: npt.NDArray[np.float32]) -> BoxMotion:
    """Kalman update of each of the T tracks with its own detected box: ``boxes`` (T, 4) (x1, y1, x2, y2)."""
    measured = _to_cxcywh(boxes)
    cov = motion.covariance
    idx = np.arange(BOX_DIM)
    innovation_cov = cov[:, :BOX_DIM, :BOX_DIM].copy()
    innovation_cov[:, idx, idx] += (POSITION_NOISE_WEIGHT * _noise_scale(motion.mean[:, :BOX_DIM]))[:, None] ** 2
    # K = P H^T S^-1 = (S^-1 H P)^T, with P and S symmetric and H selecting the first four state rows.
    gain = np.linalg.solve(innovation_cov, cov[:, :BOX_DIM, :]).transpose(0, 2, 1)
    residual = measured - motion.mean[:, :BOX_DIM]
    mean = motion.mean + np.einsum("tij,tj->ti", gain, residual)
    mean[:, 2:4] = np.maximum(mean[:, 2:4], MIN_SIZE)
    covariance = cov - gain @ cov[:, :BOX_DIM, :]
    return BoxMotion(mean, (covariance + covariance.transpose(0, 2, 1)) / 2.0)


def _process_noise(mean: npt.NDArray[np.float64], k: float) -> npt.NDArray[np.float64]:
    """(T, 8, 8) noise of k frames: sum over j < k of F^j Q F^jT with F the one-frame transition.

    Per coordinate, F^j = [[1, j], [0, 1]] and Q = diag(qp, qv), so the sum is
    [[k qp + qv sum(j^2), qv sum(j)], [qv sum(j), k qv]].
    """
    size = _noise_scale(mean[:, :BOX_DIM])[:, None]
    qp = np.repeat((POSITION_NOISE_WEIGHT * size) ** 2, BOX_DIM, 1)
    qv = np.repeat((VELOCITY_NOISE_WEIGHT * size) ** 2, BOX_DIM, 1)
    sum_j, sum_j2 = k * (k - 1.0) / 2.0, (k - 1.0) * k * (2.0 * k - 1.0) / 6.0
    noise = np.zeros((len(mean), STATE_DIM, STATE_DIM))
    pos, vel = np.arange(BOX_DIM), np.arange(BOX_DIM, STATE_DIM)
    noise[:, pos, pos] = k * qp + sum_j2 * qv
    noise[:, pos, vel] = noise[:, vel, pos] = sum_j * qv
    noise[:, vel, vel] = k * qv
    return noise


def _to_cxcywh(boxes: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """(N, 4) (x1, y1, x2, y2) -> (N, 4) float64 (cx, cy, w, h), sizes at least MIN_SIZE."""
    b = boxes.astype(np.float64).reshape(-1, 4)
    size = np.maximum(b[:, 2:4] - b[:, 0:2], MIN_SIZE)
    return np.hstack([(b[:, 0:2] + b[:, 2:4]) / 2.0, size])


def _noise_scale(cxcywh: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """(N,) geometric mean of w and h, at least MIN_SIZE: the scale of every noise std."""
    scale: npt.NDArray[np.float64] = np.sqrt(np.maximum(cxcywh[:, 2], MIN_SIZE) * np.maximum(cxcywh[:, 3], MIN_SIZE))
    return scale
