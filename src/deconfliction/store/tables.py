"""The database schema (SQLAlchemy Core tables).

Column names carry units as everywhere else. Times are stored as epoch seconds
(``*_t_s``, float, UTC) so that SQLite and PostgreSQL compare them the same way and the
kernels need no conversion. JSON documents are stored as text.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# One naming convention so that Alembic migrations name constraints the same way on
# every backend.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only makes INTEGER PRIMARY KEY an auto-incrementing rowid.
Id = BigInteger().with_variant(Integer(), "sqlite")

parties = Table(
    "parties",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("language", String(8), nullable=False),
    Column("created_t_s", Float, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("party_id", String(64), ForeignKey("parties.id"), nullable=False),
    Column("role", String(16), nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("label", String(200), nullable=False, default=""),
    Column("created_t_s", Float, nullable=False),
    Column("revoked_t_s", Float, nullable=True),
    Column("expires_t_s", Float, nullable=True),  # null: issued before expiry existed
)

protocol_versions = Table(
    "protocol_versions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("protocol_id", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("toml_text", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("proposed_by", String(64), ForeignKey("parties.id"), nullable=False),
    Column("proposed_t_s", Float, nullable=False),
    Column("effective_t_s", Float, nullable=True),
    Column("superseded_t_s", Float, nullable=True),
    # A party's notice of withdrawal under the version's [termination] clause.
    Column("notice_by", String(64), nullable=True),
    Column("notice_t_s", Float, nullable=True),
    Column("ends_t_s", Float, nullable=True),
    UniqueConstraint("protocol_id", "version", name="uq_protocol_versions_id_version"),
)

protocol_acceptances = Table(
    "protocol_acceptances",
    metadata,
    Column("version_pk", Id, ForeignKey("protocol_versions.id"), primary_key=True),
    Column("party_id", String(64), ForeignKey("parties.id"), primary_key=True),
    Column("accepted_t_s", Float, nullable=False),
    # Federation: the accepting node's Ed25519 signature of the version's digest.
    Column("signature", Text, nullable=True),
)

# Federation: what a node has to send to each peer, in order (federation/outbox.py).
federation_outbox = Table(
    "federation_outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("peer", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("body_json", Text, nullable=False),
    Column("created_t_s", Float, nullable=False),
    Column("sent_t_s", Float, nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=True),
    Index("ix_federation_outbox_pending", "peer", "sent_t_s", "id"),
)

# The hotline between nodes (federation/hotline.py): the common record of this
# node and one peer, as two signed chains, one per author node (seq per chain).
federation_record = Table(
    "federation_record",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("peer", String(64), nullable=False),
    Column("author", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("t_s", Float, nullable=False),
    Column("event", String(32), nullable=False),
    Column("body_json", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("signature", Text, nullable=False),
    UniqueConstraint("peer", "author", "seq", name="uq_federation_record_entry"),
)

# Evidence of equivocation: the first entry of a chain on which this node's record
# and a peer's signed checkpoint (and its copy of the entry) disagree.
federation_equivocations = Table(
    "federation_equivocations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("peer", String(64), nullable=False),
    Column("author", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("detected_t_s", Float, nullable=False),
    Column("reason", Text, nullable=False),
    Column("ours_json", Text, nullable=True),
    Column("theirs_json", Text, nullable=True),
    Column("checkpoint_json", Text, nullable=False),
    UniqueConstraint("peer", "author", "seq", name="uq_federation_equivocations_seq"),
)

ingest_batches = Table(
    "ingest_batches",
    metadata,
    Column("party_id", String(64), ForeignKey("parties.id"), primary_key=True),
    Column("batch_id", String(200), primary_key=True),
    Column("received_t_s", Float, nullable=False),
    Column("accepted", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("result_json", Text, nullable=False),
    Index("ix_ingest_batches_received", "received_t_s"),
)

positions = Table(
    "positions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("party_id", String(64), nullable=False),
    Column("aircraft_id", String(100), nullable=False),
    Column("t_s", Float, nullable=False),
    Column("lat_deg", Float, nullable=False),
    Column("lon_deg", Float, nullable=False),
    Column("alt_ft", Float, nullable=False),
    Column("gs_kt", Float, nullable=False),
    Column("trk_deg", Float, nullable=False),
    Column("vs_fpm", Float, nullable=False),
    Column("batch_id", String(200), nullable=False),
    Column("received_t_s", Float, nullable=False),
    # One row per (party, aircraft, time): a position sent again is stored once.
    Index("ix_positions_aircraft_time", "party_id", "aircraft_id", "t_s", unique=True),
    Index("ix_positions_time", "t_s"),
    Index("ix_positions_received", "received_t_s"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("protocol_version_pk", Id, nullable=True),
    Column("aircraft_a", String(100), nullable=False),
    Column("aircraft_b", String(100), nullable=False),
    Column("party_a", String(64), nullable=False),
    Column("party_b", String(64), nullable=False),
    Column("level", String(16), nullable=False),
    Column("max_level", String(16), nullable=False),
    Column("raised_t_s", Float, nullable=False),
    Column("updated_t_s", Float, nullable=False),
    # The latest detection of the pair in conflict, as of the latest write.
    Column("last_seen_t_s", Float, nullable=False),
    Column("cleared_t_s", Float, nullable=True),
    Column("tcpa_s", Float, nullable=False),
    Column("dcpa_nm", Float, nullable=False),
    Column("dalt_ft_at_cpa", Float, nullable=False),
    Column("tin_s", Float, nullable=False),
    Column("min_dcpa_nm", Float, nullable=False),
    Column("detail_json", Text, nullable=False),
    Index("ix_alerts_party_a", "party_a", "raised_t_s"),
    Index("ix_alerts_party_b", "party_b", "raised_t_s"),
)

# Where live detection stands, so that another run (after a restart, or another
# process taking over) continues where it left off, and which process runs it (the
# lease, service/leadership.py): one row, name "live".
detection_state = Table(
    "detection_state",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("last_row_id", BigInteger, nullable=False),  # positions read up to here
    Column("tick_t_s", Float, nullable=False),  # the tick that wrote this
    Column("holder", String(200), nullable=True),  # the process holding the lease
    Column("acquired_t_s", Float, nullable=True),  # when it took the lease
    Column("expires_t_s", Float, nullable=True),  # unless renewed before
    Column("feeds_json", Text, nullable=True),  # stale feeds said (feed_watch)
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("party_id", String(64), nullable=False),
    Column("other_party_id", String(64), nullable=True),
    Column("aircraft_id", String(100), nullable=False),
    Column("other_aircraft_id", String(100), nullable=True),
    Column("boundary_id", String(100), nullable=True),
    Column("source_key", String(200), nullable=False, unique=True),
    Column("start_t_s", Float, nullable=False),
    Column("end_t_s", Float, nullable=True),
    Column("severity_nm", Float, nullable=True),
    Column("evidence_json", Text, nullable=False),
    Column("created_t_s", Float, nullable=False),
    Column("updated_t_s", Float, nullable=False),
    # The lifecycle's compare-and-set: every status change adds one.
    Column("status_version", Integer, nullable=False, server_default="0"),
    # JSON list of the parties that asked to resolve (incident_lifecycle).
    Column("resolution_requested_by", Text, nullable=False, server_default="[]"),
    Index("ix_incidents_party", "party_id", "start_t_s"),
    Index("ix_incidents_other_party", "other_party_id", "start_t_s"),
)

incident_parties = Table(
    "incident_parties",
    metadata,
    Column("incident_id", Id, ForeignKey("incidents.id"), primary_key=True),
    Column("party_id", String(64), primary_key=True),
    Index("ix_incident_parties_party", "party_id", "incident_id"),
)

incident_remarks = Table(
    "incident_remarks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("incident_id", Id, ForeignKey("incidents.id"), nullable=False),
    Column("party_id", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_t_s", Float, nullable=False),
    Index("ix_incident_remarks_incident", "incident_id"),
)

events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("party_id", String(64), nullable=False),
    # The event's number as its party sees it: each party's events are numbered on
    # their own, so that no gap counts the events of others (service/events.py).
    Column("seq", BigInteger, nullable=False, server_default="0"),
    Column("type", String(64), nullable=False),
    Column("payload_json", Text, nullable=False),
    Column("created_t_s", Float, nullable=False),
    Index("ix_events_party_id", "party_id", "id"),
    Index("ix_events_party_seq", "party_id", "seq", unique=True),
    Index("ix_events_created", "created_t_s"),
)

# The last event number given to each party (kept when its events are pruned).
event_counters = Table(
    "event_counters",
    metadata,
    Column("party_id", String(64), primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
)

# -- hotline -------------------------------------------------------------------------

hotline_messages = Table(
    "hotline_messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sender_party", String(64), ForeignKey("parties.id"), nullable=False),
    Column("sender_label", String(200), nullable=False, default=""),
    Column("recipient", String(64), nullable=False),  # a party id, or "*" for all
    Column("kind", String(40), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("lang", String(8), nullable=False),
    Column("facts_json", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("incident_id", Id, nullable=True),
    Column("alert_id", String(64), nullable=True),
    Column("operation_id", String(100), nullable=True),
    Column("reply_to", Id, nullable=True),
    Column("sent_t_s", Float, nullable=False),
    Index("ix_hotline_messages_sender", "sender_party", "sent_t_s"),
)

hotline_receipts = Table(
    "hotline_receipts",
    metadata,
    Column("message_id", Id, ForeignKey("hotline_messages.id"), primary_key=True),
    Column("party_id", String(64), primary_key=True),
    Column("deadline_t_s", Float, nullable=False),
    Column("delivered_t_s", Float, nullable=True),
    Column("acknowledged_t_s", Float, nullable=True),
    Column("acknowledged_by", String(200), nullable=True),
    Column("escalated_t_s", Float, nullable=True),
    Index("ix_hotline_receipts_party", "party_id", "acknowledged_t_s"),
    Index(
        "ix_hotline_receipts_deadline",
        "acknowledged_t_s",
        "escalated_t_s",
        "deadline_t_s",
    ),
)

hotline_log = Table(
    "hotline_log",
    metadata,
    Column("seq", Id, primary_key=True, autoincrement=False),
    Column("t_s", Float, nullable=False),
    Column("event", String(40), nullable=False),
    Column("signer", String(64), nullable=False),
    Column("body_json", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("signature", String(200), nullable=False),
    Index("ix_hotline_log_t", "t_s"),
    # One successor per entry: a fork of the chain cannot be stored.
    UniqueConstraint("prev_hash", name="uq_hotline_log_prev_hash"),
)

party_keys = Table(
    "party_keys",
    metadata,
    Column("party_id", String(64), primary_key=True),
    Column("public_key", String(200), nullable=False),
    Column("created_t_s", Float, nullable=False),
)

hotline_suspensions = Table(
    "hotline_suspensions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("party_id", String(64), ForeignKey("parties.id"), nullable=False),
    Column("scope", String(16), nullable=False),  # channel | protocol
    Column("reason", Text, nullable=False),
    Column("start_t_s", Float, nullable=False),
    Column("end_t_s", Float, nullable=True),
    # The agreement it covers; NULL: every agreement naming its party.
    Column("protocol_id", String(100), nullable=True),
)

hotline_checkins_missed = Table(
    "hotline_checkins_missed",
    metadata,
    Column("party_id", String(64), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("t_s", Float, nullable=False),
)

# -- planned operations ----------------------------------------------------------------

operations = Table(
    "operations",
    metadata,
    Column("pk", Id, primary_key=True, autoincrement=True),
    Column("id", String(100), nullable=False, unique=True),
    Column("party_id", String(64), ForeignKey("parties.id"), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("version", Integer, nullable=False),
    Column("ovn", String(64), nullable=False),
    Column("state", String(20), nullable=False),
    Column("short_notice", Integer, nullable=False, default=0),
    Column("conflicted", Integer, nullable=False, default=0),
    Column("body_json", Text, nullable=False),
    Column("aircraft_json", Text, nullable=False),
    Column("check_json", Text, nullable=False),
    Column("time_start_t_s", Float, nullable=False),
    Column("time_end_t_s", Float, nullable=False),
    Column("filed_t_s", Float, nullable=False),
    Column("updated_t_s", Float, nullable=False),
    Index("ix_operations_party", "party_id", "time_start_t_s"),
    Index("ix_operations_state", "state", "time_end_t_s"),
)

# The spatial and temporal index: (0.5 deg cell, UTC hour) keys of every volume.
operation_cells = Table(
    "operation_cells",
    metadata,
    Column("cell", Integer, primary_key=True),
    Column("bucket", Integer, primary_key=True),
    Column("op_pk", Id, ForeignKey("operations.pk"), primary_key=True),
    Index("ix_operation_cells_op", "op_pk"),
)

operation_notices = Table(
    "operation_notices",
    metadata,
    Column("op_pk", Id, ForeignKey("operations.pk"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("party_id", String(64), primary_key=True),
    Column("message_id", Id, ForeignKey("hotline_messages.id"), nullable=False),
    Column("approved_t_s", Float, nullable=True),
)
