"""gunicorn settings for the statuspage web role.

Used two ways:

    statuspage web --config /etc/statuspage/statuspage.yaml \
        --gunicorn-config /etc/statuspage/gunicorn.conf.py      # bind from --host/--port

    STATUSPAGE_CONFIG=/etc/statuspage/statuspage.yaml \
        gunicorn -c /etc/statuspage/gunicorn.conf.py            # plain gunicorn

`statuspage web` migrates the database and checks the config and the
secret key once before the workers start; plain gunicorn does not (run
`statuspage db upgrade` first). Each worker builds its own app and database
pool after the fork (no preload), and never runs a check.
"""

import os

# The app factory (plain gunicorn only; `statuspage web` loads it itself).
wsgi_app = "statuspage.wsgi:create_app()"
bind = os.environ.get("STATUSPAGE_BIND", "127.0.0.1:8080")

# Pages are served from the render cache; a worker spends most of a request
# waiting on the database, so a few threads each go a long way. Two workers
# per core is plenty; more only helps while renders are uncached.
workers = int(os.environ.get("STATUSPAGE_WEB_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("STATUSPAGE_WEB_THREADS", "4"))

# A request that takes 30 s is stuck: the worker is replaced. SIGTERM lets
# requests in flight finish for up to 20 s.
timeout = 30
graceful_timeout = 20
keepalive = 5
# Workers are replaced now and then, so that no slow leak can grow.
max_requests = 20000
max_requests_jitter = 2000

# Heartbeat files in memory, not on a container's overlay disk.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# One log stream, in the config's format (text or JSON), secrets redacted.
# No access log: nginx (or the load balancer) keeps one.
logger_class = "statuspage.webserver.GunicornLogger"
accesslog = None
proc_name = "statuspage-web"

# Which proxies may set X-Forwarded-Proto (https): nginx on this host, or
# the compose network. The visitor's address itself is taken from
# X-Forwarded-For by STATUSPAGE_PROXY_HOPS / --proxy-hops.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
