"""Where a webhook may point: never at the CRM itself, loopback or a private network, unless allowed.

The address is checked when a hook is saved and again when it is delivered, after DNS resolution: a
name that resolved to a public address on saving may point at 127.0.0.1 today. The generic webhook then
connects to the very address checked (pinned, so a second lookup cannot differ) with redirects off.
"""
import ipaddress
import socket
from urllib.parse import urlsplit

import certifi
import urllib3
from flask_babel import lazy_gettext as _l

from ..errors import RuleViolation

TIMEOUT = urllib3.Timeout(connect=5.0, read=10.0)


class Refused(RuleViolation):
    """An address a hook may not reach: said to the admin on saving, kept in the log on delivering."""


def parse(url):
    """The parts of an http(s) URL with a host, or Refused."""
    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(_l("The address must begin with http:// or https:// and name a host."), field="url")
    try:
        parts.port  # noqa: B018 - a port out of range raises here
    except ValueError:
        raise Refused(_l("The address's port is not valid."), field="url") from None
    return parts


def _public(address):
    address = address.ipv4_mapped or address if address.version == 6 else address
    return address.is_global and not address.is_multicast


def check(url, allow_private=False, own_hosts=()):
    """The addresses `url`'s host resolves to, all of them allowed; Refused otherwise."""
    parts = parse(url)
    host = parts.hostname.rstrip(".").lower()
    if not allow_private and (host == "localhost" or host.endswith(".localhost") or host in own_hosts):
        raise Refused(_l("A webhook may not point at the CRM itself or at this computer."), field="url")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Refused(_l("The host %(host)s cannot be found.", host=host), field="url") from None
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in found))
    if not allow_private:
        private = [a for a in addresses if not _public(a)]
        if private:
            raise Refused(_l("%(host)s is a private or local address (%(address)s); webhooks may only reach "
                             "public addresses here.", host=host, address=str(private[0])), field="url")
    return addresses


def own_hosts(external_url):
    """The CRM's own host names, from CRM_EXTERNAL_URL."""
    host = urlsplit(external_url or "").hostname
    return (host.lower(),) if host else ()


def post(url, address, body, headers):
    """POST `body` to `url` at the checked `address` (no second lookup), redirects off: (status, text)."""
    parts = parse(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    options = {"timeout": TIMEOUT, "retries": False}
    if https:  # the certificate is checked against the name, while the connection goes to the address
        pool = urllib3.HTTPSConnectionPool(str(address), port, server_hostname=parts.hostname,
                                           assert_hostname=parts.hostname, cert_reqs="CERT_REQUIRED",
                                           ca_certs=certifi.where(), **options)
    else:
        pool = urllib3.HTTPConnectionPool(str(address), port, **options)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    with pool:
        response = pool.urlopen("POST", target, body=body, headers={**headers, "Host": parts.netloc.rpartition("@")[2]},
                                redirect=False, retries=False, preload_content=True)
    return response.status, response.data[:300].decode("utf-8", "replace")
