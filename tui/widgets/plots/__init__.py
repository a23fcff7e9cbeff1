"""Plot widgets of the runyard TUI: metric charts, compare plots, their axes, half-block images."""
