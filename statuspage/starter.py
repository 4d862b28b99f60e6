"""The commented config that `statuspage init` writes."""

STARTER_CONFIG = """\
# statuspage configuration. Every key has a default; this file shows the
# common ones. Secrets can come from the environment: ${MY_SECRET}
# (and $$ for a literal dollar sign). Durations: 500ms, 30s, 5m, 1h.

site:
  title: Acme Status
  # The public address of this page: links in emails and feeds use it.
  url: http://127.0.0.1:8080
  # Days of the uptime bars and times on the page are in this zone.
  timezone: UTC

# Where Prometheus answers, for checks of `type: prometheus`.
# prometheus:
#   url: http://127.0.0.1:9090

# storage:
#   path: statuspage.db          # SQLite file, relative to this file
#   url: postgresql://user@host/statuspage   # or set DATABASE_URL

defaults:
  interval: 30s      # how often each check runs
  timeout: 10s       # a check that takes longer fails (at most 60s)
  confirm_down: 2    # consecutive bad results before a worse status
  confirm_up: 2      # consecutive good results before recovery
  stale_after: 3     # intervals without a result before "No data"

server:
  host: 127.0.0.1
  port: 8080

components:
  - id: website
    name: Website
    description: The public website.
    checks:
      - name: home page
        type: http
        url: https://example.com/
        expect:
          status: 200                 # also a list [200, 204] or a class 2xx
          body_contains: Example Domain
        latency: {degraded: 2s, outage: 8s}

  # - id: api
  #   name: API
  #   checks:
  #     - name: health
  #       type: http
  #       url: http://api.internal/healthz
  #       expect:
  #         status: 200
  #         json: {$.status: ok}       # JSON path assertions; also {lt: 5}, {matches: re}
  #     - name: p95 latency
  #       type: prometheus
  #       query: histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{service="api"}[5m])))
  #       degraded_above: 1
  #       outage_above: 30
"""
