"""Labelled evaluation set for story clustering (issue 4): near-duplicates across outlets.

The source material is in tests/data/stories/*.toml. Every word of it is our own writing:
nothing is copied from real articles. `load_corpus` turns it into labelled items the way
syndication produces them in the wild:

* one wire story republished by several outlets, each copy with its own headline and
  promo footer and one main edit ("reordered", "paragraph-added", "paragraph-cut",
  "reworded") on top of light rewording and a different dateline;
* official notices of the same action ("official"): OFAC, State, EU Council, Official
  Journal, FCDO/OFSI, UN; written in official style, so they share named entities, the
  programme and the date window with the news, but little wording;
* reports in another language ("translated"), labelled the same story (a known hard case);
* hard negatives: stories written to share much of their wording with another story
  (declared with `hard_negative_of`); their first copy has the variant "negative";
* degenerate items ("degenerate"): a one-word title, empty summaries, "Sanctions update";
  each is a story of its own.

Generation is deterministic: every story draws from its own `random.Random` seeded with the
story id, so adding a story does not change the others.

Schema of a story file (all keys but `id`, `published`, `headlines` and `paragraphs` are
optional)::

    [[story]]
    id = "navalny-2021"
    published = 2021-03-02T16:00:00Z      # or a date (then 14:00 UTC)
    copies = 20                            # syndicated copies, the original included
    dateline = "WASHINGTON"
    spread_hours = 48                      # copies arrive within this window
    hard_negative_of = ["other-story-id"]
    outlets = ["..."]                      # default: the shared outlet list
    headlines = ["first is the original's", "..."]
    paragraphs = ["base news text", "..."]  # 3-7 paragraphs
    extra = ["paragraph an outlet may add"]

    [[story.official]]                     # same action, official wording
    feed = "OFAC Recent Actions"
    title = "..."
    paragraphs = ["..."]
    lag_hours = -2.0                       # relative to the story's time; default -5..-0.5

    [[story.translated]]
    feed = "..."
    language = "ru"
    title = "..."
    paragraphs = ["..."]

    [[degenerate]]                         # a one-item story
    id = "..."
    feed = "..."
    published = 2025-01-01T09:00:00Z
    title = "Sanctions update"
    text = ""

shared.toml holds `outlets`, `footers` (an outlet always uses the same footer) and the
`[[reword]]` rules (`word` -> one of `with`) used for light rewording.
"""

from __future__ import annotations

import random
import re
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

STORIES_DIR = Path(__file__).resolve().parents[1] / "data" / "stories"
SHARED_FILE = "shared.toml"
SEED = "sanctions-alerts/story-corpus/v1"
PAIR_LIST_CAP = 50

EDIT_VARIANTS = ("reordered", "paragraph-added", "paragraph-cut", "reworded")
VARIANTS = (
    "original",
    *EDIT_VARIANTS,
    "official",
    "translated",
    "negative",
    "degenerate",
)

# Probability that one occurrence of a reword rule's word is replaced.
LIGHT_REWORD = 0.3
HEAVY_REWORD = 0.85


@dataclass(frozen=True, slots=True)
class LabelledItem:
    id: str  # unique, e.g. "navalny-2021/outlet-07"
    story: str  # the label: items of one story share it
    feed: str  # outlet or official source name
    official: bool
    title: str
    text: str  # body paragraphs joined by "\n" (no footer)
    footer: str  # the outlet's promo footer ("" for official items)
    published: datetime  # aware UTC
    variant: str  # one of VARIANTS


@dataclass(frozen=True, slots=True)
class PairScores:
    precision: float
    recall: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    false_merges: list[tuple[str, str]]  # item id pairs put together wrongly (capped)
    missed: list[tuple[str, str]]  # item id pairs of one story left apart (capped)


# --------------------------------------------------------------------------- loading


def load_corpus(directory: Path | None = None) -> list[LabelledItem]:
    """Every labelled item of the set, in file order (use `story_order` for arrival order)."""
    shared, stories, degenerate = _read(directory or STORIES_DIR)
    rules = _RewordRules(shared.get("reword", []))
    items: list[LabelledItem] = []
    for story in stories:
        items.extend(_story_items(story, shared, rules))
    items.extend(_degenerate_item(entry) for entry in degenerate)
    _check_unique(items)
    return items


