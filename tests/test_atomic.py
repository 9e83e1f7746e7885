"""The output-folder check shared by the report and the interventions pages."""

import os

import pytest

from vocablens.atomic import check_replaceable_folder
from vocablens.errors import InputError
from vocablens.reports import intervene_pages, render


@pytest.mark.parametrize(("marker", "noun"), [(render.MARKER, "report"),
                                             (intervene_pages.MARKER, "page")])  # fmt: skip
def test_replaceable_folder(tmp_path, marker, noun):
    assert check_replaceable_folder(tmp_path / "new" / "deeper", marker, noun).name == "deeper"
    (tmp_path / "empty").mkdir()
    check_replaceable_folder(tmp_path / "empty", marker, noun)
    (tmp_path / "earlier").mkdir()
    (tmp_path / "earlier" / marker).write_text("x")
    (tmp_path / "earlier" / "index.html").write_text("x")
    check_replaceable_folder(tmp_path / "earlier", marker, noun)
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "thesis.tex").write_text("precious")
    with pytest.raises(InputError, match=f"not empty and not a vocablens {noun}$"):
        check_replaceable_folder(tmp_path / "home", marker, noun)
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(InputError, match=f"cannot write the {noun} to .*: it is a file"):
        check_replaceable_folder(tmp_path / "file.txt", marker, noun)
    with pytest.raises(InputError, match="is a file"):
        check_replaceable_folder(tmp_path / "file.txt" / "sub", marker, noun)
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling")
    with pytest.raises(InputError, match="it is a file"):
        check_replaceable_folder(tmp_path / "dangling", marker, noun)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes everywhere")
def test_replaceable_folder_needs_a_writable_parent(tmp_path):
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "rep").mkdir()
    (tmp_path / "locked" / "rep" / render.MARKER).write_text("x")
    os.chmod(tmp_path / "locked", 0o555)
    try:
        with pytest.raises(InputError, match="not writable"):
            check_replaceable_folder(tmp_path / "locked" / "rep", render.MARKER, "report")
    finally:
        os.chmod(tmp_path / "locked", 0o755)
