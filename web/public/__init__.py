"""The public site and its formats: pages, feeds, calendar, CAP alerts and the JSON API."""