def hard_negative_stories(directory: Path | None = None) -> list[tuple[str, str]]:
    """Story id pairs declared as hard negatives: distinct stories sharing much wording."""
    _, stories, _ = _read(directory or STORIES_DIR)
    known = {s["id"] for s in stories}
    pairs: list[tuple[str, str]] = []
    for story in stories:
        for other in story.get("hard_negative_of", []):
            if other not in known:
                raise ValueError(f"{story['id']}: hard_negative_of unknown story {other!r}")
            pairs.append((story["id"], other))
    return pairs


def story_order(items: Sequence[LabelledItem]) -> list[LabelledItem]:
    """Items sorted by published time: the order in which a service would see them arrive."""
    return sorted(items, key=lambda item: (item.published, item.id))


def _read(directory: Path) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    shared = tomllib.loads((directory / SHARED_FILE).read_text(encoding="utf-8"))
    stories: list[dict[str, Any]] = []
    degenerate: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.toml")):
        if path.name == SHARED_FILE:
            continue
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        stories.extend(data.get("story", []))
        degenerate.extend(data.get("degenerate", []))
    return shared, stories, degenerate


def _check_unique(items: Sequence[LabelledItem]) -> None:
    counts = Counter(item.id for item in items)
    duplicated = sorted(key for key, n in counts.items() if n > 1)
    if duplicated:
        raise ValueError(f"duplicate item ids: {duplicated[:10]}")


def _when(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"published must carry a time zone: {value}")
        return value.astimezone(UTC)
    return datetime.combine(value, time(14, 0), tzinfo=UTC)


# --------------------------------------------------------------------------- generation


def _story_items(
    story: Mapping[str, Any], shared: Mapping[str, Any], rules: _RewordRules
) -> list[LabelledItem]:
    sid: str = story["id"]
    rng = random.Random(f"{SEED}/{sid}")
    base = _when(story["published"])
    paragraphs: list[str] = list(story["paragraphs"])
    extra: list[str] = list(story.get("extra", []))
    headlines: list[str] = list(story["headlines"])
    copies = int(story.get("copies", 4))
    spread = float(story.get("spread_hours", 36))
    dateline: str = story.get("dateline", "")
    outlets: list[str] = list(story.get("outlets") or shared["outlets"])
    footers: list[str] = list(shared["footers"])
    footer_of = {name: footers[i % len(footers)] for i, name in enumerate(outlets)}
    if copies > len(outlets):
        raise ValueError(f"{sid}: {copies} copies but only {len(outlets)} outlets")
    if not 3 <= len(paragraphs) <= 7:
        raise ValueError(f"{sid}: news body needs 3-7 paragraphs, has {len(paragraphs)}")

    chosen = rng.sample(outlets, copies)
    edits = [v for v in EDIT_VARIANTS if v != "paragraph-added" or extra]
    plan: list[str] = []
    while len(plan) < copies - 1:
        batch = edits[:]
        rng.shuffle(batch)
        plan.extend(batch)
    later_headlines = headlines[1:] or headlines
    headline_plan: list[str] = []
    while len(headline_plan) < copies - 1:
        batch = later_headlines[:]
        rng.shuffle(batch)
        headline_plan.extend(batch)

    items: list[LabelledItem] = []
    first_variant = "negative" if story.get("hard_negative_of") else "original"
    for n, outlet in enumerate(chosen):
        if n == 0:
            variant, title, body = first_variant, headlines[0], paragraphs[:]
            body[0] = _with_dateline(body[0], dateline, 0)
            offset = 0.0
        else:
            variant, title = plan[n - 1], headline_plan[n - 1]
            body = _edit(paragraphs, extra, variant, rng)
            strength = HEAVY_REWORD if variant == "reworded" else LIGHT_REWORD
            body = [rules.apply(p, strength, rng) for p in body]
            body[0] = _with_dateline(body[0], dateline, rng.randrange(3))
            if rng.random() < 0.25:
                title = f"{title} | {outlet}"
            offset = min(spread, rng.expovariate(1 / (spread / 4)) + 0.1)
        items.append(
            LabelledItem(
                id=f"{sid}/outlet-{n:02d}",
                story=sid,
                feed=outlet,
                official=False,
                title=title,
                text="\n".join(body),
                footer=footer_of[outlet],
                published=_minute(base + timedelta(hours=offset)),
                variant=variant,
            )
        )
    for n, notice in enumerate(story.get("official", [])):
        lag = float(notice.get("lag_hours", -rng.uniform(0.5, 5)))
        items.append(
            LabelledItem(
                id=f"{sid}/official-{n}",
                story=sid,
                feed=notice["feed"],
                official=True,
                title=notice["title"],
                text="\n".join(notice["paragraphs"]),
                footer="",
                published=_minute(base + timedelta(hours=lag)),
                variant="official",
            )
        )
    for n, report in enumerate(story.get("translated", [])):
        lag = float(report.get("lag_hours", rng.uniform(2, 30)))
        items.append(
            LabelledItem(
                id=f"{sid}/translated-{n}",
                story=sid,
                feed=report["feed"],
                official=False,
                title=report["title"],
                text="\n".join(report["paragraphs"]),
                footer=report.get("footer", ""),
                published=_minute(base + timedelta(hours=lag)),
                variant="translated",
            )
        )
    return items


