"""The record: sheet rows and submissions, the planner and the sync, stored records and how people read them."""
