"""Subcommands of the ``omnikit`` command line, one module each (see ``omnikit.cli``)."""
