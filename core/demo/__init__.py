"""The demo store: a small team's tracker written from a seed and a clock."""
