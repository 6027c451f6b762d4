"""`python -m bot …` is the same as `frontline …` (handy before the console script is on PATH)."""

from bot.cli import main

main()
