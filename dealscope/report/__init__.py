"""Weekly retrospective: the week's figures, the two-snapshot diff, and HTML / Markdown reports."""
