"""The exceptions rnnexp raises on purpose, each with a message that can be
printed as is: ConfigError for bad input (before any heavy work), CheckFailed
for a run whose numbers do not hold up (after they are recorded)."""


class ConfigError(ValueError):
    """A config value is wrong. The message names the key, the value and what
    was expected, so the CLI can print it as is, without a traceback."""

    def __init__(self, key: str, value, expected: str, detail: str = ""):
        self.key, self.value, self.expected = key, value, expected
        message = f"{key}={value!r}: expected {expected}"
        if detail:
            message += f" ({detail})"
        super().__init__(message)


class CheckFailed(RuntimeError):
    """A check of a forward pass exceeded its tolerance. Raised by the job after
    the check metrics are logged, so that the run ends FAILED with the metric
    recorded and this message (naming the tensor that diverged) as its error."""