def _degenerate_item(entry: Mapping[str, Any]) -> LabelledItem:
    return LabelledItem(
        id=f"{entry['id']}/item",
        story=entry["id"],
        feed=entry["feed"],
        official=bool(entry.get("official", False)),
        title=entry.get("title", ""),
        text=entry.get("text", ""),
        footer=entry.get("footer", ""),
        published=_when(entry["published"]),
        variant="degenerate",
    )


def _minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)


def _with_dateline(paragraph: str, dateline: str, style: int) -> str:
    if not dateline:
        return paragraph
    if style == 0:
        return f"{dateline} — {paragraph}"
    if style == 1:
        return f"{dateline.title()}: {paragraph}"
    return paragraph


def _edit(
    paragraphs: Sequence[str], extra: Sequence[str], variant: str, rng: random.Random
) -> list[str]:
    body = list(paragraphs)
    if variant == "reordered":
        # Syndication keeps the lede and shuffles what follows, sentence by sentence.
        rest = body[1:]
        for _ in range(4):
            rng.shuffle(rest)
            if len(rest) < 2 or rest != body[1:]:
                break
        body = [body[0], *rest]
        splittable = [i for i, p in enumerate(body) if len(_sentences(p)) >= 2]
        if splittable:
            i = rng.choice(splittable)
            sentences = _sentences(body[i])
            cut = rng.randrange(1, len(sentences))
            body[i] = " ".join(sentences[cut:] + sentences[:cut])
    elif variant == "paragraph-added":
        body.insert(rng.randrange(1, len(body) + 1), rng.choice(list(extra)))
    elif variant == "paragraph-cut":
        # Trimming from the bottom is the usual cut; sometimes a middle paragraph goes.
        at = len(body) - 1 if rng.random() < 0.5 else rng.randrange(1, len(body))
        del body[at]
    elif variant != "reworded":
        raise ValueError(f"unknown edit {variant!r}")
    return body


_ABBREVIATIONS = ("U.S.", "U.K.", "U.N.", "E.U.", "Mr.", "Ms.", "Dr.", "Gen.", "No.", "St.")
_SENTENCE_END = re.compile(r"(?<=[.!?\"”])\s+(?=[A-Z\"“'А-Я])")


def _sentences(paragraph: str) -> list[str]:
    parts = _SENTENCE_END.split(paragraph)
    merged: list[str] = []
    for part in parts:
        if merged and merged[-1].endswith(_ABBREVIATIONS):
            merged[-1] = f"{merged[-1]} {part}"
        else:
            merged.append(part)
    return merged


