"""What a sensor says outside its data: control-point answers and rotating characteristics.

Two facts about a recording are not in the sample payloads themselves:

* **Control-point answers.** A Polar PMD start response carries the ``factor``
  that scales delta-compressed samples (Verity Sense ACC and gyro). The host
  subscribes to the control point, so the answers are captured as packets like
  the data; :func:`apply_control` folds them into the profile before the frames
  that follow are decoded.
* **Rotation as a counter.** The Myo has no counters, but its EMG rotates over
  four characteristics in a fixed order, so the characteristic index is a mod-4
  counter: a step of ``k`` (mod 4) between two received notifications means
  ``k - 1`` were lost. Losses of a multiple of 4 consecutive notifications look
  like no loss and stay undetectable (:func:`rotation_losses`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Final

import numpy as np
from numpy.typing import NDArray

from nkt_motion.devices import DecodedChunk, DeviceProfile, PolarPmdProfile
from nkt_motion.devices import myo as myo_profile
from nkt_motion.devices import polar as pmd
from nkt_motion.devices import polar_cp as cp
from nkt_motion.errors import DecodeError

__all__ = ["ROTATIONS", "apply_control", "is_data", "rotation_losses"]

logger = logging.getLogger(__name__)

#: Profile name -> characteristics its notifications rotate over, in sending order.
ROTATIONS: Final[dict[str, tuple[str, ...]]] = {"myo": tuple(myo_profile.EMG_UUIDS)}


def is_data(profile: DeviceProfile, char_uuid: str) -> bool:
    """Whether a packet's characteristic carries samples (False for a control point).

    Parameters
    ----------
    profile : DeviceProfile
        The sensor's profile.
    char_uuid : str
        The packet's characteristic.

    Returns
    -------
    bool
        False only for a known characteristic whose role is not ``data``;
        unknown characteristics count as data (and fail to decode, visibly).

    Examples
    --------
    >>> from nkt_motion.devices import PROFILES
    >>> is_data(PROFILES["polar_verity"], pmd.CONTROL_UUID)
    False
    """
    roles = {c.uuid: c.role for c in profile.characteristics}
    return roles.get(char_uuid.lower(), "data") == "data"


def apply_control(profile: DeviceProfile, char_uuid: str, payload: bytes) -> DeviceProfile:
    """Return the profile as updated by a control-point answer.

    A successful PMD start response with a ``factor`` setting gives a Polar
    profile that scales compressed ACC or gyro samples by it; refusals are
    logged; anything else leaves the profile unchanged.

    Parameters
    ----------
    profile : DeviceProfile
        The profile in force.
    char_uuid : str
        Characteristic of the answer.
    payload : bytes
        The indication value.

    Returns
    -------
    DeviceProfile
        The same profile or an updated copy.

    Examples
    --------
    >>> p = PolarPmdProfile(model="verity")
    >>> answer = bytes.fromhex("f002020000") + bytes.fromhex("0501") + (
    ...     np.float32(2.44e-4).tobytes())
    >>> round(apply_control(p, pmd.CONTROL_UUID, answer).acc_factor, 8)
    0.000244
    """
    if not isinstance(profile, PolarPmdProfile) or char_uuid.lower() != pmd.CONTROL_UUID:
        return profile
    try:
        answer = cp.parse_response(payload)
        settings = cp.parse_settings(answer.parameters)
    except DecodeError as exc:
        logger.warning("%s: unreadable control-point answer %s: %s", profile.name,
                       bytes(payload).hex(), exc)  # fmt: skip
        return profile
    if not answer.ok:
        logger.warning("%s: %s %s refused: %s", profile.name, answer.op_name,
                       answer.measurement_name, answer.status_name)  # fmt: skip
        return profile
    factor = settings.get("factor")
    name = answer.measurement_name
    if answer.op != 2 or not factor or name not in ("acc", "gyro"):
        return profile
    return profile.with_factor("acc" if name == "acc" else "gyro", factor[0])


def rotation_losses(chunks: Sequence[DecodedChunk]) -> NDArray[np.int64] | None:
    """Notifications lost before each chunk, read from the characteristic rotation.

    Parameters
    ----------
    chunks : sequence of DecodedChunk
        One connection's chunks of one kind, in arrival order.

    Returns
    -------
    ndarray of int64, shape (n,) or None
        Lost notifications just before each chunk (0 for the first), modulo the
        rotation length; None when the chunks do not rotate over the
        characteristics of :data:`ROTATIONS`.

    Examples
    --------
    >>> from nkt_motion.devices import PROFILES
    >>> myo = PROFILES["myo"]
    >>> u = myo_profile.EMG_UUIDS
    >>> cs = [myo.decode(u[i], bytes(16)) for i in (0, 1, 3, 3, 0)]
    >>> rotation_losses(cs).tolist()
    [0, 0, 1, 3, 0]
    """
    if not chunks:
        return None
    order = ROTATIONS.get(chunks[0].device)
    if order is None or any(c.characteristic not in order for c in chunks):
        return None
    index = np.array([order.index(c.characteristic) for c in chunks], dtype=np.int64)
    step = np.diff(index) % len(order)
    return np.concatenate([[0], (step - 1) % len(order)]).astype(np.int64)
