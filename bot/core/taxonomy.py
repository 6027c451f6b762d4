"""Reading a support message (seed 001 "Ticket Tags & Categories"): which phrases it *means*,
its category and its sentiment. Pure functions over tables; no ML, no I/O.

Cue matching (`find_cues`), shared by the auto-priority keywords, the category and the sentiment:

* **Whole words.** A phrase matches on word boundaries ("download" and "downtime" are not
  "down"); any run of spaces or hyphens may separate its words ("data-loss"); apostrophes may be
  curly or missing ("can’t", "cant"); soft hyphens and zero-width characters are ignored
  ("down\\u00adload" is "download"); URLs are ignored. The last word may carry an ending -s, -es,
  -d, -ed or -ing ("errors", "breached", "crashing"). `WORD_VARIANTS` and `PHRASE_VARIANTS` list
  the other spellings that mean the same ("cannot", "log in", "isn't working", common typos).
* **Longest reading wins.** Where two phrases overlap, the longer one is the match ("not working"
  hides "working"; "scroll down" hides "down").
* **Quoted.** A match with a quote right on both sides names something rather than reports it
  ("rename the 'Broken' status"); quotes around a longer text do not ("'Internal Server Error'
  on save" is an error).
* **Negated.** A match does not count when a negator (`NEGATORS`: not, no, never, isn't, without,
  if, … with or without the apostrophe) is among the `WINDOW` words before it in the same clause
  (commas, colons, dashes, brackets and "but" end a clause): "isn't broken", "no longer down",
  "never had an outage", "if there is an outage". A negator that belongs to another matched phrase
  is not a negation ("sync not working error"), and one inside the phrase itself never is ("not
  working" is the failure, not its denial).
* **Resolved or in the past.** After the match, in the same sentence, the *last* state cue
  decides: a resolution (`RESOLUTION_CUES`: "fixed now", "back up", "working again", "fine now",
  …, itself not negated: "hasn't been fixed" resolves nothing) means resolved; "anymore" / "any
  more" with a negator between the match and it ("the error doesn't show anymore") means resolved,
  unless the match is itself negative ("not working anymore" is a fresh failure); a past time
  (`PAST_TIME_CUES`: yesterday, last week, ago, …) after a past verb (was, were, had) among the
  words before the match means the past ("was down yesterday"); a persistence cue (still, again,
  currently, right now) means it still holds ("was down yesterday and still is"). Resolutions in a
  question do not count ("has it been fixed?"), and "still" just before the match keeps it live.
  Category and sentiment cues skip this step: a topic or a feeling is not "fixed now".
* Only the first `MAX_CHARS` characters are read.

Category (`detect_category`): the first row of `CATEGORY_CUES` with a live cue wins; rows are
ordered intent first (a feature request is one whatever it is about), then specific topics (SSO
before login), then generic ones (bug, how-to). A denied cue ("not a bug", "haven't received the
invoice") counts only when no row has a live one: the topic of a denial is still the topic.

Sentiment (`detect_sentiment`): urgent beats negative beats positive; within a label the first cue
in the text decides. With no word cue, a shouted message (mostly capitals) is negative; otherwise
neutral. A wish is not praise ("would be great if" is neutral), and polite closings ("thanks") are
neutral: positive needs praise ("great job", "thanks so much", "🎉").
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

__all__ = [
    "CATEGORY_ALIASES",
    "CATEGORY_CUES",
    "MAX_CHARS",
    "NEGATORS",
    "PAST_TIME_CUES",
    "RESOLUTION_CUES",
    "SENTIMENTS",
    "SENTIMENT_CUES",
    "WINDOW",
    "CategoryCues",
    "CategoryMatch",
    "Hit",
    "category_names",
    "detect_category",
    "detect_sentiment",
    "find_cues",
    "live_phrases",
    "match_category",
    "normalize",
]

HitStatus = Literal["live", "negated", "quoted", "resolved", "past"]

WINDOW = 3  # words before a match that can negate it: "never had an outage" is three
# Only this much of a text is read: it bounds one reading to ~0.1 s however long a pasted log is,
# and what decides a ticket's priority is said long before.
MAX_CHARS = 10_000

# Apostrophes are stripped before lookup, so "isnt" and "isn't" are one entry. Not here on purpose:
# can't/couldn't/won't/wouldn't/shouldn't describe the failure ("can't log in", "won't load",
# "shouldn't be down") far more often than they deny it.
NEGATORS = frozenset(
    {
        "not", "no", "never", "none", "nothing", "nobody", "without", "nor", "zero",
        "isnt", "arent", "wasnt", "werent", "dont", "doesnt", "didnt", "hasnt", "havent", "hadnt",
        "if", "unless", "whether",  # a hypothetical is not a report: "what happens if it's down"
    }
)  # fmt: skip
PAST_VERBS = frozenset({"was", "were", "had"})
PERSISTENCE_WORDS = frozenset({"still"})  # just before the match: "still down" outlives any later cue

RESOLUTION_CUES = (
    "is fixed", "was fixed", "got fixed", "been fixed", "fixed now", "now fixed", "fixed it", "fixed itself",
    "is resolved", "was resolved", "got resolved", "been resolved", "resolved now", "now resolved",
    "resolved itself", "back up", "up again", "up now", "back online", "back to normal", "working again",
    "works again", "working now", "works now", "fine now", "now fine", "fine again", "ok now", "okay now",
    "good now", "all good now", "has recovered", "have recovered", "recovered now", "is restored",
    "was restored", "been restored", "restored now", "sorted now", "resolved", "is over", "was over",
    "has ended",
)  # fmt: skip
LAPSED_CUES = ("anymore", "any more")
PAST_TIME_CUES = (
    "yesterday", "last night", "last week", "last weekend", "last month", "last year", "earlier",
    "earlier today", "this morning", "ago", "over the weekend",
)  # fmt: skip
PERSISTENCE_CUES = ("still", "again", "currently", "right now")

# Other spellings of one word of a phrase (typos people really send included).
WORD_VARIANTS: Mapping[str, tuple[str, ...]] = {
    "can't": ("can't", "cannot", "can not"),
    "login": ("login", "log in", "logon", "log on", "signin", "sign in"),
    "outage": ("outage", "outtage", "outgae"),
    "error": ("error", "eror", "errror", "erorr"),
    "broken": ("broken", "broke", "borken", "brokn"),
    "password": ("password", "pasword", "passwrod", "passowrd"),
    "urgent": ("urgent", "urgnet", "urgant"),
    "asap": ("asap", "a.s.a.p"),
    "cancel": ("cancel", "cancell"),
}
# Other wordings of a whole phrase.
PHRASE_VARIANTS: Mapping[str, tuple[str, ...]] = {
    "not working": (
        "not working", "isn't working", "aren't working", "doesn't work", "does not work", "don't work",
        "stopped working", "won't work",
    ),
    "billing issue": (
        "billing issue", "billing problem", "billing error", "billing mistake", "charged twice", "double charged",
        "overcharged", "wrong invoice", "incorrect invoice", "wrong charge",
    ),
    "can't login all": (
        "can't login all", "nobody can login", "no one can login", "none of us can login",
        "all users can't login", "everyone is locked out",
    ),
}  # fmt: skip

_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff\ufe0f"))
_APOSTROPHES = {ord(char): "'" for char in "’‘ʼ`´′"}
_URL = re.compile(r"(?:https?://|www\.)\S+")
_SENTENCE_END = re.compile(r"[.!?…]+(?=\s|$)|\n+")
_CLAUSE_END = re.compile(r"[,;:()–—]|\s-\s|\bbut\b")
_WORD = re.compile(r"[\w']+")
_QUOTES = frozenset("'\"“”«»")
_SEPARATOR = r"[\s\-]+"
_ENDING = r"(?:s|es|d|ed|ing)?"


def normalize(text: str) -> str:
    """Lower case, one kind of apostrophe, no invisible characters, URLs blanked out."""
    return _URL.sub(" ", text.translate(_INVISIBLE).translate(_APOSTROPHES).lower())


@lru_cache(maxsize=4096)
def _word_pattern(word: str) -> str:
    spellings = WORD_VARIANTS.get(word, (word,))
    return "(?:" + "|".join(_SEPARATOR.join(_literal(part) for part in s.split()) for s in spellings) + ")"


def _literal(word: str) -> str:
    return re.escape(word).replace("'", "'?")  # "can't" also matches "cant"


def _wording_pattern(wording: str) -> str:
    words = [word for word in re.split(r"[\s\-]+", wording) if word]
    if not words:
        return "(?!)"  # nothing but separators: matches nothing
    body = _SEPARATOR.join(_word_pattern(word) for word in words)
    return body + (_ENDING if words[-1][-1:].isalpha() else "")


@lru_cache(maxsize=4096)
def _pattern(phrase: str) -> re.Pattern[str]:
    wordings = PHRASE_VARIANTS.get(normalize(phrase), (phrase,))
    body = "|".join(_wording_pattern(normalize(wording)) for wording in wordings)
    return re.compile(r"(?<!\w)(?:" + body + r")(?!\w)")


@dataclass(frozen=True)
class Hit:
    """One occurrence of a phrase in the normalized text, and whether it counts."""

    phrase: str
    start: int
    end: int
    status: HitStatus = "live"

    @property
    def live(self) -> bool:
        return self.status == "live"


@lru_cache(maxsize=4096)
def _needles(phrase: str) -> tuple[str, ...]:
    """Substrings of which `phrase` cannot match without one: a test far cheaper than its regex,
    which runs only where one is present (hundreds of cues, few of them anywhere near a message)."""
    needles: list[str] = []
    for wording in PHRASE_VARIANTS.get(normalize(phrase), (phrase,)):
        words = [word for word in re.split(r"[\s\-]+", normalize(wording)) if word]
        # Any one word must be present in one of its spellings; the rarest-looking (longest) one
        # filters best. A spelling's apostrophes are optional, so only a piece between them counts.
        spellings = [
            {max(re.split(r"[\s\-']+", spelling), key=len) for spelling in WORD_VARIANTS.get(word, (word,))}
            for word in words
        ]
        if spellings:
            needles.extend(max(spellings, key=lambda pieces: min(map(len, pieces))))
    return tuple(dict.fromkeys(needles))


@lru_cache(maxsize=64)
def _needle_index(phrases: tuple[str, ...]) -> tuple[tuple[str, frozenset[str]], ...]:
    """Each needle of `phrases` with the phrases it admits, so one text tests each needle once."""
    index: dict[str, set[str]] = {}
    for phrase in phrases:
        for needle in _needles(phrase):
            index.setdefault(needle, set()).add(phrase)
    return tuple((needle, frozenset(admitted)) for needle, admitted in index.items())


def _occurrences(text: str, phrases: Iterable[str]) -> list[Hit]:
    unique = tuple(dict.fromkeys(phrases))
    candidates = set().union(*(admitted for needle, admitted in _needle_index(unique) if needle in text))
    found = [
        Hit(phrase, m.start(), m.end())
        for phrase in unique
        if phrase in candidates
        for m in _pattern(phrase).finditer(text)
        if m.end() > m.start()  # a phrase of optional parts ("'") can match nothing; that is no match
    ]
    starts: list[int] = []  # the kept hits, sorted and disjoint, so two neighbours tell about overlap
    kept: list[Hit] = []
    for hit in sorted(found, key=lambda h: (h.start - h.end, h.start)):  # longest first
        index = bisect.bisect_right(starts, hit.start)
        if (index and kept[index - 1].end > hit.start) or (index < len(kept) and kept[index].start < hit.end):
            continue
        starts.insert(index, hit.start)
        kept.insert(index, hit)
    return kept


def _last_in(indices: Sequence[int], low: int, high: int) -> int | None:
    """The largest of the sorted `indices` in [low, high), if any."""
    position = bisect.bisect_left(indices, high) - 1
    return indices[position] if position >= 0 and indices[position] >= low else None


@dataclass(frozen=True)
class _Sentence:
    start: int
    end: int
    question: bool


class _Reading:
    """One normalized text, indexed once so that judging each match costs a few bisections:
    its sentences, clause breaks, the words outside matches, and the state cues."""

    def __init__(self, text: str, hits: list[Hit]) -> None:
        self.text = text
        self._hits = hits  # sorted and disjoint
        self._hit_starts = [hit.start for hit in hits]
        self.sentences = _sentences(text)
        self._sentence_starts = [sentence.start for sentence in self.sentences]
        self._clause_ends = [match.end() for match in _CLAUSE_END.finditer(text)]
        words = [(m.start(), _bare(m.group())) for m in _WORD.finditer(text) if not self._in_hit(m.start())]
        self._word_starts = [start for start, _ in words]
        self._words = [word for _, word in words]
        self._negators_before = list(itertools.accumulate((word in NEGATORS for word in self._words), initial=0))
        self._index_states()

    def _index_states(self) -> None:
        self.states = _occurrences(self.text, (*RESOLUTION_CUES, *LAPSED_CUES, *PAST_TIME_CUES, *PERSISTENCE_CUES))
        self._state_starts = [state.start for state in self.states]
        self._settling: list[int] = []  # states that decide whatever the match: persistence, resolution
        self._past: list[int] = []
        self._lapsed: list[int] = []
        for index, state in enumerate(self.states):
            question = self.sentence_at(state.start).question
            if state.phrase in PERSISTENCE_CUES:
                self._settling.append(index)
            elif state.phrase in PAST_TIME_CUES:
                self._past.append(index)
            elif question:
                continue  # "has it been fixed?" resolves nothing
            elif state.phrase in LAPSED_CUES:
                self._lapsed.append(index)
            elif not _has_negator(self.words_before(state.start)):  # "hasn't been fixed" neither
                self._settling.append(index)

    def _in_hit(self, position: int) -> bool:
        index = bisect.bisect_right(self._hit_starts, position) - 1
        return index >= 0 and position < self._hits[index].end

    def sentence_at(self, position: int) -> _Sentence:
        return self.sentences[max(bisect.bisect_right(self._sentence_starts, position) - 1, 0)]

    def words_before(self, position: int) -> list[str]:
        """The last `WINDOW` words of the clause before `position`, minus words of matches."""
        start = self.sentence_at(position).start
        clause = bisect.bisect_right(self._clause_ends, position) - 1
        if clause >= 0:
            start = max(start, self._clause_ends[clause])
        first = bisect.bisect_left(self._word_starts, start)
        last = bisect.bisect_left(self._word_starts, position)
        return self._words[max(first, last - WINDOW) : last]

    def negators_between(self, start: int, end: int) -> int:
        first = bisect.bisect_left(self._word_starts, start)
        last = bisect.bisect_left(self._word_starts, end)
        return self._negators_before[last] - self._negators_before[first]

    def quoted(self, hit: Hit) -> bool:
        return self.text[hit.start - 1 : hit.start] in _QUOTES and self.text[hit.end : hit.end + 1] in _QUOTES

    def last_state(self, hit: Hit, *, past: bool, lapsing: bool) -> Hit | None:
        """The latest state cue after `hit` in its sentence that says something about it."""
        low = bisect.bisect_left(self._state_starts, hit.end)
        high = bisect.bisect_left(self._state_starts, self.sentence_at(hit.start).end)
        candidates = [_last_in(self._settling, low, high)]
        if past:  # a past time only speaks to a match after a past verb ("was down yesterday")
            candidates.append(_last_in(self._past, low, high))
        lapsed = _last_in(self._lapsed, low, high) if lapsing else None
        if lapsed is not None and self.negators_between(hit.end, self.states[lapsed].start):
            candidates.append(lapsed)  # "the error doesn't show anymore"
        found = [index for index in candidates if index is not None]
        return self.states[max(found)] if found else None


def _bare(word: str) -> str:
    return word.replace("'", "")


def _sentences(text: str) -> list[_Sentence]:
    sentences: list[_Sentence] = []
    start = 0
    for end in _SENTENCE_END.finditer(text):
        sentences.append(_Sentence(start, end.start(), "?" in end.group()))
        start = end.end()
    sentences.append(_Sentence(start, len(text), False))
    return sentences


def _has_negator(words: Iterable[str]) -> bool:
    return any(word in NEGATORS for word in words)


def _status(reading: _Reading, hit: Hit, *, states: bool) -> HitStatus:
    if reading.quoted(hit):
        return "quoted"
    before = reading.words_before(hit.start)
    if _has_negator(before):
        return "negated"
    if not states or PERSISTENCE_WORDS.intersection(before):
        return "live"
    # "not working anymore" is a fresh failure: a match with its own negator does not lapse.
    own_words = (_bare(word) for word in _WORD.findall(reading.text, hit.start, hit.end))
    state = reading.last_state(hit, past=bool(PAST_VERBS.intersection(before)), lapsing=not _has_negator(own_words))
    if state is None or state.phrase in PERSISTENCE_CUES:
        return "live"
    return "past" if state.phrase in PAST_TIME_CUES else "resolved"


def find_cues(text: str, phrases: Iterable[str], *, shadows: Sequence[str] = (), states: bool = True) -> list[Hit]:
    """Every occurrence of `phrases` in `text`, in text order, each with its status.

    `shadows` are phrases that take part in the longest-reading rule but are never reported:
    listing "scroll down" keeps "down" in "scroll down" from matching. With `states=False` only
    negation and quoting count, for cues that describe the message rather than a problem (a
    topic or a feeling is not "fixed now").
    """
    normalized = normalize(text[:MAX_CHARS])
    # In the order given, not a set's: two phrases matching the same words ("tweet", "tweeted") tie
    # on length, and the first listed must win every time, whatever the process's hash seed.
    wanted = dict.fromkeys(phrases)
    hits = _occurrences(normalized, [*wanted, *shadows])
    reading = _Reading(normalized, hits)
    return [
        Hit(hit.phrase, hit.start, hit.end, _status(reading, hit, states=states))
        for hit in hits
        if hit.phrase in wanted
    ]


def live_phrases(text: str, phrases: Iterable[str], *, shadows: Sequence[str] = (), states: bool = True) -> list[str]:
    """The phrases with at least one live occurrence, in order of first occurrence."""
    hits = find_cues(text, phrases, shadows=shadows, states=states)
    return list(dict.fromkeys(hit.phrase for hit in hits if hit.live))


# --- Sentiment ---------------------------------------------------------------------------------

SENTIMENTS = ("positive", "neutral", "negative", "urgent")
_SENTIMENT_ORDER = ("urgent", "negative", "positive")  # the first label with a live cue wins

SENTIMENT_CUES: Mapping[str, tuple[str, ...]] = {
    "urgent": (
        "urgent", "urgently", "asap", "as soon as possible", "as soon as you can", "as quickly as possible",
        "at your earliest convenience", "immediately", "right away", "emergency", "critical", "time sensitive",
        "time critical", "deadline", "blocker", "blocking us", "top priority", "high priority", "sev1", "sev 1",
        "by end of day", "by eod", "by tomorrow", "before tomorrow", "within the hour", "in the next hour",
        "go live", "going live", "launch tomorrow", "launching tomorrow", "losing money", "losing sales",
        "losing orders", "losing customers", "can't wait", "🚨", ":rotating_light:", "🔥", ":fire:",
    ),
    "negative": (
        "furious", "angry", "livid", "upset", "frustrated", "frustrating", "frustration", "annoyed", "annoying",
        "unacceptable", "ridiculous", "terrible", "awful", "horrible", "worst", "disappointed", "disappointing",
        "fed up", "sick of", "tired of", "waste of time", "useless", "garbage", "rubbish", "a joke", "nightmare",
        "pathetic", "unhappy", "not happy", "not very happy", "not ok", "not okay", "not acceptable",
        "not good", "not great", "going to cancel", "thinking of cancelling", "considering cancelling",
        "switch to a competitor", "looking at alternatives", "legal action", "lawyer", "third time",
        "3rd time", "yet again", "again and again", "still waiting", "no one has replied", "nobody has replied",
        "no response", "no reply", "wtf", "seriously", "come on", "ugh",
        "😡", "😠", "🤬", "😤", "👎", "😞", "😢", "😭", "🙄",
        ":rage:", ":angry:", ":triumph:", ":disappointed:", ":roll_eyes:", ":-(", ":(",
    ),
    "positive": (
        "love it", "love the", "love this", "love how", "loving", "great job", "great work", "great support",
        "awesome", "amazing", "fantastic", "excellent", "brilliant", "perfect", "wonderful", "thank you so much",
        "thanks so much", "thanks a ton", "thanks a million", "kudos", "well done", "you rock", "you're the best",
        "lifesaver", "life saver", "impressed", "delighted", "so happy", "really happy", "very happy",
        "works great", "works perfectly", "thanks for the quick", "keep it up",
        "🎉", "❤", "😍", "🙌", "👏", "💯", "🥳", ":tada:", ":heart:", ":raised_hands:", ":clap:", ":heart_eyes:",
    ),
}  # fmt: skip
# Wishes and hedges that contain a praise word but are not praise ("it would be great if…").
SENTIMENT_SHADOWS = (
    "would love", "i'd love", "we'd love", "would be awesome", "would be amazing", "would be perfect",
    "would be great", "would be fantastic", "would be wonderful", "not perfect",
)  # fmt: skip

_SHOUTING_LETTERS = 12  # fewer capitals than this is an acronym ("API DOWN"), not shouting
_SHOUTING_SHARE = 0.8


def detect_sentiment(text: str, cues: Mapping[str, tuple[str, ...]] = SENTIMENT_CUES) -> tuple[str, str | None]:
    """The sentiment label (seed 001: positive, neutral, negative, urgent) and the cue that decided it."""
    found = find_cues(text, _all(cues), shadows=SENTIMENT_SHADOWS, states=False)
    hits = [hit for hit in found if hit.live]  # in text order
    for label in _SENTIMENT_ORDER:
        phrases = set(cues.get(label, ()))
        cue = next((hit.phrase for hit in hits if hit.phrase in phrases), None)
        if cue is not None:
            return label, cue
    if _is_shouting(text):
        return "negative", "ALL CAPS"
    return "neutral", None


def _all(table: Mapping[str, tuple[str, ...]]) -> list[str]:
    return [phrase for phrases in table.values() for phrase in phrases]


def _is_shouting(text: str) -> bool:
    letters = [char for char in text if char.isalpha() and char.lower() != char.upper()]
    capitals = sum(char.isupper() for char in letters)
    return capitals >= _SHOUTING_LETTERS and capitals >= _SHOUTING_SHARE * len(letters)


# --- Category ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryCues:
    category: str
    subcategory: str | None
    cues: tuple[str, ...]


@dataclass(frozen=True)
class CategoryMatch:
    category: str
    subcategory: str | None
    cue: str  # the phrase that decided it
    denied: bool = False  # decided by a negated cue ("not a bug"), for lack of anything else

    @property
    def label(self) -> str:
        return f"{self.category}/{self.subcategory}" if self.subcategory else self.category


CATEGORY_CUES: tuple[CategoryCues, ...] = (
    # Intent: what the message is, whatever it is about.
    CategoryCues("product", "feature_request", (
        "feature request", "feature idea", "enhancement", "would be nice", "would be great if",
        "would be great to", "would be useful", "would be awesome if", "it'd be great", "would love to have",
        "would love the ability", "would love a way", "would love an option", "the ability to", "nice to have",
        "please add", "could you add", "can you add", "any plans to", "are there plans", "on the roadmap",
        "is it possible to add", "add support for", "i wish", "we wish",
    )),
    CategoryCues("feedback", "compliment", (
        "great job", "great work", "well done", "kudos", "shout out", "shoutout", "you rock", "you guys rock",
        "love the new", "love the product", "love your", "props to", "hats off", "amazing support",
        "great support", "fantastic support",
    )),
    # Topics, most specific first.
    CategoryCues("technical", "sso", (
        "sso", "saml", "okta", "azure ad", "entra", "single sign on", "scim", "onelogin", "identity provider",
    )),
    CategoryCues("account", "password", ("password", "reset link", "forgot my", "reset my", "passcode")),
    CategoryCues("account", "login", (
        "login", "locked out", "2fa", "two factor", "mfa", "verification code", "magic link", "authenticator",
    )),
    CategoryCues("account", "billing", (
        "billing", "invoice", "charge", "refund", "payment", "credit card", "card declined", "receipt", "vat",
        "tax id", "overcharged", "double charged", "pricing", "bill",
    )),
    CategoryCues("account", "subscription", (
        "subscription", "pro plan", "business plan", "enterprise plan", "free plan", "paid plan", "our plan",
        "my plan", "current plan", "upgrade", "downgrade", "cancel", "cancellation", "renewal", "renew", "trial",
        "seats", "license",
    )),
    CategoryCues("account", "permissions", (
        "permission", "admin rights", "admin access", "admin account", "access rights", "role", "invite",
        "invitation", "read only", "workspace owner",
    )),
    CategoryCues("technical", "webhook", ("webhook", "callback url", "event subscription")),
    CategoryCues("technical", "api", (
        "api", "endpoint", "rate limit", "429", "sdk", "api key", "access token", "graphql", "oauth",
    )),
    CategoryCues("technical", "data_export", ("export", "csv", "data export", "download my data", "backup", "xlsx")),
    CategoryCues("technical", "custom_config", (
        "custom domain", "dns", "cname", "custom field", "configuration", "config", "ssl certificate", "subdomain",
        "allowlist", "whitelist",
    )),
    CategoryCues("product", "integration", (
        "integration", "zapier", "salesforce", "hubspot", "jira", "slack app", "microsoft teams", "google drive",
        "sync with", "connector", "shopify",
    )),
    CategoryCues("onboarding", "migration", (
        "migrate", "migration", "migrating", "import from", "move from", "moving from", "switch from", "importing",
    )),
    CategoryCues("onboarding", "setup", (
        "set up", "setup", "getting started", "get started", "onboarding", "new account", "install",
        "installation", "configure",
    )),
    CategoryCues("onboarding", "training", ("training", "walkthrough", "walk through", "webinar", "tutorial")),
    CategoryCues("onboarding", "documentation", (
        "docs", "documentation", "help article", "help center", "knowledge base", "guide", "manual",
    )),
    CategoryCues("feedback", "suggestion", ("suggestion", "suggest", "idea", "feedback")),
    CategoryCues("feedback", "complaint", (
        "complaint", "complain", "unacceptable", "worst support", "terrible service", "no one replied",
        "nobody replied", "nobody answers", "still waiting", "disappointed", "ridiculous",
    )),
    CategoryCues("feedback", "survey_response", ("survey", "nps", "csat")),
    # Generic: only when nothing more specific matched.
    CategoryCues("product", "performance", (
        "slow", "slowness", "latency", "timeout", "timing out", "times out", "takes forever", "laggy", "lagging",
        "sluggish", "loading forever", "spinner", "hangs", "freezes", "freeze",
    )),
    CategoryCues("product", "bug", (
        "bug", "broken", "crash", "not working", "glitch", "error", "fail", "down", "outage", "blank page",
        "500", "404", "data loss", "disappeared", "missing", "does nothing", "wrong",
    )),
    CategoryCues("product", "how_to", (
        "how do i", "how can i", "how to", "how do we", "how can we", "is there a way", "where can i",
        "where do i", "is it possible", "explain how",
    )),
)  # fmt: skip

# Sub-categories that also answer to another name in rules: the seed's P3 rule says
# "category: enhancement", which is what a feature request or a product suggestion is.
CATEGORY_ALIASES: Mapping[tuple[str, str | None], tuple[str, ...]] = {
    ("product", "feature_request"): ("enhancement",),
    ("feedback", "suggestion"): ("enhancement",),
}


def match_category(text: str, table: Sequence[CategoryCues] = CATEGORY_CUES) -> CategoryMatch | None:
    """The first row of `table` with a live cue (or, failing that, any cue) in `text`."""
    hits = find_cues(text, [cue for row in table for cue in row.cues], states=False)
    live = {hit.phrase for hit in hits if hit.live}
    for phrases, denied in ((live, False), ({hit.phrase for hit in hits}, True)):
        for row in table:
            cue = next((cue for cue in row.cues if cue in phrases), None)
            if cue is not None:
                return CategoryMatch(row.category, row.subcategory, cue, denied)
    return None


def detect_category(text: str, table: Sequence[CategoryCues] = CATEGORY_CUES) -> tuple[str | None, str | None]:
    """(category, sub-category) from seed 001's taxonomy, or (None, None) when no cue matches."""
    match = match_category(text, table)
    return (match.category, match.subcategory) if match else (None, None)


def category_names(category: str, subcategory: str | None = None) -> tuple[str, ...]:
    """Every name a rule may use for this category, most specific first:
    ("product/feature_request", "feature_request", "enhancement", "product")."""
    specific = (f"{category}/{subcategory}", subcategory) if subcategory else ()
    return tuple(dict.fromkeys((*specific, *CATEGORY_ALIASES.get((category, subcategory), ()), category)))
