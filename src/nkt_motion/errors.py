"""One error tree for nkt-motion.

Every error raised on purpose by the library derives from :class:`NktMotionError`
and also from the builtin exception it stands in for, so ``except ValueError``
keeps working for callers who do not know this package. Each class carries the
fields a caller needs to act on it (the file, the channel, the parameter).
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "AcquisitionError",
    "DecodeError",
    "FileFormatError",
    "NktMotionError",
    "ProtocolFileError",
    "SignalError",
    "ValidationError",
    "VocabularyError",
]


class NktMotionError(Exception):
    """Root of every error nkt-motion raises on purpose."""


class ValidationError(NktMotionError, ValueError):
    """A parameter or a constructor argument is not acceptable.

    Parameters
    ----------
    message : str
        What is wrong, naming the parameter, what is allowed and what came.
    parameter : str or None
        Name of the offending parameter, when there is one.
    """

    def __init__(self, message: str, *, parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter


class VocabularyError(NktMotionError, ValueError):
    """A muscle code, channel label or event label does not follow the conventions.

    Parameters
    ----------
    message : str
        What is wrong, with the known values where that helps.
    value : str
        The offending text.
    """

    def __init__(self, message: str, *, value: str) -> None:
        super().__init__(message)
        self.value = value


class FileFormatError(NktMotionError, ValueError):
    """A file cannot be read or written as the format it claims to be.

    Parameters
    ----------
    message : str
        The problem in plain words.
    path : str or Path or None
        The file concerned.
    channel : str or None
        The channel concerned, when the problem is with one channel.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        channel: str | None = None,
    ) -> None:
        prefix = f"{path}: " if path is not None else ""
        where = f"channel {channel!r}: " if channel is not None else ""
        super().__init__(f"{prefix}{where}{message}")
        self.path = None if path is None else Path(path)
        self.channel = channel
        self.reason = message


class SignalError(NktMotionError, ValueError):
    """A signal cannot be processed as asked (too short, NaN runs, rate too low).

    Parameters
    ----------
    message : str
        The problem in plain words.
    channel : str or None
        The channel concerned, when known.
    """

    def __init__(self, message: str, *, channel: str | None = None) -> None:
        where = f"channel {channel!r}: " if channel is not None else ""
        super().__init__(f"{where}{message}")
        self.channel = channel
        self.reason = message


class ProtocolFileError(NktMotionError, ValueError):
    """A test-protocol file is missing a field or has a wrong value.

    Parameters
    ----------
    message : str
        The problem in plain words.
    path : str or Path or None
        The protocol file.
    field : str or None
        The dotted name of the offending field.
    """

    def __init__(
        self, message: str, *, path: str | Path | None = None, field: str | None = None
    ) -> None:
        prefix = f"{path}: " if path is not None else ""
        where = f"field {field!r}: " if field is not None else ""
        super().__init__(f"{prefix}{where}{message}")
        self.path = None if path is None else Path(path)
        self.field = field


class DecodeError(NktMotionError, ValueError):
    """A sensor payload cannot be decoded.

    Parameters
    ----------
    message : str
        The problem in plain words.
    device : str
        Name of the device profile.
    payload_len : int
        Length of the payload in bytes.
    """

    def __init__(self, message: str, *, device: str, payload_len: int) -> None:
        super().__init__(f"{device}: {message} (payload of {payload_len} bytes)")
        self.device = device
        self.payload_len = payload_len


class AcquisitionError(NktMotionError, ConnectionError):
    """A sensor could not be found, connected, configured or streamed from.

    Parameters
    ----------
    message : str
        The problem in plain words.
    sensor : str or None
        Address or name of the sensor.
    """

    def __init__(self, message: str, *, sensor: str | None = None) -> None:
        prefix = f"sensor {sensor}: " if sensor is not None else ""
        super().__init__(f"{prefix}{message}")
        self.sensor = sensor
