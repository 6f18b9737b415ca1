"""What a panellist does: open their link, agree, rate, submit, suggest, leave, and see feedback and results.

Pure rules (no SQLAlchemy, no I/O): :mod:`~delphi.participation.issues` (errors a panellist can read),
:mod:`~delphi.participation.checks` (what may be saved), :mod:`~delphi.participation.paging` and
:mod:`~delphi.rounds.figures`.  The use cases load facts, ask those rules and write, each in the
caller's transaction.
"""
