"""Build hook only: everything else is in pyproject.toml.

A wheel (``pip install .``, not editable) also ships the repository's ``data/`` folder — the
bundled pieces, 6 MB, with their README and licences — as ``nmfedu/_data``, so that
``nmfedu.data.load()`` works wherever the package is installed. An editable install
(``make setup``) copies nothing: :func:`nmfedu.data.data_dir` reads the checkout's ``data/``.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DATA = Path(__file__).resolve().parent / "data"


class BuildPyWithData(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        if not (DATA / "pieces.json").is_file():
            raise SystemExit(f"cannot build nmfedu: {DATA / 'pieces.json'} is missing (run 'make data')")
        target = Path(self.build_lib) / "nmfedu" / "_data"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(DATA, target)


setup(cmdclass={"build_py": BuildPyWithData})
