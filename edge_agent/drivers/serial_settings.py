"""Serial port settings shared by every serial driver's config model.

Values are checked against pyserial's own constants at load time, so a typo in
a config file is refused at start-up with the list of accepted values, not
discovered when the port is opened.
"""

from __future__ import annotations

from typing import Any

import serial
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

_ALLOWED: dict[str, tuple[Any, ...]] = {
    "baudrate": serial.Serial.BAUDRATES,
    "bytesize": serial.Serial.BYTESIZES,
    "parity": serial.Serial.PARITIES,
    "stopbits": serial.Serial.STOPBITS,
}


class SerialSettings(BaseModel):
    """Port and line settings; a driver's config model extends this."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    port: str = Field(min_length=1, description="serial device, e.g. /dev/ttyUSB0")
    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1

    @field_validator("baudrate", "bytesize", "parity", "stopbits")
    @classmethod
    def _supported_by_pyserial(cls, value: Any, info: ValidationInfo) -> Any:
        allowed = _ALLOWED[str(info.field_name)]
        if value not in allowed:
            choices = ", ".join(str(a) for a in allowed)
            raise ValueError(
                f"{info.field_name} {value!r} is not supported by pyserial; use one of: {choices}"
            )
        return value
