"""Questionnaire breadth: an open first round, ranking questions and baseline characteristics.

``rounds.kind``: a round asks ratings ("rating") or open questions ("open").  ``open_questions``,
``idea_answers`` (free-text answers, several per question, with the facilitator's ``theme``) and
``statement_sources`` (which answers a draft statement came from).  ``ranking_questions``, ``ranking_items``,
``round_rankings`` (asked in a round, with its verdict), ``rank_answers`` and the frozen ``ranking_results``;
``panels.ranking_w_min`` is the ranking rule (Kendall's W at least this).  ``baseline_questions`` and
``baseline_answers``; ``panellists.baseline_at`` marks the baseline page answered or passed over.

Revision ID: 94167228f8a6
Revises: e4a91c3b7f20
Create Date: 2026-12-02 16:53:16
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa

from alembic import op

revision: str = "94167228f8a6"
down_revision: str | None = "e4a91c3b7f20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "baseline_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("panel_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("unit", sa.String(length=50), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["panel_id"],
            ["panels.id"],
            name=op.f("fk_baseline_questions_panel_id_panels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_baseline_questions")),
    )
    with op.batch_alter_table("baseline_questions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_baseline_questions_panel_id"), ["panel_id"], unique=False)

    op.create_table(
        "open_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("panel_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("hint", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["panel_id"], ["panels.id"], name=op.f("fk_open_questions_panel_id_panels"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open_questions")),
    )
    with op.batch_alter_table("open_questions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_open_questions_panel_id"), ["panel_id"], unique=False)

    op.create_table(
        "ranking_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("panel_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("allow_ties", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_round", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["panel_id"], ["panels.id"], name=op.f("fk_ranking_questions_panel_id_panels"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ranking_questions")),
    )
    with op.batch_alter_table("ranking_questions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ranking_questions_panel_id"), ["panel_id"], unique=False)

    op.create_table(
        "ranking_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["ranking_questions.id"],
            name=op.f("fk_ranking_items_question_id_ranking_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ranking_items")),
    )
    with op.batch_alter_table("ranking_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ranking_items_question_id"), ["question_id"], unique=False)

    op.create_table(
        "ranking_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("n_unable", sa.Integer(), nullable=False),
        sa.Column("w", sa.Float(), nullable=True),
        sa.Column("chi2", sa.Float(), nullable=True),
        sa.Column("df", sa.Integer(), nullable=False),
        sa.Column("pvalue", sa.Float(), nullable=True),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("stats", sa.JSON(), nullable=False),
        sa.Column("computed_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["stakeholder_groups.id"],
            name=op.f("fk_ranking_results_group_id_stakeholder_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["ranking_questions.id"],
            name=op.f("fk_ranking_results_question_id_ranking_questions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rounds.id"], name=op.f("fk_ranking_results_round_id_rounds"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ranking_results")),
        sa.UniqueConstraint(
            "round_id", "question_id", "scope", name=op.f("uq_ranking_results_round_id_question_id_scope")
        ),
    )
    with op.batch_alter_table("ranking_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ranking_results_question_id"), ["question_id"], unique=False)

    op.create_table(
        "round_rankings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=True),
        sa.Column("outcome", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["ranking_questions.id"],
            name=op.f("fk_round_rankings_question_id_ranking_questions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rounds.id"], name=op.f("fk_round_rankings_round_id_rounds"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_rankings")),
        sa.UniqueConstraint("round_id", "question_id", name=op.f("uq_round_rankings_round_id_question_id")),
    )
    with op.batch_alter_table("round_rankings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_round_rankings_question_id"), ["question_id"], unique=False)

    op.create_table(
        "baseline_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("panellist_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("chosen", sa.JSON(), nullable=False),
        sa.Column("number", sa.Float(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("prefer_not", sa.Boolean(), nullable=False),
        sa.Column("answered_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["panellist_id"],
            ["panellists.id"],
            name=op.f("fk_baseline_answers_panellist_id_panellists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["baseline_questions.id"],
            name=op.f("fk_baseline_answers_question_id_baseline_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_baseline_answers")),
        sa.UniqueConstraint(
            "panellist_id", "question_id", name=op.f("uq_baseline_answers_panellist_id_question_id")
        ),
    )
    with op.batch_alter_table("baseline_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_baseline_answers_question_id"), ["question_id"], unique=False)

    op.create_table(
        "idea_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("panellist_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("theme", sa.String(length=200), nullable=False),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["panellist_id"],
            ["panellists.id"],
            name=op.f("fk_idea_answers_panellist_id_panellists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["open_questions.id"],
            name=op.f("fk_idea_answers_question_id_open_questions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rounds.id"], name=op.f("fk_idea_answers_round_id_rounds"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_answers")),
        sa.UniqueConstraint(
            "round_id",
            "question_id",
            "panellist_id",
            "slot",
            name=op.f("uq_idea_answers_round_id_question_id_panellist_id_slot"),
        ),
    )
    with op.batch_alter_table("idea_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idea_answers_question_id"), ["question_id"], unique=False)
        batch_op.create_index(
            "ix_idea_answers_round_id_panellist_id", ["round_id", "panellist_id"], unique=False
        )

    op.create_table(
        "rank_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("panellist_id", sa.Integer(), nullable=False),
        sa.Column("ranks", sa.JSON(), nullable=False),
        sa.Column("unable", sa.Boolean(), nullable=False),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["panellist_id"],
            ["panellists.id"],
            name=op.f("fk_rank_answers_panellist_id_panellists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["ranking_questions.id"],
            name=op.f("fk_rank_answers_question_id_ranking_questions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rounds.id"], name=op.f("fk_rank_answers_round_id_rounds"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rank_answers")),
        sa.UniqueConstraint(
            "round_id",
            "question_id",
            "panellist_id",
            name=op.f("uq_rank_answers_round_id_question_id_panellist_id"),
        ),
    )
    with op.batch_alter_table("rank_answers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rank_answers_round_id_panellist_id", ["round_id", "panellist_id"], unique=False
        )

    op.create_table(
        "statement_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["idea_answers.id"],
            name=op.f("fk_statement_sources_answer_id_idea_answers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["statements.id"],
            name=op.f("fk_statement_sources_statement_id_statements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_sources")),
        sa.UniqueConstraint(
            "statement_id", "answer_id", name=op.f("uq_statement_sources_statement_id_answer_id")
        ),
    )
    with op.batch_alter_table("statement_sources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_statement_sources_answer_id"), ["answer_id"], unique=False)

    with op.batch_alter_table("panellists", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "baseline_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True
            )
        )

    with op.batch_alter_table("panels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ranking_w_min", sa.Float(), server_default="0.7", nullable=False))

    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), server_default="rating", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_column("kind")

    with op.batch_alter_table("panels", schema=None) as batch_op:
        batch_op.drop_column("ranking_w_min")

    with op.batch_alter_table("panellists", schema=None) as batch_op:
        batch_op.drop_column("baseline_at")

    with op.batch_alter_table("statement_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_statement_sources_answer_id"))

    op.drop_table("statement_sources")
    with op.batch_alter_table("rank_answers", schema=None) as batch_op:
        batch_op.drop_index("ix_rank_answers_round_id_panellist_id")

    op.drop_table("rank_answers")
    with op.batch_alter_table("idea_answers", schema=None) as batch_op:
        batch_op.drop_index("ix_idea_answers_round_id_panellist_id")
        batch_op.drop_index(batch_op.f("ix_idea_answers_question_id"))

    op.drop_table("idea_answers")
    with op.batch_alter_table("baseline_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_baseline_answers_question_id"))

    op.drop_table("baseline_answers")
    with op.batch_alter_table("round_rankings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_round_rankings_question_id"))

    op.drop_table("round_rankings")
    with op.batch_alter_table("ranking_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ranking_results_question_id"))

    op.drop_table("ranking_results")
    with op.batch_alter_table("ranking_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ranking_items_question_id"))

    op.drop_table("ranking_items")
    with op.batch_alter_table("ranking_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ranking_questions_panel_id"))

    op.drop_table("ranking_questions")
    with op.batch_alter_table("open_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_open_questions_panel_id"))

    op.drop_table("open_questions")
    with op.batch_alter_table("baseline_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_baseline_questions_panel_id"))

    op.drop_table("baseline_questions")
