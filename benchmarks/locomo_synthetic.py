"""A synthetic file in the LoCoMo format, for timing benchmarks/locomo.py at the real data set's size.

    python benchmarks/locomo_synthetic.py OUT.json [--samples 10] [--sessions 25] [--turns 24] [--questions 200]

The defaults give 10 conversations of 600 turns and 2,000 questions (the real LoCoMo-10 has about
300 turns and 200 questions per conversation). The text is random chatter over a fixed vocabulary
and each question reuses a few words of its evidence turn: good for timing, meaningless for quality.
Same arguments, same file.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

NAMES = ("Avery", "Bea", "Caleb", "Dara", "Elio", "Fern", "Gus", "Hollis", "Ines", "Jules", "Kai", "Lior")
# fmt: off
WORDS = (
    "garden", "bakery", "marathon", "guitar", "puppy", "kitten", "painting", "pottery", "museum", "library",
    "camping", "hiking", "festival", "concert", "recipe", "soup", "bicycle", "train", "airport", "beach",
    "mountain", "lake", "river", "school", "teacher", "exam", "project", "office", "manager", "promotion",
    "interview", "startup", "robot", "sensor", "cable", "hospital", "doctor", "nurse", "ankle", "wrist",
    "novel", "poem", "sketch", "photo", "camera", "drone", "telescope", "planet", "comet", "storm",
    "snow", "rain", "sunrise", "sunset", "market", "cheese", "coffee", "tea", "sourdough", "pancake",
    "violin", "drum", "choir", "theatre", "movie", "series", "podcast", "chess", "puzzle", "kayak",
    "sailing", "fishing", "volunteer", "shelter", "charity", "donation", "neighbour", "cousin", "sister", "brother",
    "grandmother", "wedding", "birthday", "anniversary", "holiday", "passport", "visa", "apartment", "balcony",
    "plants",
)
FILLERS = (
    "I have been thinking about the {0} a lot lately.", "Yesterday we finally went to the {0} with the {1}.",
    "Did you ever try the {0}? My {1} loves it.", "The {0} was great, but the {1} was even better.",
    "I'm planning something with a {0} and maybe a {1} next month.", "Honestly the {0} surprised me.",
    "We talked about the {0} and the {1} for hours.", "Last week my {0} broke, so I fixed it with a {1}.",
)
# fmt: on


def generate(samples: int, sessions: int, turns: int, questions: int, seed: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for n in range(samples):
        a, b = rng.sample(NAMES, 2)
        conversation: dict[str, Any] = {"speaker_a": a, "speaker_b": b}
        when = datetime(2023, 1, 1, 9, 0) + timedelta(days=rng.randrange(300))
        spoken = []
        for s in range(1, sessions + 1):
            when += timedelta(days=rng.randrange(3, 20), minutes=rng.randrange(600))
            hour = when.hour % 12 or 12
            conversation[f"session_{s}_date_time"] = f"{hour}:{when:%M} {when:%p}".lower() + f" on {when:%-d %B, %Y}"
            session = []
            for t in range(1, turns + 1):
                text = rng.choice(FILLERS).format(*rng.sample(WORDS, 2))
                turn = {"speaker": a if t % 2 else b, "dia_id": f"D{s}:{t}", "text": text}
                if rng.random() < 0.05:
                    turn["blip_caption"] = f"a photo of a {rng.choice(WORDS)}"
                session.append(turn)
                spoken.append(turn)
            conversation[f"session_{s}"] = session
        qa = []
        for _ in range(questions):
            turn = rng.choice(spoken)
            words = [w.strip(".,?!") for w in turn["text"].split() if w.strip(".,?!").lower() in WORDS]
            category = rng.randrange(1, 6)
            item: dict[str, Any] = {"question": f"What did {turn['speaker']} say about the {' and '.join(words)}?"}
            item["adversarial_answer" if category == 5 else "answer"] = turn["text"]
            item["evidence"] = [turn["dia_id"]] if rng.random() > 0.02 else []
            item["category"] = category
            qa.append(item)
        out.append({"sample_id": f"synthetic-{n}", "conversation": conversation, "qa": qa})
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--sessions", type=int, default=25)
    parser.add_argument("--turns", type=int, default=24, help="turns per session")
    parser.add_argument("--questions", type=int, default=200, help="questions per conversation")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    data = generate(args.samples, args.sessions, args.turns, args.questions, args.seed)
    args.out.write_text(json.dumps(data, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
