"""Readable run names (``brave-heron-42``) for runs started without one, as MLflow does."""

from __future__ import annotations

import random

_ADJECTIVES = (
    "able amber bold brave bright calm clever cosmic crisp daring deft eager fair fancy fast "
    "gentle glad grand happy honest jolly keen kind lively lucky merry mighty neat noble polite "
    "proud quick quiet rapid rare regal rosy shiny silent sleek smart snowy sunny swift tidy "
    "upbeat valiant vivid warm wise witty zesty"
).split()
_NOUNS = (
    "ant badger bass bat bear bee bison boar carp cat colt crab crane crow deer dove duck eagle "
    "eel elk finch fox frog gnu goat hare hawk heron horse ibis jay koala lark lemur lion lynx "
    "mink mole moose mouse newt otter owl panda pike puma quail ram robin seal shark sloth "
    "snail squid stork swan tiger toad trout vole wasp whale wolf wren yak zebra"
).split()


def random_run_name(rng: random.Random | None = None) -> str:
    """Return a fresh ``adjective-noun-number`` name."""
    r = rng or random
    return f"{r.choice(_ADJECTIVES)}-{r.choice(_NOUNS)}-{r.randint(1, 999)}"
