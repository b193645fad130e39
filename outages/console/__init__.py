"""The contact centre's console, its core (issue 19): the people who sign in (people.py), sign-in and sessions
(signin.py), the audit trail of every action (audit.py) and the day's work read from the store (worklist.py).

Imports no Flask: web/ops/ shows these on /ops, and outages/cli/console.py gives the CLI its `users` and `audit`.
"""
