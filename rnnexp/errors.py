"""The one exception type for bad input, raised before any heavy work."""


class ConfigError(ValueError):
    """A config value is wrong. The message names the key, the value and what
    was expected, so the CLI can print it as is, without a traceback."""

    def __init__(self, key: str, value, expected: str, detail: str = ""):
        self.key, self.value, self.expected = key, value, expected
        message = f"{key}={value!r}: expected {expected}"
        if detail:
            message += f" ({detail})"
        super().__init__(message)
