"""screens of the runyard TUI."""