class _RewordRules:
    """Light rewording: each occurrence of a rule's word is replaced with probability p.

    Capitalised forms of lower-case words are replaced only at the start of a sentence.
    """

    def __init__(self, rules: Sequence[Mapping[str, Any]]) -> None:
        self._choices: dict[str, list[str]] = {}
        self._as_written: set[str] = set()
        for rule in rules:
            word: str = rule["word"]
            options = list(rule["with"])
            self._choices[word] = options
            self._as_written.add(word)
            if word[:1].islower():
                self._choices[word[:1].upper() + word[1:]] = [_capital(o) for o in options]
        keys = sorted(self._choices, key=len, reverse=True)
        self._pattern = (
            re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(k) for k in keys) + r")(?![\w-])")
            if keys
            else None
        )

    def apply(self, text: str, strength: float, rng: random.Random) -> str:
        if self._pattern is None:
            return text

        def replace(match: re.Match[str]) -> str:
            word = match.group(0)
            starts = _sentence_start(text, match.start())
            if word not in self._as_written and not starts:
                return word  # a capitalised form mid-sentence is part of a name
            if rng.random() >= strength:
                return word
            choice = rng.choice(self._choices[word])
            return _capital(choice) if starts else choice

        return self._pattern.sub(replace, text)


def _sentence_start(text: str, at: int) -> bool:
    before = text[:at].rstrip().rstrip("\"“'")
    return not before or before.endswith((".", "!", "?", "—", ":"))


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------- scoring


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise_scores(
    items: Sequence[LabelledItem],
    predicted: Mapping[str, str | int],
    *,
    cap: int = PAIR_LIST_CAP,
) -> PairScores:
    """Pairwise precision and recall of a clustering of `items`.

    `predicted` maps item id -> cluster id; an item missing from it is a cluster of its own.
    Precision is correct same-cluster pairs / predicted same-cluster pairs (1.0 when nothing
    is put together); recall is correct pairs / true same-story pairs (1.0 when no story
    has two items). Counts come from cluster sizes, so this is linear in the items.
    """
    _check_unique(items)
    cluster_of: dict[str, tuple[int, str | int]] = {
        item.id: (1, predicted[item.id]) if item.id in predicted else (0, item.id) for item in items
    }
    stories = Counter(item.story for item in items)
    clusters = Counter(cluster_of.values())
    cells = Counter((item.story, cluster_of[item.id]) for item in items)
    true_pairs = sum(_pairs(n) for n in stories.values())
    predicted_pairs = sum(_pairs(n) for n in clusters.values())
    correct = sum(_pairs(n) for n in cells.values())

    by_cluster: dict[tuple[int, str | int], dict[str, list[str]]] = defaultdict(
        lambda: defaultdict(list)
    )
    by_story: dict[str, dict[tuple[int, str | int], list[str]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for item in story_order(items):
        by_cluster[cluster_of[item.id]][item.story].append(item.id)
        by_story[item.story][cluster_of[item.id]].append(item.id)
    false_merges = _capped(_cross_pairs(g for g in by_cluster.values()), cap)
    missed = _capped(_cross_pairs(g for g in by_story.values()), cap)
    return PairScores(
        precision=correct / predicted_pairs if predicted_pairs else 1.0,
        recall=correct / true_pairs if true_pairs else 1.0,
        true_pairs=true_pairs,
        predicted_pairs=predicted_pairs,
        correct_pairs=correct,
        false_merges=false_merges,
        missed=missed,
    )


def _cross_pairs(groupings: Iterator[Mapping[Any, list[str]]]) -> Iterator[tuple[str, str]]:
    """Pairs of ids from different groups of one grouping, lazily (the caller caps them)."""
    for grouping in groupings:
        groups = list(grouping.values())
        for i, first in enumerate(groups):
            for second in groups[i + 1 :]:
                for a in first:
                    for b in second:
                        yield (a, b)


def _capped(pairs: Iterator[tuple[str, str]], cap: int) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for pair in pairs:
        if len(out) >= cap:
            break
        out.append(pair)
    return out
