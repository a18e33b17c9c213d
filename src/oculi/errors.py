"""One exception hierarchy, with messages a wearer or developer can act on."""

from __future__ import annotations


class OculiError(Exception):
    """Base of every error Oculi raises on purpose."""


class ConfigError(OculiError):
    """A configuration value is missing, malformed or not one of the allowed values."""


class ScenarioError(OculiError):
    """A scenario file cannot be replayed; the message names the file, step and field."""


class EventError(OculiError):
    """An event could not be decoded from its JSON form."""


class PerceptionError(OculiError):
    """A sensor input (image, audio) could not be read."""


class AudioInputError(PerceptionError):
    """An audio file or stream is not audio, is truncated, or does not fit the device profile."""


class CatalogError(OculiError):
    """The product catalog is missing, unreadable or asked for something it cannot hold."""


class SpeechError(OculiError):
    """The speech engine could not turn text into audio."""


class PaymentError(OculiError):
    """A payment code, payment or wallet operation was refused; the message says what failed."""


class MapError(OculiError):
    """A map cannot be read, or a place or walking route cannot be found on it."""
