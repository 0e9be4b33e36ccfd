"""One screen per file: review, summary, stats."""
