"""Reports: unified diffs (plain or colored), findings as text or JSON."""
