"""aiohttp routes. Each module knows one wire format; none knows the dialogue."""
