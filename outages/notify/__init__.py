"""Notifications: who is told of each event (routing), the outbox, and delivery over SMTP."""
