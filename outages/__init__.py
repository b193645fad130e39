"""The outage hub's core: the record, the deadline rules, the store, notifications and the CLI.

It knows nothing of Flask or gspread: sheets/ hands it plain rows, web/ reads through it.
"""

__version__ = "0.1.0"
