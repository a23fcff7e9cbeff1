"""Table widgets of the runyard TUI: run, trash, line, key-value and compare tables."""
