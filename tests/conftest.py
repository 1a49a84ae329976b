import io
from pathlib import Path

import pytest
from django.core.management import call_command

from demo.nara import DATA_DIR as NARA
from indicators.definitions import LoadResult, load_scorecard, read_definition

TEST_DATA = Path(__file__).resolve().parent / "data"


def load_definition_file(path: Path, year: int | None = None) -> LoadResult:
    return load_scorecard(definition=read_definition(path.read_text(encoding="utf-8")), year=year)


def run(*args: str) -> str:
    """Run a management command and return what it printed."""
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


@pytest.fixture
def nara_scorecard(db) -> LoadResult:
    """Division Nära's definition, loaded as `load_scorecard FILE` loads it."""
    return load_definition_file(NARA / "scorecard.yaml")


@pytest.fixture
def nara(nara_scorecard) -> LoadResult:
    """The Nära scorecard with its T2 2022 measurements imported."""
    run("import_measurements", str(NARA / "measurements.csv"))
    return nara_scorecard


@pytest.fixture
def demo(db) -> None:
    run("load_demo")
