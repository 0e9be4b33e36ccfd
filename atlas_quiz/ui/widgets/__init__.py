"""One widget per file; each owns its key bindings and posts messages named for what happened."""
