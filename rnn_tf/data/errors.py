"""The two ways real data can fail: not available here, or not the file it should be."""


class DataUnavailableError(RuntimeError):
    """The real dataset is neither on disk nor downloadable (offline, no URL, HTTP error,
    a download that missed its deadline)."""


class CorruptDataError(ValueError):
    """A dataset file failed its sha256 check or is not in the expected format."""
