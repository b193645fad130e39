"""Residents' channels: subscriptions by house, the fan-out, the Telegram bot and channel posts."""
