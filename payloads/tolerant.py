"""The base of every payload kept in Durable history: tolerant of fields it does not know."""

from pydantic import BaseModel, ConfigDict


class Payload(BaseModel):
    """Base for step payloads: unknown fields are ignored, so histories written by older code still replay."""

    model_config = ConfigDict(extra="ignore")
