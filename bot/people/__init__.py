"""What we know of how to reach people, and what they told us of our service."""
