"""Stock levels: the newest per shelf, and history in time buckets."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from cloud.timeseries import LevelPoint


class LevelPublic(BaseModel):
    """The newest level of one (site, device, location, SKU, source)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "site": "acme-north",
                    "device": "gw-01",
                    "location": "A-01",
                    "sku": "BOLT-M8",
                    "source": "scale",
                    "time": "2026-11-20T08:15:00Z",
                    "quantity": 42.0,
                    "raw_weight_g": 775.0,
                    "stable": True,
                    "seq": 1187,
                }
            ]
        }
    )

    site: str
    device: str
    location: str
    sku: str
    source: str
    time: datetime
    quantity: float
    raw_weight_g: float | None = None
    stable: bool = True
    seq: int | None = None

    @classmethod
    def of(cls, point: LevelPoint) -> LevelPublic:
        return cls(
            site=point.site,
            device=point.device,
            location=point.location,
            sku=point.sku,
            source=point.source,
            time=point.time,
            quantity=point.quantity,
            raw_weight_g=point.raw_weight_g,
            stable=point.stable,
            seq=point.seq,
        )


class BucketPublic(BaseModel):
    """The levels of one series in one interval: `[time, time + interval)`."""

    time: datetime = Field(description="Start of the bucket.")
    mean: float
    min: float
    max: float
    last: float = Field(description="The newest level in the bucket.")
    count: int = Field(ge=1, description="Raw points in the bucket.")


class HistorySeries(BaseModel):
    """The history of one (location, device, source) of the (site, SKU)."""

    location: str
    device: str
    source: str
    buckets: list[BucketPublic]


class LevelHistory(BaseModel):
    """Level history of one (site, SKU) in `[from, to)`, bucketed by `interval`."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "site": "acme-north",
                    "sku": "BOLT-M8",
                    "from": "2026-11-19T00:00:00Z",
                    "to": "2026-11-20T00:00:00Z",
                    "interval": "1h",
                    "series": [
                        {
                            "location": "A-01",
                            "device": "gw-01",
                            "source": "scale",
                            "buckets": [
                                {
                                    "time": "2026-11-19T08:00:00Z",
                                    "mean": 40.5,
                                    "min": 38.0,
                                    "max": 43.0,
                                    "last": 38.0,
                                    "count": 12,
                                }
                            ],
                        }
                    ],
                }
            ]
        },
    )

    site: str
    sku: str
    since: datetime = Field(alias="from", serialization_alias="from")
    until: datetime = Field(alias="to", serialization_alias="to")
    interval: str
    series: list[HistorySeries]
