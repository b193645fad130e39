"""Officials' mail: who is told (routing, directory, cadence), event mail, digests, relay, reminders."""
