"""A fake Google Sheets API v4 (and OAuth token endpoint) on 127.0.0.1, which the real gspread client talks to.

Every request is matched against Google's own discovery document for Sheets v4 (shipped in the
google-api-python-client package): its path and HTTP method must be a method there, each query parameter one the
method declares (enum values included), and request and response bodies must fit the declared schemas. Anything
else is recorded in `violations` — the fixture fails a test that leaves any — so the fake cannot drift from the
real API. It counts requests per caller (a service account's e-mail, or a static token's name), injects faults
(429 bursts, 500s, slow responses, token refusals) and runs hooks between requests (a sort between read and write).
"""


from .discovery import DISCOVERY_PATH, Discovery
from .hub import DEMO, KEY, NOW, WALL, Live, fake_server, grid_from_csv, live_env, live_hub, proxy_env
from .model import DateCell, FakeSheet, FakeSpreadsheet, parse_range
from .server import SERVED, FakeSheets

__all__ = ["DISCOVERY_PATH", "Discovery", "DEMO", "KEY", "NOW", "WALL", "Live", "fake_server", "grid_from_csv",
           "live_env", "live_hub", "proxy_env", "DateCell", "FakeSheet", "FakeSpreadsheet", "parse_range", "SERVED",
           "FakeSheets"]
