"""The one base class of errors a user can act on; the CLI and the add-on show their message as is."""


class LavimoError(Exception):
    """An error caused by input or setup (a file, a store, a model), with a message that says what to do."""
