"""The app image's HEALTHCHECK: GET /healthz of the `serve` in this container.
Exit 0 on 200; 1 on anything else (503 "degraded", refused, timed out)."""

import os
import sys
import urllib.request

url = f"http://127.0.0.1:{os.environ.get('PORT', '8080')}/healthz"
try:
    with urllib.request.urlopen(url, timeout=4) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception as exc:  # HTTPError (503), URLError, timeout
    print(f"{url}: {exc}", file=sys.stderr)
    sys.exit(1)
