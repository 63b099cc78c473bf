"""Errors raised while reading a file: one base class, a few named cases a user can act on."""


class IngestError(Exception):
    """A file could not be ingested; the message is a plain French sentence shown to the user."""


class UnsupportedFileError(IngestError):
    """The file type is not one we read (PDF, TXT, MD)."""


class EncryptedFileError(IngestError):
    """The PDF needs a password we do not have."""


class CorruptFileError(IngestError):
    """The file is damaged or not what its extension says."""


class FileTooLargeError(IngestError):
    """The file exceeds the documented size or page limits."""


class NoTextError(IngestError):
    """The file has no extractable text (e.g. a scanned PDF without a text layer)."""
