"""The one error type the command line and the dashboard show as a single sentence."""


class HourbankError(Exception):
    """A problem the user can act on; its message is one clear sentence."""
