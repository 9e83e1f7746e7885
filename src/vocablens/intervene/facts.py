"""Factual prompts for causal tracing: ``(prompt, subject, answer)``, answer with its leading space.

Candidates in the style of ROME's CounterFact/known-facts set. :data:`SMOLLM2_KNOWN` lists
the ones SmolLM2-135M-Instruct gets right (its top-1 next token is the answer's first token),
measured with :func:`known_facts` (``benchmarks/bench_trace.py``).
"""

from __future__ import annotations

FACTS: tuple[tuple[str, str, str], ...] = (
    ("The Eiffel Tower is located in the city of", "The Eiffel Tower", " Paris"),
    ("The Colosseum is located in the city of", "The Colosseum", " Rome"),
    ("The Statue of Liberty is located in the city of", "The Statue of Liberty", " New"),
    ("Big Ben is located in the city of", "Big Ben", " London"),
    ("The Great Wall is located in the country of", "The Great Wall", " China"),
    ("The Taj Mahal is located in the country of", "The Taj Mahal", " India"),
    ("Mount Fuji is located in the country of", "Mount Fuji", " Japan"),
    ("The Kremlin is located in the city of", "The Kremlin", " Moscow"),
    ("The Acropolis is located in the city of", "The Acropolis", " Athens"),
    ("The Brandenburg Gate is located in the city of", "The Brandenburg Gate", " Berlin"),
    ("The Sagrada Familia is located in the city of", "The Sagrada Familia", " Barcelona"),
    ("The Golden Gate Bridge is located in the city of", "The Golden Gate Bridge", " San"),
    ("The capital of France is the city of", "France", " Paris"),
    ("The capital of Japan is the city of", "Japan", " Tokyo"),
    ("The capital of Italy is the city of", "Italy", " Rome"),
    ("The capital of Germany is the city of", "Germany", " Berlin"),
    ("The capital of Spain is the city of", "Spain", " Madrid"),
    ("The capital of Russia is the city of", "Russia", " Moscow"),
    ("The capital of Egypt is the city of", "Egypt", " Cairo"),
    ("The capital of England is the city of", "England", " London"),
    ("Barack Obama is a citizen of the United", "Barack Obama", " States"),
    ("The native language of Vladimir Putin is", "Vladimir Putin", " Russian"),
    ("The mother tongue of Nicolas Sarkozy is", "Nicolas Sarkozy", " French"),
    ("Toyota is a company from the country of", "Toyota", " Japan"),
    ("BMW is a car maker from the country of", "BMW", " Germany"),
    ("Ferrari is a car maker from the country of", "Ferrari", " Italy"),
    ("The iPhone is a phone made by", "The iPhone", " Apple"),
    ("Windows is an operating system made by", "Windows", " Microsoft"),
    ("Lionel Messi plays the sport of", "Lionel Messi", " football"),
    ("Michael Jordan played the sport of", "Michael Jordan", " basketball"),
    ("Shakespeare wrote his plays in the language of", "Shakespeare", " English"),
    ("The Louvre is a museum in the city of", "The Louvre", " Paris"),
    ("The Nile is a river in the continent of", "The Nile", " Africa"),
    ("The Amazon rainforest is mostly in the country of", "The Amazon rainforest", " Brazil"),
    ("Sushi is a dish from the country of", "Sushi", " Japan"),
    ("Pizza is a dish from the country of", "Pizza", " Italy"),
)

#: Prompts of FACTS that SmolLM2-135M-Instruct does *not* get right (measured: 30 of 36 right;
#: it says " New" for Big Ben, " Barcelona" for Spain, " St" for Russia, " the" for the sports
#: and Shakespeare).
_SMOLLM2_WRONG = {
    "Big Ben is located in the city of",
    "The capital of Spain is the city of",
    "The capital of Russia is the city of",
    "Lionel Messi plays the sport of",
    "Michael Jordan played the sport of",
    "Shakespeare wrote his plays in the language of",
}

#: The FACTS SmolLM2-135M-Instruct gets right (its top-1 next token is the answer's first token).
SMOLLM2_KNOWN: tuple[tuple[str, str, str], ...] = tuple(
    fact for fact in FACTS if fact[0] not in _SMOLLM2_WRONG
)


def known_facts(lm, facts=FACTS) -> list[tuple[str, str, str]]:
    """The ``facts`` whose answer's first token is ``lm``'s top-1 next token (one batch)."""
    from vocablens.intervene.forward import last_logits, token_ids

    ids = token_ids(lm, [prompt for prompt, _, _ in facts])
    top = last_logits(lm.view, ids).argmax(-1).tolist()
    answers = [lm.tokenizer(answer)["input_ids"][0] for _, _, answer in facts]
    return [fact for fact, t, a in zip(facts, top, answers, strict=True) if t == a]
