"""gunicorn's settings for the CRM: `make run` (deploy/serve), deploy/crm-web.service.

From the environment: CRM_BIND (where to listen, 127.0.0.1:5000) and CRM_WEB_WORKERS (3 worker
processes: enough for a small team; each answers one request at a time). Behind a reverse proxy
on the same machine (docs/deployment.md), keep the default address: only the proxy reaches it.
"""
import os

bind = os.environ.get("CRM_BIND", "127.0.0.1:5000")
workers = int(os.environ.get("CRM_WEB_WORKERS", "3"))
worker_class = "sync"
preload_app = True  # the app is built once, then the workers are forked from it
timeout = 120  # a 20 MB customer list uploaded over a slow line, a large export
graceful_timeout = 30  # SIGTERM lets the requests under way finish
accesslog = "-"
errorlog = "-"
# X-Forwarded-Proto from the local proxy tells gunicorn the request came over HTTPS
forwarded_allow_ips = "127.0.0.1,::1"
control_socket_disable = True  # gunicornc is not used: systemd reloads with SIGHUP
