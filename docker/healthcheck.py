"""Container health check: GET /health on this container's server; exit 0 when it answers 200.

Reads PORT (default 9621) and SSL (serve HTTPS) as the server does; /health is on the
default whitelist, so no API key is needed.
"""

import os
import ssl
import sys
import urllib.request

port = os.environ.get("PORT", "9621")
https = os.environ.get("SSL", "").lower() in {"1", "true", "yes"}
url = f"{'https' if https else 'http'}://127.0.0.1:{port}/health"
context = ssl._create_unverified_context() if https else None  # our own cert, on loopback
try:
    with urllib.request.urlopen(url, timeout=4, context=context) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception as exc:  # any failure means unhealthy; say why in `docker inspect`
    print(f"unhealthy: {url}: {exc}")
    sys.exit(1)
