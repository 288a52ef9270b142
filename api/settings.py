"""The API's settings: one pydantic-settings class, read from ``GEOPLAN_*`` environment variables."""

from __future__ import annotations

from pathlib import PurePath
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from geoplan.protect import MAX_RESOLUTION
from geoplan.sources import ImportLimits

MIB = 1024 * 1024
_LIMITS = ImportLimits()


class Settings(BaseSettings):
    """Everything the API can be configured with; each field is ``GEOPLAN_<NAME>`` in the
    environment (``GEOPLAN_WORKSPACE=/data/libya.gpkg``)."""

    model_config = SettingsConfigDict(env_prefix="GEOPLAN_", frozen=True, extra="ignore")

    workspace: str = Field(
        "geoplan.gpkg",
        repr=False,  # a DSN may carry a password: kept out of logs and tracebacks
        description=(
            "Workspace: a GeoPackage file, or a PostgreSQL DSN "
            "(postgresql://user:password@host:5432/database) whose API workers share it."
        ),
    )
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="Origins allowed by CORS, comma-separated; none (closed) by default."
    )
    body_limit: int = Field(10 * MIB, ge=1024, description="Largest request body, in bytes.")
    body_timeout: float = Field(
        30.0, gt=0, description="Seconds a request body may take to arrive in full (then 408)."
    )
    public_url: str | None = Field(
        None,
        description=(
            "The address clients reach the API at (https://maps.example.org/geoplan); links "
            "are built from it. Unset: from the Host header, which must be a trusted host."
        ),
    )
    trusted_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
        ("127.0.0.1", "localhost", "::1"),
        description="Host header names accepted, comma-separated (the public URL's host too).",
    )
    page_limit_default: int = Field(100, ge=1, description="Features per page unless asked.")
    page_limit_max: int = Field(
        10_000, ge=1, description="Most features per page (larger asks are capped)."
    )
    viewer_h3_resolution: int = Field(
        7,
        ge=0,
        le=MAX_RESOLUTION,
        description="H3 resolution viewers see sensitive positions at (7: cells of about 5 km2).",
    )
    plan_workers: int = Field(
        1, ge=1, le=64, description="Planning jobs run at once, each in its own process."
    )
    plan_time_limit_max: float = Field(
        600.0, gt=0, description="Longest solver time a plan may ask for, in seconds."
    )
    cache_entries: int = Field(
        32, ge=0, description="Derived results kept in memory (0 turns the cache off)."
    )
    import_max_bytes: int = Field(
        _LIMITS.max_bytes, gt=0, description="Largest upload, in bytes once unzipped."
    )
    import_max_ratio: float = Field(
        _LIMITS.max_ratio, gt=0, description="Largest compression ratio of a zipped upload."
    )
    import_max_rows: int = Field(_LIMITS.max_rows, gt=0, description="Most rows in an upload.")
    import_max_vertices: int = Field(
        _LIMITS.max_vertices, gt=0, description="Most vertices in one geometry of an upload."
    )
    import_max_total_vertices: int = Field(
        _LIMITS.max_total_vertices, gt=0, description="Most vertices in all of an upload."
    )
    import_max_problems: int = Field(
        _LIMITS.max_problems, gt=0, description="Most problems an import answer lists."
    )
    import_max_report_problems: int = Field(
        _LIMITS.max_report_problems,
        gt=0,
        description="Most problems kept for an import's problem file (?report=csv).",
    )

    def import_limits(self) -> ImportLimits:
        """The ``import_*`` settings, as the readers take them."""
        return ImportLimits(
            max_bytes=self.import_max_bytes,
            max_ratio=self.import_max_ratio,
            max_rows=self.import_max_rows,
            max_vertices=self.import_max_vertices,
            max_total_vertices=self.import_max_total_vertices,
            max_problems=self.import_max_problems,
            max_report_problems=self.import_max_report_problems,
        )

    @field_validator("workspace", mode="before")
    @classmethod
    def _workspace_name(cls, value: object) -> object:
        return str(value) if isinstance(value, PurePath) else value

    @field_validator("cors_origins", "trusted_hosts", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(o.strip() for o in value.split(",") if o.strip())
        return value

    @field_validator("trusted_hosts")
    @classmethod
    def _lower_hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(h.lower().removeprefix("[").removesuffix("]") for h in value)

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            msg = f"public_url {value!r} must be an absolute http(s) URL such as https://maps.example.org"
            raise ValueError(msg)
        if parts.query or parts.fragment or parts.username or parts.password:
            msg = f"public_url {value!r} must have no query, fragment or user name"
            raise ValueError(msg)
        return value.rstrip("/")

    def accepted_hosts(self) -> frozenset[str]:
        """The Host header names requests may carry: the trusted hosts and the public URL's."""
        public = urlsplit(self.public_url).hostname if self.public_url else None
        return frozenset(self.trusted_hosts) | ({public} if public else set())
