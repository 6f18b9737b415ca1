"""``delphi analyse``: consensus statistics for a tidy ratings CSV, outside the engine.

:mod:`delphi.analyse.ratings_file` reads the file into arrays, :mod:`delphi.analyse.rows` turns them into the
per-scope rows of :mod:`delphi.results.scope_row`, and :mod:`delphi.analyse.command` is the click command.
"""
