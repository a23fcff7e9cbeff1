"""widgets of the runyard TUI."""
