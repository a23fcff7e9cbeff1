"""modals of the runyard TUI."""
