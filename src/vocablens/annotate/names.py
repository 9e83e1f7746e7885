"""Personal names: first names and surnames, which WordNet mostly lacks.

Readers name "men's first names" or "surnames" in lists such as ``␣Carl``, ``␣Paul``,
``␣Charles``, ``␣Bryan``; most such tokens are not WordNet lemmas, so they are pieces to the
lexicon and no synset, family or theme can gather them. The names come from Faker's person
providers (``faker.providers.person.<locale>``: first names, male and female, and last names)
of the locales in :data:`LOCALES`, read once on first use. A token is a name when it is
capitalized (``␣Carl``, ``Carl``, not ``carl``), has three letters or more, is in that list, and
WordNet has no sense of it other than instances (people, places): ``Will``, ``Mark``, ``Rose``,
``Young`` and ``King`` are common words first.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import import_module
from typing import Any

from vocablens.annotate.analysis import TokenAnalysis

#: Faker locales whose names are read: the English-speaking and western European ones.
LOCALES = ("en_US", "en_GB", "en_IE", "de_DE", "fr_FR", "it_IT", "es_ES", "nl_NL")
#: The attributes of a Faker person provider that hold names.
_NAME_LISTS = ("first_names", "first_names_male", "first_names_female", "last_names")


@lru_cache(maxsize=1)
def personal_names() -> frozenset[str]:
    """The lower-cased alphabetic first names and surnames of :data:`LOCALES` (about 10,000)."""
    names: set[str] = set()
    for locale in LOCALES:
        provider = import_module(f"faker.providers.person.{locale}").Provider
        for attr in _NAME_LISTS:
            names |= {n.lower() for n in getattr(provider, attr, ()) if n.isalpha()}
    return frozenset(names)


def is_personal_name(a: TokenAnalysis, lexicon: Any) -> bool:
    """Whether a token is a personal name (see the module docstring)."""
    norm = a.token
    if norm.case != "title" or len(norm.lower) < 3 or norm.lower not in personal_names():
        return False
    return _only_instances(lexicon, norm.lower)


@lru_cache(maxsize=65536)
def _only_instances(lexicon: Any, lower: str) -> bool:
    """Whether every WordNet sense of ``lower`` is an instance (true when it has none)."""
    return all(s.instance_hypernyms() for s in lexicon.synsets(lower))
