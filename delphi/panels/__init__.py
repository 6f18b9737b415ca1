"""What a facilitator sets up on a panel, and who may: its settings, groups, statements and panellists, their
imports, and the read models that list them."""
