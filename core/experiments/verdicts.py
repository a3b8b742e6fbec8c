"""The tracker's one vocabulary for what a test's data say: win, lose, no detectable
difference, keep running, inconclusive. Every verdict text on a screen, in an alert, a stored
summary, a stored decision or an export is made here, from the statistics engine's decision
(core.experiments.stats.verdict) by the test's pre-registered rule.

A text always starts with its kind, then " — " and why, so a stored text can be read back
(kind_of) without guessing:
- "win — b beats control"
- "lose — the treatment is worse than control" / "lose — guardrail breached: revenue"
- "no detectable difference"
- "keep running — 1,234 more members per arm needed" / "keep running — waiting for members in every arm"
- "inconclusive — sample ratio mismatch: do not trust the results, check the split" /
  "inconclusive — ended with 1,234 more members per arm needed" /
  "inconclusive — ended before every arm had members"
"""
from __future__ import annotations

import re
from dataclasses import dataclass

WIN, LOSE, NO_DIFFERENCE, KEEP_RUNNING, INCONCLUSIVE = (
    "win", "lose", "no detectable difference", "keep running", "inconclusive")
VOCABULARY = (WIN, LOSE, NO_DIFFERENCE, KEEP_RUNNING, INCONCLUSIVE)
DECIDED = (WIN, LOSE, NO_DIFFERENCE)   # the rule reached a conclusion
SRM_TEXT = "inconclusive — sample ratio mismatch: do not trust the results"
SEPARATOR = " — "


@dataclass(frozen=True)
class Verdict:
    kind: str                      # one of VOCABULARY
    text: str                      # what every screen shows
    winner: str | None = None      # the winning treatment (win only)

    @property
    def decided(self) -> bool:
        return self.kind in DECIDED


def from_engine(text: str, ended: bool = False) -> Verdict:
    """The engine's decision (stats.verdict) in the tracker's words; an ended test can no longer
    keep running, so it is inconclusive with what it lacked."""
    if text.startswith("sample ratio mismatch"):
        return Verdict(INCONCLUSIVE, SRM_TEXT)
    if text.startswith("guardrail breached"):
        return Verdict(LOSE, f"{LOSE}{SEPARATOR}{text}")
    if text.startswith("keep running"):
        running = Verdict(KEEP_RUNNING, text)
        return at_end(running) if ended else running
    won = re.match(r"^treatment (.+) wins$", text)
    if won:
        return Verdict(WIN, f"{WIN}{SEPARATOR}{won.group(1)} beats control", won.group(1))
    if text.startswith("control wins"):
        return Verdict(LOSE, f"{LOSE}{SEPARATOR}the treatment is worse than control")
    if text == NO_DIFFERENCE:
        return Verdict(NO_DIFFERENCE, NO_DIFFERENCE)
    raise ValueError(f"The statistics engine said {text!r}, which the tracker has no word for.")


def at_end(verdict: Verdict) -> Verdict:
    """What a verdict becomes when the test ends now: it can no longer keep running."""
    if verdict.kind != KEEP_RUNNING:
        return verdict
    missing = re.search(r"([\d,]+) more members per arm needed", verdict.text)
    if missing:
        return Verdict(INCONCLUSIVE, f"{INCONCLUSIVE}{SEPARATOR}ended with {missing.group(1)} more members per arm needed")
    return Verdict(INCONCLUSIVE, f"{INCONCLUSIVE}{SEPARATOR}ended before every arm had members")


def waiting(ended: bool, srm_detected: bool) -> Verdict:
    """Before every arm has members: nothing to judge yet."""
    if srm_detected:
        return Verdict(INCONCLUSIVE, SRM_TEXT)
    if ended:
        return Verdict(INCONCLUSIVE, f"{INCONCLUSIVE}{SEPARATOR}ended before every arm had members")
    return Verdict(KEEP_RUNNING, f"{KEEP_RUNNING}{SEPARATOR}waiting for members in every arm")


def kind_of(text: str) -> str:
    """The kind of a verdict text made here (stored summaries and decisions keep the text)."""
    head = str(text).split(SEPARATOR, 1)[0]
    if head not in VOCABULARY:
        raise ValueError(f"{text!r} is not a verdict of the tracker's vocabulary.")
    return head


def style(text: str) -> str:
    """success / alarm / warning / info / neutral, for colouring a verdict. An alarm (a guardrail
    broken, a sample-ratio mismatch) is about the data, not a failure of the app."""
    kind = kind_of(text)
    if kind == WIN:
        return "success"
    if kind == LOSE:
        return "alarm" if "guardrail" in text else "warning"
    if kind == INCONCLUSIVE:
        return "alarm" if "sample ratio mismatch" in text else "info"
    return "info" if kind == KEEP_RUNNING else "neutral"


def consistent_winner(verdict: Verdict, winner: str, control: str) -> bool:
    """Whether declaring `winner` follows the rule's verdict: the winning treatment when it wins,
    the control when the treatment loses or nothing detectable separates them."""
    if verdict.kind == WIN:
        return winner == verdict.winner
    return winner == control and verdict.kind in (LOSE, NO_DIFFERENCE)


SRM_CHECKS = ("Check that every arm is sent by the same path and that no arm loses events "
              "(delivery failures, app versions, tracking on one variant only); check the weights the "
              "sending system uses against the test's weights; look for members assigned twice or "
              "excluded after assignment. Do not pick a winner from these data.")
