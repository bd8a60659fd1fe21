"""The workshop quiz: an unknown gallery sample, the learner's diagnosis, then the truth with its numbers.

A :class:`Quiz` deals the gallery samples (those with a workshop ``explanation``) one round at a
time, in an order fixed by its seed. Each :class:`Round` names the tool to measure the sample
with, offers the faults that tool can diagnose plus "nothing wrong" (:meth:`Round.choices`, in a
shuffled but reproducible order), records the learner's answer (:meth:`Round.answer`) and, on
:meth:`Round.reveal`, says whether it was right, what the truth is (the sample's faults, its
explanation and truth parameters) and which measured numbers give the truth away.

Those numbers come from the measurement's command run on the sample's files exactly as
``microscope-qc sample KEY FILE`` followed by ``microscope-qc <measurement> FILE`` would (the
companion files a sample writes, such as a dark image or the second image of a pair, are passed
with the option of the same name), with default settings. The evidence is the measurement's
findings (:attr:`Measurement.findings`) for the true faults, for the faults the learner named and
for any other fault the tool flags; a measurement without findings yet falls back to its verdicts
(the failed ones first) or, without verdicts, its headline metrics.

The model is free of Qt; the napari dock (``widgets/quiz.py``) only draws it. ``evidence.py``
measures the sample and picks the numbers; ``layers.py`` hides the truth in its napari layers.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from microscope_qc.findings import FAULTS, fault
from microscope_qc.measurements import Measurement, Sample, all_samples
from microscope_qc.quiz.evidence import (
    CancelFn,
    EvidenceGroup,
    ProgressFn,
    analyse_sample,
    evidence_groups,
    format_evidence,
    truth_parameters,
)
from microscope_qc.quiz.layers import neutral_layer_data

__all__ = [
    "NOTHING_WRONG",
    "Choice",
    "EvidenceGroup",
    "Reveal",
    "Round",
    "Quiz",
    "gallery",
    "tool_faults",
    "analyse_sample",
    "evidence_groups",
    "truth_parameters",
    "format_evidence",
    "neutral_layer_data",
]

#: the answer "the instrument is fine"
NOTHING_WRONG = "nothing_wrong"


@dataclass(frozen=True)
class Choice:
    """One diagnosis the learner may pick.

    Parameters
    ----------
    code : str
        A fault code of :data:`~microscope_qc.findings.FAULTS`, or :data:`NOTHING_WRONG`.
    title : str
        What the learner reads.
    """

    code: str
    title: str


@dataclass(frozen=True)
class Reveal:
    """What the quiz shows after the learner's answer.

    Parameters
    ----------
    correct : bool
        The answer names exactly the sample's faults (or "nothing wrong" for a good instrument).
    answer : frozenset of str
        The fault codes the learner named (empty: nothing wrong).
    truth : tuple of str
        The faults built into the sample (empty: a good instrument).
    explanation : str
        The sample's workshop paragraph.
    truth_parameters : dict
        The sample's known parameters (its truth), as simple values.
    evidence : tuple of EvidenceGroup
        The numbers that give the truth away.
    evidence_source : str
        ``"findings"``, ``"verdicts"`` or ``"metrics"``: where the evidence came from.
    analysis_error : str or None
        Why the numbers could not be computed, if they could not.
    noted : tuple of str
        Faults the sample holds within tolerance (its ``notes``: noted, not failed); naming one
        is still wrong, and the reveal says why.
    """

    correct: bool
    answer: frozenset[str]
    truth: tuple[str, ...]
    explanation: str
    truth_parameters: dict[str, Any]
    evidence: tuple[EvidenceGroup, ...]
    evidence_source: str
    analysis_error: str | None = None
    noted: tuple[str, ...] = ()

    @property
    def found(self) -> frozenset[str]:
        """The true faults the learner named."""
        return self.answer & set(self.truth)

    @property
    def missed(self) -> frozenset[str]:
        """The true faults the learner did not name."""
        return frozenset(self.truth) - self.answer

    @property
    def wrong(self) -> frozenset[str]:
        """The faults the learner named that the sample does not have."""
        return self.answer - set(self.truth)

    def text(self) -> str:
        """The reveal as plain text (the dock draws the same content as rich text).

        Returns
        -------
        str
            Verdict, truth with remedies, explanation, evidence and truth parameters.
        """
        lines = ["Correct!" if self.correct else "Not quite."]
        if self.truth:
            lines.append("The truth: " + "; ".join(FAULTS[c].title for c in self.truth) + ".")
            lines += [f"  {FAULTS[c].title}: {FAULTS[c].remedy}." for c in self.truth]
        else:
            lines.append("The truth: nothing wrong, a good instrument.")
        within = sorted(self.wrong & set(self.noted))
        absent = sorted(self.wrong - set(self.noted))
        if within:
            lines.append(
                "Present but within tolerance (noted, not a fault): "
                + "; ".join(FAULTS[c].title for c in within)
                + "."
            )
        if absent:
            lines.append("Not in this sample: " + "; ".join(FAULTS[c].title for c in absent) + ".")
        if self.explanation:
            lines.append(self.explanation)
        if self.analysis_error:
            lines.append(f"The numbers could not be computed: {self.analysis_error}")
        for g in self.evidence:
            lines.append(f"{g.heading} [{g.status}]" + (f": {g.text}" if g.text else ""))
            lines += [f"  {format_evidence(e)}" for e in g.evidence]
        if self.truth_parameters:
            lines.append(
                "Truth parameters: " + ", ".join(f"{k} = {v}" for k, v in self.truth_parameters.items())
            )
        return "\n".join(lines)


def gallery() -> dict[str, tuple[Measurement[Any], Sample[Any]]]:
    """The quiz's samples: every registered sample with a workshop explanation.

    Returns
    -------
    dict
        ``{key: (measurement, sample)}`` in registry order.
    """
    return {k: (m, s) for k, (m, s) in all_samples().items() if s.explanation}


def tool_faults(measurement: Measurement[Any]) -> list[str]:
    """The fault codes a measurement diagnoses.

    Parameters
    ----------
    measurement : Measurement
        The registry entry.

    Returns
    -------
    list of str
        Codes of :data:`~microscope_qc.findings.FAULTS`, in their order there.
    """
    return [c for c, f in FAULTS.items() if f.measurement == measurement.name]


@dataclass
class Round:
    """One question of the quiz: a sample, the learner's answer and the reveal.

    Parameters
    ----------
    number : int
        1 for the first round.
    key : str
        The sample's key (not shown to the learner before the reveal).
    measurement : Measurement
        The tool that diagnoses it.
    sample : Sample
        The registry sample.
    choices : tuple of Choice
        What the learner may pick, "nothing wrong" included, in shuffled order.
    sample_seed : int or None
        The seed the sample is built with (None: its documented default, as File ▸ Open Sample).
    """

    number: int
    key: str
    measurement: Measurement[Any]
    sample: Sample[Any]
    choices: tuple[Choice, ...]
    sample_seed: int | None = None
    answered: frozenset[str] | None = None
    revealed: Reveal | None = field(default=None, repr=False)
    _built: Any = field(default=None, repr=False)

    @property
    def label(self) -> str:
        """The neutral name of the sample's layers, e.g. "Quiz sample 3"."""
        return f"Quiz sample {self.number}"

    @property
    def truth(self) -> tuple[str, ...]:
        """The sample's faults (checked against the fault vocabulary)."""
        return tuple(fault(c).code for c in self.sample.faults)

    @property
    def correct(self) -> bool | None:
        """Whether the answer matches the truth; None before an answer."""
        return None if self.answered is None else self.answered == frozenset(self.truth)

    def build(self) -> Any:
        """Build the sample (once; later calls return the same object).

        Returns
        -------
        object
            What ``sample.make(sample_seed)`` returns.
        """
        if self._built is None:
            self._built = self.sample.make(self.sample_seed)
        return self._built

    def answer(self, codes: Iterable[str]) -> bool:
        """Record the learner's diagnosis.

        Parameters
        ----------
        codes : iterable of str
            The codes of the choices picked: faults, or :data:`NOTHING_WRONG` alone.

        Returns
        -------
        bool
            Whether it is right.

        Raises
        ------
        ValueError
            If nothing is picked, "nothing wrong" is picked with a fault, a code is not among the
            choices, or the round was already answered.
        """
        if self.answered is not None:
            raise ValueError(f"Round {self.number} is already answered; start a new sample.")
        picked = set(codes)
        offered = {c.code for c in self.choices}
        if not picked:
            raise ValueError("Pick a diagnosis first: one or more faults, or 'nothing wrong'.")
        unknown = picked - offered
        if unknown:
            raise ValueError(f"Not a choice of this round: {', '.join(sorted(unknown))}.")
        if NOTHING_WRONG in picked and len(picked) > 1:
            raise ValueError("'Nothing wrong' cannot go with a fault; untick one of them.")
        self.answered = frozenset(picked - {NOTHING_WRONG})
        return bool(self.correct)

    def reveal(self, progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> Reveal:
        """The truth and the numbers that give it away (measured now, then kept).

        Parameters
        ----------
        progress : callable, optional
            ``progress(fraction, message)``.
        cancel : callable, optional
            Returns True to stop (raises :class:`~microscope_qc.results.AnalysisCancelled`).

        Returns
        -------
        Reveal
            Correctness, truth, explanation and evidence.

        Raises
        ------
        ValueError
            If the round has no answer yet.
        """
        if self.answered is None:
            raise ValueError("Answer first: the truth is revealed after a diagnosis.")
        if self.revealed is not None:
            return self.revealed
        from microscope_qc.cli_analysis import failure_message
        from microscope_qc.results import AnalysisCancelled

        error: str | None = None
        groups: tuple[EvidenceGroup, ...] = ()
        source = "findings" if self.measurement.findings is not None else "verdicts"
        try:
            result = analyse_sample(self.measurement, self.sample, self.build(), progress, cancel)
        except AnalysisCancelled:
            raise
        except (ValueError, OSError) as exc:  # what the command refuses, in the command's words
            error = failure_message(exc)
        else:
            source, groups = evidence_groups(self.measurement, result, self.truth, self.answered)
        self.revealed = Reveal(
            correct=bool(self.correct),
            answer=self.answered,
            truth=self.truth,
            explanation=self.sample.explanation,
            truth_parameters=truth_parameters(self.build()),
            evidence=groups,
            evidence_source=source,
            analysis_error=error,
            noted=tuple(fault(c).code for c in self.sample.notes),
        )
        return self.revealed


class Quiz:
    """A series of rounds over the gallery, with its score.

    Parameters
    ----------
    samples : mapping, optional
        ``{key: (measurement, sample)}`` to quiz on; default: :func:`gallery`.
    seed : int, optional
        Fixes the order of the samples and of the choices (None: a new order each time).
    sample_seed : int, optional
        The seed each sample is built with (None: its default, the data File ▸ Open Sample shows).

    Raises
    ------
    ValueError
        If there is no sample to quiz on.
    """

    def __init__(
        self,
        samples: Mapping[str, tuple[Measurement[Any], Sample[Any]]] | None = None,
        seed: int | None = None,
        sample_seed: int | None = None,
    ) -> None:
        self.samples = dict(gallery() if samples is None else samples)
        if not self.samples:
            raise ValueError("The gallery has no sample with a workshop explanation to quiz on.")
        self.sample_seed = sample_seed
        self.rounds: list[Round] = []
        self._rng = random.Random(seed)
        self._deck: list[str] = []

    @property
    def current(self) -> Round | None:
        """The round being played (None before the first)."""
        return self.rounds[-1] if self.rounds else None

    @property
    def score(self) -> tuple[int, int]:
        """``(right answers, answered rounds)``."""
        answered = [r for r in self.rounds if r.answered is not None]
        return sum(bool(r.correct) for r in answered), len(answered)

    def _next_key(self) -> str:
        if not self._deck:  # every sample once, in a shuffled order, before any comes again
            deck = sorted(self.samples)
            self._rng.shuffle(deck)
            if self.rounds and len(deck) > 1 and deck[-1] == self.rounds[-1].key:
                deck.reverse()  # no sample twice in a row across decks
            self._deck = deck
        return self._deck.pop()

    def new_round(self, key: str | None = None) -> Round:
        """Deal the next sample (or the one named).

        Parameters
        ----------
        key : str, optional
            A gallery key; default: the next in the quiz's order.

        Returns
        -------
        Round
            The new round (also :attr:`current`).

        Raises
        ------
        KeyError
            If ``key`` is not in the quiz's samples (the message lists them).
        """
        if key is None:
            key = self._next_key()
        elif key not in self.samples:
            raise KeyError(f"{key!r} is not a quiz sample; the gallery has: {', '.join(self.samples)}.")
        m, s = self.samples[key]
        codes = list(dict.fromkeys([*tool_faults(m), *s.faults]))  # a sample's own fault is always offered
        self._rng.shuffle(codes)
        choices = (*(Choice(c, fault(c).title) for c in codes), Choice(NOTHING_WRONG, "Nothing wrong"))
        r = Round(len(self.rounds) + 1, key, m, s, choices, self.sample_seed)
        self.rounds.append(r)
        return r
