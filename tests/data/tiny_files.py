"""Tiny dataset files in the real formats, built by the tests themselves (no network, no copies)."""

from __future__ import annotations

import hashlib
import io
import json
import pathlib
import tarfile
import zipfile

import numpy as np

POSITIVE = ["a great film<br />with a great cast", "wonderful and moving", "great fun, truly",
            "i loved it", "a great story", "superb acting"]
NEGATIVE = ["an awful film<br />with an awful plot", "boring and dull", "awful, just awful",
            "i hated it", "a terrible story", "weak acting"]


def sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def truncate(path: pathlib.Path, fraction: float = 0.5) -> pathlib.Path:
    """Cut the file to `fraction` of its bytes, in place (a broken download)."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def _add(archive: tarfile.TarFile, name: str, text: str) -> None:
    data = text.encode("utf-8")
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def write_aclimdb(path: pathlib.Path, per_class: int = 3, splits=("train", "test"),
                  labels=("pos", "neg")) -> pathlib.Path:
    """aclImdb_v1.tar.gz layout: aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt."""
    with tarfile.open(path, "w:gz") as archive:
        _add(archive, "aclImdb/README", "Large Movie Review Dataset v1.0 (tiny test copy)")
        _add(archive, "aclImdb/imdb.vocab", "the\nfilm\n")
        for split in splits:
            for label in labels:
                texts = POSITIVE if label == "pos" else NEGATIVE
                for i in range(per_class):
                    rating = 9 if label == "pos" else 2
                    _add(archive, f"aclImdb/{split}/{label}/{i}_{rating}.txt",
                         f"{texts[i % len(texts)]} ({split} {i})")
    return path


WORD_INDEX = {"the": 1, "movie": 2, "was": 3, "great": 4, "awful": 5, "plot": 6}
# (ranks, label): Keras stores each review as word ranks of imdb_word_index.json.
NPZ_TRAIN = [([1, 2, 3, 4], 1), ([1, 2, 3, 5], 0), ([1, 6, 3, 4], 1), ([1, 6, 3, 5], 0)]
NPZ_TEST = [([2, 3, 4], 1), ([6, 3, 5], 0)]


def _ragged(rows) -> np.ndarray:
    rows = list(rows)
    array = np.empty(len(rows), dtype=object)
    for i, row in enumerate(rows):
        array[i] = list(row)
    return array


def write_imdb_npz(path: pathlib.Path) -> pathlib.Path:
    """imdb.npz layout: ragged object arrays of word ranks, int labels."""
    np.savez(path, x_train=_ragged(r for r, _ in NPZ_TRAIN),
             y_train=np.array([y for _, y in NPZ_TRAIN]),
             x_test=_ragged(r for r, _ in NPZ_TEST), y_test=np.array([y for _, y in NPZ_TEST]))
    return path


def write_word_index(path: pathlib.Path, index: dict | None = None) -> pathlib.Path:
    path.write_text(json.dumps(index or WORD_INDEX), encoding="utf-8")
    return path


SPA_LINES = [
    "Go.\tVe.\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272 (CM) & #4986655 (cueyayotl)",
    "Go.\tVete.\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272 (CM) & #4986656 (cueyayotl)",
    "Hi.\tHola.",
    "Run!\t¡Corre!",
    "Who?\t¿Quién?",
    "I see.\tYa veo.",
    "Thank you.\tGracias.",
    "Where is the bathroom?\t¿Dónde está el baño?",
    "I don't know.\tNo lo sé.",
    "We are friends.\tSomos amigos.",
    "The cat is black.\tEl gato es negro.",
    "I like to read books.\tMe gusta leer libros.",
    "She has two brothers.\tElla tiene dos hermanos.",
    "Open the window, please.\tAbre la ventana, por favor.",
    "It is raining today.\tHoy está lloviendo.",
    "My house is very small.\tMi casa es muy pequeña.",
    "This sentence is far too long to fit into the tiny sequence length used by the test.\t"
    "Esta frase es demasiado larga para caber en la pequeña longitud de secuencia de la prueba.",
]


def write_spa_zip(path: pathlib.Path, lines=SPA_LINES, member: str = "spa-eng/spa.txt"
                  ) -> pathlib.Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("spa-eng/_about.txt", "tiny test copy of the Anki spa-eng file")
        archive.writestr(member, "\n".join(lines) + "\n")
    return path


def play_text(num_lines: int = 120) -> str:
    speeches = []
    for i in range(num_lines):
        speaker = "First Citizen" if i % 2 == 0 else "All"
        speeches.append(f"{speaker}:\nLine number {i} of a very small play.\n\n")
    return "".join(speeches)


def write_prices_csv(path: pathlib.Path, prices, start: str = "2020-01-01",
                     header: str = "Date,Open,High,Low,Close,Adj Close,Volume") -> pathlib.Path:
    """Yahoo-style CSV, one row per business day, Adj Close = Close."""
    import pandas as pd

    dates = pd.bdate_range(start, periods=len(prices))
    rows = [header] + [f"{d.date()},{p},{p},{p},{p},{p},100" for d, p in zip(dates, prices)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path
