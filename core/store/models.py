"""Every SQLModel table of the store, in one module: one schema for SQLite and PostgreSQL.

Runs carry an integer surrogate key (`runs.id`) that params, tags, metrics and summaries reference:
joins and set operations on integers are several times faster than on uuid text keys. The public
run id (`runs.run_id`, uuid4 hex) is unique and indexed.

A metric value of NaN is stored as NULL (SQLite turns NaN into NULL anyway); a NULL value in
`metrics.value` or `metric_summaries.latest_value` therefore means NaN, never "missing" (a missing
metric has no row at all).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

# SQLite only makes INTEGER PRIMARY KEY an auto-incrementing rowid alias; PostgreSQL wants BIGINT.
_BigIntPk = BigInteger().with_variant(Integer(), "sqlite")


def _time_column(nullable: bool = True, index: bool = False) -> Column:
    return Column(BigInteger(), nullable=nullable, index=index)


# Schema 3: on SQLite the per-run key/value tables are WITHOUT ROWID (clustered on their primary key
# (run_pk, key)): a page's params, tags and summaries are read with one B-tree lookup per run instead
# of two. PostgreSQL ignores the option.
_CLUSTERED = {"sqlite_with_rowid": False}


def _key_value_indexes(table: str) -> tuple[Any, ...]:
    """(key, value) on SQLite; PostgreSQL's btree rejects long values (tags reach 8000 chars): key only."""
    return (
        Index(f"ix_{table}_key_value", "key", "value", "run_pk").ddl_if(dialect="sqlite"),  # covering
        Index(f"ix_{table}_key", "key").ddl_if(dialect="postgresql"),
        _CLUSTERED,
    )


class SchemaVersionRow(SQLModel, table=True):
    """A single row holding the schema version of the store."""

    __tablename__ = "schema_version"
    id: int = Field(default=1, primary_key=True)
    version: int


class ExperimentRow(SQLModel, table=True):
    """An experiment; `name` may be a path like /team/vision/resnet (shown as a folder tree)."""

    __tablename__ = "experiments"
    experiment_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(sa_column=Column(String(500), unique=True, nullable=False))
    artifact_location: str = Field(sa_column=Column(Text(), nullable=False))
    lifecycle_stage: str = Field(default="active", max_length=20)
    creation_time: int | None = Field(default=None, sa_column=_time_column())
    last_update_time: int | None = Field(default=None, sa_column=_time_column())
    deleted_time: int | None = Field(default=None, sa_column=_time_column())


class ExperimentTagRow(SQLModel, table=True):
    """A tag of an experiment."""

    __tablename__ = "experiment_tags"
    experiment_id: str = Field(
        sa_column=Column(
            String(64), ForeignKey("experiments.experiment_id", ondelete="CASCADE"), primary_key=True
        )
    )
    key: str = Field(sa_column=Column(String(250), primary_key=True))
    value: str = Field(sa_column=Column(String(8000), nullable=False))


class RunRow(SQLModel, table=True):
    """A run. `id` is the internal surrogate key; `run_id` the public uuid hex."""

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_experiment_stage_start", "experiment_id", "lifecycle_stage", "start_time"),
        Index("ix_runs_stage_deleted", "lifecycle_stage", "deleted_time"),
        # Schema 3: covers the experiment overview (counts by status and user, latest times), which the
        # app reruns while runs are live: read from the index alone, never the table.
        Index(
            "ix_runs_overview",
            "experiment_id",
            "lifecycle_stage",
            "status",
            "user_id",
            "start_time",
            "end_time",
            "heartbeat_time",
        ),
        # PostgreSQL: newest-first pages (start_time DESC NULLS LAST) read this index in order.
        Index(
            "ix_runs_experiment_stage_start_desc",
            "experiment_id",
            "lifecycle_stage",
            text("start_time DESC NULLS LAST"),
        ).ddl_if(dialect="postgresql"),
    )
    id: int | None = Field(default=None, sa_column=Column(_BigIntPk, primary_key=True, autoincrement=True))
    run_id: str = Field(sa_column=Column(String(32), unique=True, nullable=False))
    experiment_id: str = Field(
        sa_column=Column(String(64), ForeignKey("experiments.experiment_id"), nullable=False)
    )
    run_name: str = Field(sa_column=Column(String(250), nullable=False))
    user_id: str = Field(sa_column=Column(String(256), nullable=False))
    status: str = Field(sa_column=Column(String(20), nullable=False))
    start_time: int | None = Field(default=None, sa_column=_time_column())
    end_time: int | None = Field(default=None, sa_column=_time_column())
    heartbeat_time: int | None = Field(default=None, sa_column=_time_column())
    lifecycle_stage: str = Field(default="active", sa_column=Column(String(20), nullable=False))
    deleted_time: int | None = Field(default=None, sa_column=_time_column())
    deletion_id: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    source_type: str | None = Field(default=None, sa_column=Column(String(20), nullable=True))
    source_name: str | None = Field(default=None, sa_column=Column(String(500), nullable=True))
    entry_point: str | None = Field(default=None, sa_column=Column(String(500), nullable=True))
    source_version: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    parent_run_id: str | None = Field(default=None, sa_column=Column(String(32), nullable=True, index=True))
    artifact_uri: str = Field(sa_column=Column(Text(), nullable=False))


