"""Questions `crmbridge setup` asks: yes or no (`так`/`ні` as well as `y`/`n`), one of a list.

A question already answered by a flag is not asked. Without a terminal (or with `--yes`) an
unanswered question is an error that names the flag, never a silent guess.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from crmbridge.errors import ConfigError

YES = frozenset({"так", "т", "yes", "y", "да", "д"})
NO = frozenset({"ні", "н", "no", "n", "нет"})


@dataclass
class Asker:
    """`read(prompt)` returns the person's answer (typer.prompt in the CLI, a script in tests),
    or None when the input has ended; `read` None means there is nobody to ask."""

    read: Callable[[str], str | None] | None
    say: Callable[[str], None]

    def _answer(self, prompt: str, unanswered: str) -> str:
        answer = self.read(prompt) if self.read is not None else None
        if answer is None:
            raise ConfigError(unanswered)
        return answer.strip()

    def yes_no(self, question: str, *, default: bool | None = None, flag: str = "--yes") -> bool:
        if self.read is None and default is not None:
            return default
        hint = {True: "[Y/n]", False: "[y/N]", None: "[y/n]"}[default]
        while True:
            unanswered = f"{question} — nobody answered: pass {flag}"
            answer = self._answer(f"{question} {hint}", unanswered).casefold()
            if not answer and default is not None:
                return default
            if answer in YES or answer in NO:
                return answer in YES
            self.say("Answer y or n (так or ні).")

    def choose(self, question: str, options: Sequence[tuple[str, str]], *, flag: str) -> str:
        """One of `options` (value, label): by its number or its value."""
        if len(options) == 1:
            return options[0][0]
        listed = ", ".join(value for value, _ in options)
        unanswered = f"{question} — nobody answered: pass {flag} (one of: {listed})"
        if self.read is None:
            raise ConfigError(unanswered)
        self.say(question)
        for n, (value, label) in enumerate(options, start=1):
            self.say(f"  {n}. {label} ({value})")
        values = [value for value, _ in options]
        while True:
            answer = self._answer("Number or id", unanswered)
            if answer.isdigit() and 1 <= int(answer) <= len(options):
                return values[int(answer) - 1]
            if answer in values:
                return answer
            self.say(f"No such choice: {answer!r}.")
