"""Memorable run names (adjective-noun-number), as MLflow generates when none is given."""

from __future__ import annotations

import random

_ADJECTIVES = (
    "amber brave bright calm clever crisp daring eager fancy fast gentle glad golden grand happy hazy "
    "honest jolly keen kind lively lucky merry mighty nimble noble proud quick quiet rapid rare shy "
    "silent sleek smart snappy solid spry steady stellar sunny swift tidy upbeat vivid warm wise witty zesty"
).split()
_NOUNS = (
    "ant bat bear bee bird boar cat colt crab crow deer dog dove duck eel elk finch fox frog goat hare "
    "hawk hen horse jay koi lark lion lynx mole moth mouse newt owl ox panda pig pony ram robin seal "
    "shark sheep slug snail sow squid stag swan toad trout vole wasp whale wolf wren yak"
).split()


# Our own generator: drawing from the global `random` would shift a seeded training script's random
# sequence (breaking reproducibility) and give every run of a seeded script the same name.
_system_random = random.SystemRandom()


def memorable_name(rng: random.Random | None = None) -> str:
    """A random name like 'swift-owl-417'."""
    chooser = rng or _system_random
    return f"{chooser.choice(_ADJECTIVES)}-{chooser.choice(_NOUNS)}-{chooser.randint(100, 999)}"