class ParamRow(SQLModel, table=True):
    """A write-once param of a run."""

    __tablename__ = "params"
    __table_args__ = _key_value_indexes("params")
    run_pk: int = Field(
        sa_column=Column(_BigIntPk, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    )
    key: str = Field(sa_column=Column(String(250), primary_key=True))
    value: str = Field(sa_column=Column(String(6000), nullable=False))


class TagRow(SQLModel, table=True):
    """An editable tag of a run."""

    __tablename__ = "tags"
    __table_args__ = _key_value_indexes("tags")
    run_pk: int = Field(
        sa_column=Column(_BigIntPk, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    )
    key: str = Field(sa_column=Column(String(250), primary_key=True))
    value: str = Field(sa_column=Column(String(8000), nullable=False))


class MetricRow(SQLModel, table=True):
    """One metric point; every point is kept (same step and timestamp twice: both rows)."""

    __tablename__ = "metrics"
    __table_args__ = (Index("ix_metrics_run_key_step", "run_pk", "key", "step", "timestamp"),)
    id: int | None = Field(default=None, sa_column=Column(_BigIntPk, primary_key=True, autoincrement=True))
    run_pk: int = Field(
        sa_column=Column(_BigIntPk, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False)
    )
    key: str = Field(sa_column=Column(String(250), nullable=False))
    value: float | None = Field(default=None)  # NULL means NaN
    timestamp: int = Field(sa_column=Column(BigInteger(), nullable=False))
    step: int = Field(sa_column=Column(BigInteger(), nullable=False))


class MetricSummaryRow(SQLModel, table=True):
    """Latest point, min, max and count of one (run, key), kept current with every write."""

    __tablename__ = "metric_summaries"
    __table_args__ = (
        Index("ix_metric_summaries_key_latest", "key", "latest_value", "run_pk"),  # covering
        _CLUSTERED,
    )
    run_pk: int = Field(
        sa_column=Column(_BigIntPk, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    )
    key: str = Field(sa_column=Column(String(250), primary_key=True))
    latest_value: float | None = Field(default=None)  # NULL means NaN
    latest_step: int = Field(sa_column=Column(BigInteger(), nullable=False))
    latest_timestamp: int = Field(sa_column=Column(BigInteger(), nullable=False))
    min_value: float | None = Field(default=None)  # NULL: every point was NaN
    max_value: float | None = Field(default=None)
    count: int = Field(sa_column=Column(BigInteger(), nullable=False))
    # Schema 3: the last points of the (run, key), packed by metrics.py (sparklines and alerts read
    # them without touching the history); NULL until the key is next written.
    recent: bytes | None = Field(default=None, sa_column=Column(LargeBinary(), nullable=True))


class MetricBlockRow(SQLModel, table=True):
    """Min, max, last point and count of one (run, key) per block of steps (metric_blocks.py)."""

    __tablename__ = "metric_blocks"
    run_pk: int = Field(
        sa_column=Column(_BigIntPk, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    )
    key: str = Field(sa_column=Column(String(250), primary_key=True))
    # block = step // BLOCK_STEPS (metric_blocks.py)
    block: int = Field(sa_column=Column(BigInteger(), primary_key=True, autoincrement=False))
    min_value: float | None = Field(default=None)  # NULL: every point of the block was NaN
    max_value: float | None = Field(default=None)
    first_step: int = Field(sa_column=Column(BigInteger(), nullable=False))
    last_step: int = Field(sa_column=Column(BigInteger(), nullable=False))
    first_timestamp: int = Field(sa_column=Column(BigInteger(), nullable=False))
    last_timestamp: int = Field(sa_column=Column(BigInteger(), nullable=False))
    last_value: float | None = Field(default=None)  # NULL means NaN
    count: int = Field(sa_column=Column(BigInteger(), nullable=False))


class DatasetRow(SQLModel, table=True):
    """A dataset of an experiment (MLflow's dataset entity), unique per (experiment, name, digest)."""

    __tablename__ = "datasets"
    __table_args__ = (
        UniqueConstraint("experiment_id", "name", "digest", name="uq_datasets_experiment_name_digest"),
    )
    id: int | None = Field(default=None, sa_column=Column(_BigIntPk, primary_key=True, autoincrement=True))
    experiment_id: str = Field(
        sa_column=Column(
            String(64), ForeignKey("experiments.experiment_id", ondelete="CASCADE"), nullable=False
        )
    )
    name: str = Field(sa_column=Column(String(500), nullable=False))
    digest: str = Field(sa_column=Column(String(36), nullable=False))
    source_type: str = Field(sa_column=Column(String(36), nullable=False))
    source: str = Field(sa_column=Column(Text(), nullable=False))
    schema_: str | None = Field(default=None, sa_column=Column("schema", Text(), nullable=True))
    profile: str | None = Field(default=None, sa_column=Column(Text(), nullable=True))


class InputRow(SQLModel, table=True):
    """A dataset a run used, once per (run, dataset, context); context mirrors the context input tag."""

    __tablename__ = "inputs"
    __table_args__ = (
        UniqueConstraint("run_pk", "dataset_pk", "context", name="uq_inputs_run_dataset_context"),
        Index("ix_inputs_dataset", "dataset_pk"),
    )
    id: int | None = Field(default=None, sa_column=Column(_BigIntPk, primary_key=True, autoincrement=True))
    run_pk: int = Field(
        sa_column=Column(_BigIntPk, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False)
    )
    dataset_pk: int = Field(
        sa_column=Column(_BigIntPk, ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False)
    )
    context: str = Field(default="", sa_column=Column(String(500), nullable=False))  # "" = no context tag


class InputTagRow(SQLModel, table=True):
    """A tag of a dataset input, such as mlflow.data.context = training."""

    __tablename__ = "input_tags"
    __table_args__ = (Index("ix_input_tags_name_value", "name", "value"),)
    input_pk: int = Field(
        sa_column=Column(_BigIntPk, ForeignKey("inputs.id", ondelete="CASCADE"), primary_key=True)
    )
    name: str = Field(sa_column=Column(String(255), primary_key=True))
    value: str = Field(sa_column=Column(String(500), nullable=False))


class LoggedModelRow(SQLModel, table=True):
    """A model logged to an experiment (MLflow 3's logged model); its files live as run artifacts."""

    __tablename__ = "logged_models"
    __table_args__ = (Index("ix_logged_models_experiment_created", "experiment_id", "creation_time"),)
    id: int | None = Field(default=None, sa_column=Column(_BigIntPk, primary_key=True, autoincrement=True))
    model_id: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    experiment_id: str = Field(
        sa_column=Column(String(64), ForeignKey("experiments.experiment_id"), nullable=False)
    )
    run_pk: int | None = Field(
        default=None, sa_column=Column(_BigIntPk, ForeignKey("runs.id"), nullable=True, index=True)
    )
    name: str = Field(sa_column=Column(String(500), nullable=False))
    artifact_location: str = Field(sa_column=Column(Text(), nullable=False))
    creation_time: int = Field(sa_column=Column(BigInteger(), nullable=False))
    last_updated_time: int = Field(sa_column=Column(BigInteger(), nullable=False))
    status: str = Field(sa_column=Column(String(20), nullable=False))
    status_message: str | None = Field(default=None, sa_column=Column(String(1000), nullable=True))
    lifecycle_stage: str = Field(default="active", sa_column=Column(String(20), nullable=False))
    model_type: str | None = Field(default=None, sa_column=Column(String(500), nullable=True))
    source_run_id: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))


def _model_key() -> Column:
    return Column(_BigIntPk, ForeignKey("logged_models.id", ondelete="CASCADE"), primary_key=True)


class LoggedModelTagRow(SQLModel, table=True):
    """An editable tag of a logged model."""

    __tablename__ = "logged_model_tags"
    model_pk: int = Field(sa_column=_model_key())
    key: str = Field(sa_column=Column(String(250), primary_key=True))
    value: str = Field(sa_column=Column(String(8000), nullable=False))


class LoggedModelParamRow(SQLModel, table=True):
    """A param of a logged model."""

    __tablename__ = "logged_model_params"
    model_pk: int = Field(sa_column=_model_key())
    key: str = Field(sa_column=Column(String(250), primary_key=True))
    value: str = Field(sa_column=Column(Text(), nullable=False))


class LoggedModelMetricRow(SQLModel, table=True):
    """A metric of a logged model, as MLflow keeps it: per run, step and (optionally) dataset."""

    __tablename__ = "logged_model_metrics"
    __table_args__ = (Index("ix_logged_model_metrics_model", "model_pk", "key"),)
    id: int | None = Field(default=None, sa_column=Column(_BigIntPk, primary_key=True, autoincrement=True))
    model_pk: int = Field(
        sa_column=Column(_BigIntPk, ForeignKey("logged_models.id", ondelete="CASCADE"), nullable=False)
    )
    key: str = Field(sa_column=Column(String(250), nullable=False))
    value: float | None = Field(default=None)  # NULL means NaN
    timestamp: int = Field(sa_column=Column(BigInteger(), nullable=False))
    step: int = Field(sa_column=Column(BigInteger(), nullable=False))
    run_id: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    dataset_name: str | None = Field(default=None, sa_column=Column(String(500), nullable=True))
    dataset_digest: str | None = Field(default=None, sa_column=Column(String(36), nullable=True))


class RunModelRow(SQLModel, table=True):
    """A logged model a run used (direction "input") or produced ("output", at a step)."""

    __tablename__ = "run_models"
    __table_args__ = (Index("ix_run_models_model", "model_id"),)
    run_pk: int = Field(
        sa_column=Column(_BigIntPk, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    )
    model_id: str = Field(sa_column=Column(String(64), primary_key=True))
    direction: str = Field(sa_column=Column(String(10), primary_key=True))
    step: int = Field(default=0, sa_column=Column(BigInteger(), nullable=False))


# ----------------------------------------------------------------------------- schema 3
class ConsoleChunkRow(SQLModel, table=True):
    """A chunk of a run's captured stdout/stderr, in order of `seq` (ANSI colours kept)."""

    __tablename__ = "console_chunks"
    run_pk: int = Field(
        sa_column=Column(_BigIntPk, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    )
    seq: int = Field(sa_column=Column(BigInteger(), primary_key=True, autoincrement=False))
    timestamp: int = Field(sa_column=Column(BigInteger(), nullable=False))
    stream: str = Field(sa_column=Column(String(10), nullable=False))  # "stdout" or "stderr"
    text: str = Field(sa_column=Column(Text(), nullable=False))


class RunBatchRow(SQLModel, table=True):
    """A batch id a client sent with a write to a run: a replayed batch with the same id is ignored."""

    __tablename__ = "run_batches"
    run_pk: int = Field(
        sa_column=Column(_BigIntPk, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    )
    batch_id: str = Field(sa_column=Column(String(64), primary_key=True))
    received_time: int = Field(sa_column=Column(BigInteger(), nullable=False))


class StoreSettingRow(SQLModel, table=True):
    """A setting of the whole store (alert thresholds, the server's default permission, ...)."""

    __tablename__ = "store_settings"
    key: str = Field(sa_column=Column(String(250), primary_key=True))
    value: str = Field(sa_column=Column(Text(), nullable=False))


class UserRow(SQLModel, table=True):
    """A user of `runyard server --auth`; `version` is bumped by every change that must end cached logins."""

    __tablename__ = "users"
    id: int | None = Field(default=None, sa_column=Column(_BigIntPk, primary_key=True, autoincrement=True))
    username: str = Field(sa_column=Column(String(256), unique=True, nullable=False))
    password_hash: str = Field(sa_column=Column(Text(), nullable=False))  # argon2 / scrypt, never shown
    is_admin: bool = Field(default=False, sa_column=Column(Boolean(), nullable=False))
    version: int = Field(default=1, sa_column=Column(BigInteger(), nullable=False))
    creation_time: int | None = Field(default=None, sa_column=_time_column())
    last_update_time: int | None = Field(default=None, sa_column=_time_column())


class ExperimentPermissionRow(SQLModel, table=True):
    """A user's permission on one experiment: READ, EDIT, MANAGE or NO_PERMISSIONS (MLflow's names)."""

    __tablename__ = "experiment_permissions"
    __table_args__ = (Index("ix_experiment_permissions_user", "user_id"),)
    experiment_id: str = Field(
        sa_column=Column(
            String(64), ForeignKey("experiments.experiment_id", ondelete="CASCADE"), primary_key=True
        )
    )
    user_id: int = Field(
        sa_column=Column(_BigIntPk, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    )
    permission: str = Field(sa_column=Column(String(32), nullable=False))


class AccessTokenRow(SQLModel, table=True):
    """A bearer token of a user, stored as the SHA-256 of its 256-bit random value (never the value)."""

    __tablename__ = "access_tokens"
    __table_args__ = (Index("ix_access_tokens_user", "user_id"),)
    id: str = Field(sa_column=Column(String(32), primary_key=True))  # shown, listed, revoked by
    user_id: int = Field(
        sa_column=Column(_BigIntPk, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    token_sha256: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    name: str = Field(default="", sa_column=Column(String(250), nullable=False))
    creation_time: int = Field(sa_column=Column(BigInteger(), nullable=False))
    expiration_time: int | None = Field(default=None, sa_column=_time_column())  # NULL: never expires
    last_used_time: int | None = Field(default=None, sa_column=_time_column())


class AuthAuditRow(SQLModel, table=True):
    """One change to users, tokens or permissions (`runyard users audit`): who did what to whom."""

    __tablename__ = "auth_audit"
    id: int | None = Field(default=None, sa_column=Column(_BigIntPk, primary_key=True, autoincrement=True))
    time: int = Field(sa_column=Column(BigInteger(), nullable=False, index=True))
    actor: str = Field(sa_column=Column(String(256), nullable=False))  # a username, or "cli" on the store
    action: str = Field(sa_column=Column(String(64), nullable=False))
    target: str = Field(sa_column=Column(String(500), nullable=False))
    detail: str = Field(default="", sa_column=Column(Text(), nullable=False))  # never a secret


# Tables added by schema version 2 (schema.py creates them on upgrade), children after parents.
SCHEMA_2_TABLES = [
    DatasetRow,
    InputRow,
    InputTagRow,
    LoggedModelRow,
    LoggedModelTagRow,
    LoggedModelParamRow,
    LoggedModelMetricRow,
    RunModelRow,
]

# Tables added by schema version 3 (with the column metric_summaries.recent), children after parents.
SCHEMA_3_TABLES = [
    ConsoleChunkRow,
    RunBatchRow,
    StoreSettingRow,
    UserRow,
    ExperimentPermissionRow,
    AccessTokenRow,
    AuthAuditRow,
]

# Purge order (lifecycle.py deletes every table keyed by run_pk / experiment_id in this order):
# a table's children come before it.
ALL_TABLES = [
    SchemaVersionRow,
    ExperimentRow,
    ExperimentTagRow,
    RunRow,
    ParamRow,
    TagRow,
    MetricRow,
    MetricSummaryRow,
    MetricBlockRow,
    InputTagRow,
    InputRow,
    DatasetRow,
    LoggedModelTagRow,
    LoggedModelParamRow,
    LoggedModelMetricRow,
    RunModelRow,
    LoggedModelRow,
    ConsoleChunkRow,
    RunBatchRow,
    StoreSettingRow,
    ExperimentPermissionRow,
    AccessTokenRow,
    UserRow,
    AuthAuditRow,
]
