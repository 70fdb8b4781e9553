"""The model's part in `hybrid`: it judges, one word each, the sentences the rules left unjudged.

The rules are precise on the phrasings they know; what they miss is looser wording ("Backups run
every 6 hours", "the pager fired 40 times yesterday"). Asking a small model to write whole
candidates for a chunk cost minutes per chunk and brought wrong types and extra tasks (measured
per type in docs/benchmarks.md). Here it only labels: the sentences go as a numbered list, and
the reply, held to a schema, is one label per number, in order:

    {"1": "fact", "2": "none", "3": "incident"}

so a reply is a few tokens a sentence and cannot name a sentence it was not shown. The rules then
build each sentence labelled fact or incident, or decision where the sentence states a choice or a
rule, into a candidate (title, dates, entities, edges) the way they build their own. Tasks stay with
the rules: measured per type, the model's were wrong more often than right.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from mindmem.errors import BadInput
from mindmem.extract.reply import not_a_statement

LABELS = ("decision", "fact", "incident", "none")
# The labels hybrid turns into candidates. Tasks stay with the rules; a decision is taken only from a
# sentence that says it is one (CHOICE): unguarded, the model's extra decisions were wrong three times
# in four on the labelled set, mostly facts or status updates (docs/benchmarks.md).
ADDED = ("decision", "fact", "incident")
# A decision is a choice the team makes or a rule it sets, and the sentence that records one says so: in
# the team's voice ("we'll", "we will", "we're going to", "let's") or as a rule ("must", "may only", "no
# longer", "every new X needs", "now requires"). A sentence the model calls a decision with none of these
# says how something is, or what someone did or will do ("They moved to Notion last month", "finished
# the rate limiter", "I'll do it after lunch"): those stay unlabelled, as before. One it calls a fact
# that does state a rule ("Consequence: every event gets a schema") is a decision.
CHOICE = re.compile(
    r"\b(?:we(?:'ll|’ll| will| shall|'re going to|’re going to| are going to)|let['’]s|let us|"
    r"must(?: not)?|(?:may|can) only|(?:is|are) not allowed|no longer|"
    r"(?:every|each|all|any)\b[^.;!?]*?\b(?:needs?|requires?|gets?|has to|have to)|now (?:needs?|requires?))\b",
    re.I,
)
# An incident is a failure, and the sentence that reports one says so. A sentence the model calls an
# incident with none of these words states a cost, a count, a duration or a cause ("the warehouse bill
# doubled", "37 tickets over the weekend"): the small models' commonest wrong label, read as a fact.
FAILURE = re.compile(
    r"\b(?:fail\w*|down|outages?|errors?|broke\w*|crash\w*|could ?n[o']t|can'?t|cannot|unable|lost|loss|"
    r"delet\w*|delay\w*|degraded|timed? ?outs?|timing out|ran out|out of (?:space|memory|disk)|fired|paged|"
    r"alerts?|5\d\d|backed up|unreachable|hung|hang\w*|stuck|dropp\w*|leak\w*|corrupt\w*|expired|"
    r"rolled back|spik\w*|incidents?)\b",
    re.I,
)
# Sentences per call: enough for a page of notes, few enough that a small model keeps count.
BATCH = 24
# Reply tokens a label takes (`"12": "incident", ` is 7 to 9), with room to spare, and for the braces.
TOKENS_PER_LABEL = 12
TOKENS_EXTRA = 8

# Its examples are written for the prompt, not taken from the labelled set the benchmark scores.
SYSTEM_PROMPT = """\
You label sentences from a team's notes, chats and write-ups for the team's memory.
For each numbered sentence, reply with one label:
- decision: the team chose something or set a rule ("we'll go with X", "agreed", "new rule: ...").
- fact: how something is, works or has changed: a system, setting, number, limit, cost, count,
  schedule, place, version or owner ("the staging database is reset every Sunday", "the app has 30k
  daily users", "the docs moved to Confluence", "the CDN bill went up 20%"). A sentence that says how
  something is, even with "now" or "already", is a fact, not a decision.
- incident: one particular event where a system failed: an outage, errors, a failure, data lost.
  What caused it, what it cost, or how many tickets came in is a fact, not an incident.
- none: questions, greetings, titles, what someone did, is doing or will do, opinions, small talk.
Reply with JSON only: {"1": label, "2": label, ...}, one entry per sentence, in order.

Example.
1: hey all, thanks for joining
2: The image resizer runs on two GPU nodes.
3: fine, new rule: every hotfix gets a post-release note
4: the payment webhook dropped events twice last night
5: done with the settings page, next up is the upload form
6: Our support inbox gets about 300 tickets a week.
7: I think the new logo looks nicer
8: ok, we'll go with Postmark for the receipts
9: Mobile sync, week 12
10: Invoices are archived in S3 for seven years.
11: The search cluster already runs OpenSearch 2.11.
12: The outage happened because the disk on the primary filled up.
13: The analytics team moved their dashboards to Metabase in March.
14: 12 users wrote in about the broken invoice link.
Reply:
{"1": "none", "2": "fact", "3": "decision", "4": "incident", "5": "none", "6": "fact", "7": "none", "8": "decision", \
"9": "none", "10": "fact", "11": "fact", "12": "fact", "13": "fact", "14": "fact"}

Asked instead for the names in a text ("Names in:"), list the people, tools and projects it names, as written:
- people: persons, by the name or chat handle the text uses.
- tools: products, services, libraries, vendors (Kafka, Stripe, pnpm, date-fns).
- projects: the team's own named projects.
Not names: ordinary words (the API, the queue, dashboards), abbreviations (EU, VAT), days, months, teams.
Reply with JSON only: {"people": [...], "tools": [...], "projects": [...]}.

Example.
Names in:
[10:02] mo: the nightly sync from Salesforce failed again
Priya will move the cron jobs to Airflow by Friday.
The Atlas project needs a new owner, ask Ken. We pin numpy to 1.26 for the EU build.
Reply:
{"people": ["mo", "Priya", "Ken"], "tools": ["Salesforce", "Airflow", "numpy"], "projects": ["Atlas"]}
"""


@runtime_checkable
class JsonModel(Protocol):
    def complete_json(
        self, messages: list[dict[str, str]], schema: dict[str, Any], max_tokens: int | None = None
    ) -> str: ...


def worth_asking(sentence: str) -> bool:
    """Whether a sentence could hold a decision, fact or incident at all: questions, headings and
    scraps are none without asking."""
    return not sentence.rstrip().endswith("?") and not_a_statement(sentence) is None


def label_schema(count: int) -> dict[str, Any]:
    keys = [str(n) for n in range(1, count + 1)]
    properties = {key: {"enum": list(LABELS)} for key in keys}
    return {"type": "object", "properties": properties, "required": keys, "additionalProperties": False}


def label(model: JsonModel, sentences: Sequence[str], progress: Callable[[int, int], None] | None = None) -> list[str]:
    """One label from LABELS per sentence; "none" for those not worth asking about. `progress(done,
    total)` hears of each call, in sentences asked about."""
    asked = [i for i, s in enumerate(sentences) if worth_asking(s)]
    out = ["none"] * len(sentences)
    report = progress or (lambda done, total: None)
    report(0, len(asked))
    for first in range(0, len(asked), BATCH):
        batch = asked[first : first + BATCH]
        numbered = "\n".join(f"{n}: {_one_line(sentences[i])}" for n, i in enumerate(batch, 1))
        messages = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": f"{numbered}\nReply:"},
        ]
        reply = model.complete_json(messages, label_schema(len(batch)), TOKENS_EXTRA + TOKENS_PER_LABEL * len(batch))
        for i, found in zip(batch, _labels(reply, len(batch)), strict=True):
            out[i] = found
        report(first + len(batch), len(asked))
    return out


def added(labels: Sequence[str], sentences: Sequence[str]) -> list[str]:
    """The labels hybrid builds candidates from: facts, incidents whose sentence names a failure (one
    that names none is a fact), and decisions whose sentence states a choice or a rule (a "fact" that
    does is a decision); every other label is "none"."""
    out = []
    for found, sentence in zip(labels, sentences, strict=True):
        if found == "incident" and not FAILURE.search(sentence):
            found = "fact"
        elif found == "decision" and not CHOICE.search(sentence):
            found = "none"
        elif found == "fact" and CHOICE.search(sentence):
            found = "decision"  # a rule written as how things are: "every event gets a schema"
        out.append(found if found in ADDED else "none")
    return out


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _labels(raw: str, count: int) -> list[str]:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BadInput(f"the model's labels are not JSON ({exc.msg}): {raw[:80]!r}") from None
    found = [data.get(str(n)) if isinstance(data, dict) else None for n in range(1, count + 1)]
    if any(value not in LABELS for value in found):
        raise BadInput(f"the model's labels are not one of {', '.join(LABELS)} per sentence: {raw[:80]!r}")
    return [str(value) for value in found]
