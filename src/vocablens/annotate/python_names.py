"""Python identifiers a reader knows as code: ``pathlib``, ``setattr``, ``linspace``, ``tqdm``.

Value vectors of code-reading neurons promote the names of Python's modules, builtins and the
methods of its data libraries; under the raw readout they fill the top of the list
(``␣hashlib``, ``␣shutil``, ``␣functools``, ``␣tempfile``). The names come from Python itself
and the data libraries vocablens depends on, not from a hand-written list: the standard
library's module names (``sys.stdlib_module_names``), the builtins and keywords, the public
methods of ``str``, ``bytes``, ``list``, ``dict`` and ``set``, the public names of the standard
modules most programs import (``os``, ``os.path``, ``shutil``, ``subprocess``, ``collections``,
``itertools``, ``functools``, ``re``, ``json``, ``logging``, ``typing``, ``argparse`` with the
parameters of its actions: ``nargs``, ``metavar``) and of ``pathlib.Path`` and
``unittest.TestCase``, the public names of ``numpy``, ``numpy.ndarray``, ``pandas.DataFrame``,
``torch``, ``torch.Tensor``, ``torch.nn`` and ``torch.nn.functional``, the names of ``copy``,
``math``, ``random``, ``time``, ``datetime``, ``glob``, ``tempfile``, ``string``, ``csv``,
``pickle``, ``io``, ``sys`` and ``pandas``, the methods of matplotlib's ``Axes`` and ``Figure``
(pyplot's functions are mostly theirs; pyplot itself is not imported), the properties the
setters of ``Axes`` and ``Line2D`` set (``set_linestyle``: ``linestyle``, ``set_xlim``:
``xlim``), the parameters of the methods of ``pandas.DataFrame`` and ``numpy.ndarray``
(``inplace``, ``keepdims``), plus the import names of a few widely used packages
(:data:`PACKAGES`). A token is a **Python name** when its text (without the leading space) is
one of them, case kept, at least :data:`MIN_LENGTH` characters long, and it is no word of the
labeller's lexicon (``open``, ``sort``, ``format`` are words first).
"""

from __future__ import annotations

import builtins
import inspect
import keyword
import sys
from functools import lru_cache

_PACKAGES_TEXT = """
    numpy scipy pandas torch torchvision matplotlib pyplot sklearn pytest django flask tqdm
    boto boto3 yaml requests setuptools pylint sqlalchemy tensorflow keras jupyter ipython
    noqa kwargs argv stderr stdout stdin
"""
#: Import names of widely used Python packages outside the standard library (and a few names
#: every Python program uses).
PACKAGES = frozenset(_PACKAGES_TEXT.split())
#: Shorter names (``dis``, ``cmd``, ``abs``) are too often pieces of other words.
MIN_LENGTH = 4


@lru_cache(maxsize=1)
def python_names() -> frozenset[str]:
    """Every Python name (see the module docstring), built once."""
    import argparse
    import collections
    import copy
    import csv
    import datetime
    import functools
    import glob
    import io
    import itertools
    import json
    import logging
    import math
    import os
    import pathlib
    import pickle
    import random
    import re
    import shutil
    import string
    import subprocess
    import tempfile
    import time
    import typing
    import unittest

    import matplotlib.axes
    import matplotlib.figure
    import matplotlib.lines
    import numpy
    import pandas
    import torch

    names = set(sys.stdlib_module_names) | set(dir(builtins)) | set(keyword.kwlist) | PACKAGES
    owners = (str, bytes, list, dict, set, numpy, numpy.ndarray, pandas.DataFrame, os, os.path,
              shutil, subprocess, collections, itertools, functools, re, json, logging,
              pathlib.Path, unittest.TestCase, argparse, argparse.ArgumentParser, typing,
              torch, torch.Tensor, torch.nn, torch.nn.functional, copy, math, random, time,
              datetime.datetime, glob, tempfile, string, csv, pickle, io, sys, pandas,
              matplotlib.axes.Axes, matplotlib.figure.Figure)  # fmt: skip
    for owner in owners:
        names.update(n for n in dir(owner) if not n.startswith("_"))
    for owner in (matplotlib.axes.Axes, matplotlib.lines.Line2D):  # set_linestyle: linestyle
        names.update(n[len("set_") :] for n in dir(owner) if n.startswith("set_"))
    names.update(parameters(argparse.Action))  # nargs, metavar, dest
    for owner in (pandas.DataFrame, numpy.ndarray):  # inplace, keepdims
        for name in dir(owner):
            if not name.startswith("_"):
                names.update(parameters(getattr(owner, name)))
    return frozenset(n for n in names if len(n) >= MIN_LENGTH)


def parameters(function: object) -> list[str]:
    """The public parameter names of a callable (none for what is not one, or has no signature)."""
    if not callable(function):
        return []
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # builtins without a text signature
        return []
    return [p for p in signature.parameters if not p.startswith("_")]
