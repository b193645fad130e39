"""Places: the «Адреси» cell as data, the street catalogue, and searching records by house."""
