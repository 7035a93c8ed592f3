"""Numbers 0-9999 written out in English and in Spanish: the offline stand-in for spa-eng.

`load_translation(source="offline")` translates these pairs, labelled `source="offline"`.
A small, exact grammar, so a model's mistakes are easy to read.
"""

from __future__ import annotations

from rnn_tf._checks import check_number

_EN_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
            "fourteen fifteen sixteen seventeen eighteen nineteen").split()
_EN_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ES_ONES = ("cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece "
            "catorce quince dieciséis diecisiete dieciocho diecinueve veinte veintiuno "
            "veintidós veintitrés veinticuatro veinticinco veintiséis veintisiete veintiocho "
            "veintinueve").split()
_ES_TENS = "_ _ _ treinta cuarenta cincuenta sesenta setenta ochenta noventa".split()
_ES_HUNDREDS = ("_ ciento doscientos trescientos cuatrocientos quinientos seiscientos "
                "setecientos ochocientos novecientos").split()


def english_number(n: int) -> str:
    """0-9999 in English words, American style ("one thousand two hundred thirty-four").

    Example:
        >>> english_number(1234)
        'one thousand two hundred thirty-four'
    """
    check_number(n, "n", low=0, high=9999, integer=True)
    thousands, hundreds, rest = n // 1000, n // 100 % 10, n % 100
    words = []
    if thousands:
        words += [_EN_ONES[thousands], "thousand"]
    if hundreds:
        words += [_EN_ONES[hundreds], "hundred"]
    if rest or not words:
        if rest < 20:
            words.append(_EN_ONES[rest])
        else:
            words.append(_EN_TENS[rest // 10] + (f"-{_EN_ONES[rest % 10]}" if rest % 10 else ""))
    return " ".join(words)


def spanish_number(n: int) -> str:
    """0-9999 in Spanish words, counting form ("mil doscientos treinta y cuatro").

    The grammar: 16-29 are one word (dieciséis, veintidós), 31-99 join with "y"
    (treinta y uno), exactly 100 is "cien" but 101-199 "ciento ...", 500 "quinientos",
    700 "setecientos", 900 "novecientos", 1000 is "mil" (never "uno mil").

    Example:
        >>> spanish_number(1234)
        'mil doscientos treinta y cuatro'
    """
    check_number(n, "n", low=0, high=9999, integer=True)
    thousands, hundreds, rest = n // 1000, n // 100 % 10, n % 100
    words = []
    if thousands:
        words += ["mil"] if thousands == 1 else [_ES_ONES[thousands], "mil"]
    if hundreds:
        words.append("cien" if hundreds == 1 and rest == 0 else _ES_HUNDREDS[hundreds])
    if rest or not words:
        if rest < 30:
            words.append(_ES_ONES[rest])
        else:
            words.append(_ES_TENS[rest // 10])
            if rest % 10:
                words += ["y", _ES_ONES[rest % 10]]
    return " ".join(words)


def number_pairs(limit: int = 10_000) -> list[tuple[str, str]]:
    """`(english_number(n), spanish_number(n))` for n in [0, limit), as sentences.

    Example:
        >>> number_pairs(22)[21]
        ('Twenty-one.', 'Veintiuno.')
    """
    check_number(limit, "limit", low=1, high=10_000, integer=True)
    return [(english_number(n).capitalize() + ".", spanish_number(n).capitalize() + ".")
            for n in range(limit)]
