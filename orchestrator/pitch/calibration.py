"""A camera's calibration: the homography from its image to the pitch, fitted from point pairs with OpenCV.

Refused with a message saying what to fix: fewer than 4 pairs, non-finite or duplicate points, points off the image,
points on (nearly) one line, a homography that folds or collapses the pitch, and pairs that disagree (too few
RANSAC inliers, or a reprojection error above the limit).
"""

from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

Points = npt.NDArray[np.float64]
"""(N, 2) x, y."""

MIN_PAIRS: Final = 4
RANSAC_THRESHOLD_M: Final = 0.5
"""A pair is an inlier when the fitted homography puts its image point within this of its pitch point."""
MAX_REPROJECTION_M: Final = 1.0
"""RMS over the inliers; beyond this the calibration would misplace players by more than a stride."""
MIN_INLIER_SHARE: Final = 0.75
MIN_SPREAD_PX: Final = 20.0
"""The points must span a region: the smallest singular value of the centred points, in pixels (or metres)."""


class CalibrationError(ValueError):
    """A calibration that would put players in the wrong place; the message says why and what to change."""


@dataclass(frozen=True)
class Calibration:
    homography: npt.NDArray[np.float64]
    """(3, 3) image pixels -> pitch metres."""
    reprojection_error_m: float
    """RMS distance, in metres on the pitch, between each inlier's mapped image point and its pitch point."""
    inliers: int
    pairs: int

    def to_pitch(self, image_points: Points) -> Points:
        """(N, 2) image pixels -> (N, 2) pitch metres."""
        if len(image_points) == 0:
            return np.empty((0, 2), dtype=np.float64)
        mapped = cv2.perspectiveTransform(np.asarray(image_points, np.float64).reshape(-1, 1, 2), self.homography)
        return np.asarray(mapped.reshape(-1, 2), dtype=np.float64)


def fit_calibration(
    image_points: Points,
    pitch_points: Points,
    image_size: tuple[int, int],
    max_reprojection_m: float = MAX_REPROJECTION_M,
) -> Calibration:
    """Fit from >= 4 (image pixel, pitch metre) pairs; ``image_size`` is (width, height)."""
    image = _checked(image_points, "image point")
    pitch = _checked(pitch_points, "pitch point")
    if len(image) != len(pitch):
        raise CalibrationError(f"{len(image)} image points but {len(pitch)} pitch points: give them in pairs")
    _check_on_image(image, image_size)
    _check_spread(image, "image points", MIN_SPREAD_PX)
    _check_spread(pitch, "pitch points", 1.0)
    homography, mask = cv2.findHomography(image, pitch, cv2.RANSAC, RANSAC_THRESHOLD_M)
    if homography is None:
        raise CalibrationError("OpenCV found no homography for these pairs: check that they correspond")
    inlier = mask.reshape(-1).astype(bool)
    if inlier.sum() < max(MIN_PAIRS, MIN_INLIER_SHARE * len(image)):
        raise CalibrationError(
            f"only {int(inlier.sum())} of {len(image)} pairs agree with one homography: some pairs are wrong"
        )
    calibration = from_homography(np.asarray(homography, dtype=np.float64), image_size)
    error = _rms(calibration.to_pitch(image[inlier]) - pitch[inlier])
    if error > max_reprojection_m:
        raise CalibrationError(
            f"the pairs disagree by {error:.2f} m RMS (limit {max_reprojection_m} m): check their pitch coordinates"
        )
    return Calibration(calibration.homography, error, int(inlier.sum()), len(image))


def from_homography(homography: npt.NDArray[np.float64], image_size: tuple[int, int]) -> Calibration:
    """A given (3, 3) image->pitch homography, checked to map the image without folding it."""
    matrix = np.asarray(homography, dtype=np.float64)
    if matrix.shape != (3, 3) or not np.all(np.isfinite(matrix)):
        raise CalibrationError(f"a homography is a finite 3x3 matrix, got shape {matrix.shape}")
    if abs(np.linalg.det(matrix)) < 1e-12:
        raise CalibrationError("the homography is singular: it collapses the image onto a line")
    width, height = image_size
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64)
    calibration = Calibration(matrix / matrix[2, 2] if matrix[2, 2] else matrix, 0.0, 0, 0)
    denominators = np.hstack([corners, np.ones((4, 1))]) @ calibration.homography[2]
    if not (np.all(denominators > 0) or np.all(denominators < 0)):
        raise CalibrationError("the homography puts the horizon inside the image: the calibration folds the pitch")
    return calibration


def _checked(points: Points, what: str) -> Points:
    array = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(array) < MIN_PAIRS:
        raise CalibrationError(f"a calibration needs at least {MIN_PAIRS} point pairs, got {len(array)}")
    if not np.all(np.isfinite(array)):
        raise CalibrationError(f"every {what} must be a finite number")
    if len(np.unique(array, axis=0)) < len(array):
        raise CalibrationError(f"two {what}s are identical: each pair must be a distinct point")
    return array


def _check_on_image(points: Points, image_size: tuple[int, int]) -> None:
    width, height = image_size
    off = [tuple(p) for p in points if not (0 <= p[0] <= width and 0 <= p[1] <= height)]
    if off:
        raise CalibrationError(f"image points {off} are off the {width}x{height} image")


def _check_spread(points: Points, what: str, minimum: float) -> None:
    """Collinear points cannot fix a homography: the second singular value of the centred points is ~0."""
    centred = points - points.mean(axis=0)
    spread = float(np.linalg.svd(centred, compute_uv=False)[-1]) / np.sqrt(len(points))
    if spread < minimum:
        raise CalibrationError(f"the {what} lie (nearly) on one line: spread them over the pitch")


def _rms(delta: Points) -> float:
    return float(np.sqrt(np.mean(np.sum(delta**2, axis=1)))) if len(delta) else 0.0
