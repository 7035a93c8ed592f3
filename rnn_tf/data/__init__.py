"""Dataset loaders: one module per dataset, cached, sha256-checked, with offline fallbacks.

Every loader takes `source="auto" | "real" | "offline"` and returns a dataclass with ready
`tf.data.Dataset`s for train / validation / test, NumPy arrays, the vocabulary or scaler,
and `source` ("real", or "offline" for the clearly labelled fallback). See
datasets/README.md for sources and licenses. The loaders need TensorFlow (for tf.data).
"""

from rnn_tf._tensorflow import require_tensorflow

require_tensorflow("rnn_tf.data (the dataset loaders)")

from rnn_tf.data.digit_strips import DigitStripsData, load_digit_strips  # noqa: E402
from rnn_tf.data.errors import CorruptDataError, DataUnavailableError  # noqa: E402
from rnn_tf.data.imdb import SentimentData, load_imdb  # noqa: E402
from rnn_tf.data.imdb_npz import load_imdb_npz  # noqa: E402
from rnn_tf.data.offline_reviews import synthetic_reviews  # noqa: E402
from rnn_tf.data.registry import Download, download, list_datasets, verify  # noqa: E402
from rnn_tf.data.stocks import (  # noqa: E402
    PriceSeries,
    load_price_series,
    load_stocks,
    price_series_from_csv,
    read_price_csv,
    synthetic_prices,
)
from rnn_tf.data.text import CharTextData, load_shakespeare, synthetic_play  # noqa: E402
from rnn_tf.data.translation import TranslationData, load_translation, number_pairs  # noqa: E402
from rnn_tf.data.windows import StockData, window_series  # noqa: E402

__all__ = [
    "CharTextData",
    "CorruptDataError",
    "DataUnavailableError",
    "DigitStripsData",
    "Download",
    "PriceSeries",
    "SentimentData",
    "StockData",
    "TranslationData",
    "download",
    "list_datasets",
    "load_digit_strips",
    "load_imdb",
    "load_imdb_npz",
    "load_price_series",
    "load_shakespeare",
    "load_stocks",
    "load_translation",
    "number_pairs",
    "price_series_from_csv",
    "read_price_csv",
    "synthetic_play",
    "synthetic_prices",
    "synthetic_reviews",
    "verify",
    "window_series",
]
