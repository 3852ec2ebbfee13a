"""Notices pushed to people outside the conversation: through the best channel
that reaches them, falling back along the way, each channel at most once."""
