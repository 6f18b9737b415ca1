"""What the facilitator and the researcher see and take away: monitoring, results, attrition, the final list,
the report and the exports.

Each module has one job: a few SQL queries that load plain rows (one query per list), and pure functions that
assemble those rows into tables. Nothing here imports the web layer; pages and the JSON API render what these
functions return.
"""
