"""Share links in a browser: GET /_/s/{token} (an index page, or the object of an object link)
and GET /_/s/{token}/{key} (a download of prefix + key, Range supported).

The token in the path is the only credential. Every request is recorded as a use of the link;
downloads count against its use count and byte cap, refusals say why with a page and status
(404 unknown link or key, 410 revoked, expired, used up or over its byte cap).
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

from lading import errors
from lading.http.api.errors import status_of
from lading.http.s3.common import SMALL_OBJECT, parse_range
from lading.metadata.models import ShareLink
from lading.services.container import Services

log = logging.getLogger(__name__)
PAGE_SIZE = 200
MAX_PATH = 1024
# pages and downloads of a link never run scripts, never leak the token in a Referer
SAFE_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse}td,th{padding:.2em 1em;text-align:left}"
    "td.size{text-align:right}.note{color:#555}"
)


def _remote(request: Request) -> str:
    return request.client.host if request.client is not None else ""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    document = (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )
    return HTMLResponse(document, status_code=status, headers=SAFE_HEADERS)


def _refusal(exc: errors.LadingError) -> HTMLResponse:
    if isinstance(exc, errors.InvalidRange):
        title = "Range not satisfiable"
        response = _page(title, f"<h1>{title}</h1><p>{html.escape(exc.message)}</p>", 416)
        response.headers["content-range"] = f"bytes */{exc.size}"
        return response
    status = 410 if isinstance(exc, errors.LinkUnavailable) else status_of(exc)
    if status >= 500:
        log.error("share link request failed", exc_info=exc)
        message = "The server failed to answer."
    elif isinstance(exc, errors.NoSuchLink):
        message = "This share link does not exist."
    else:
        message = exc.message
    title = "Share link unavailable" if status in (404, 410) else "Share link error"
    return _page(title, f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>", status)


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def _when(micros: int) -> str:
    return dt.datetime.fromtimestamp(micros / 1e6, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _disposition(key: str) -> str:
    name = key.rsplit("/", 1)[-1] or "download"
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


async def link_root(request: Request) -> Response:
    """The index of a prefix link, or the object of an object link."""
    services: Services = request.state.services
    token = request.path_params["token"]
    try:
        link = await services.shares.open_link(token, remote=_remote(request))
        if link.is_object:
            return await _download(request, services, link, link.prefix)
        return await _index(request, services, link, token)
    except errors.LadingError as exc:
        return _refusal(exc)


async def link_key(request: Request) -> Response:
    """One object under a prefix link; its key is the link's prefix + the path."""
    services: Services = request.state.services
    token, rel = request.path_params["token"], request.path_params["key"]
    try:
        link = await services.shares.open_link(token, remote=_remote(request), key=rel)
        if link.is_object or not rel or "\x00" in rel or len(rel) > MAX_PATH:
            raise errors.NoSuchKey(link.bucket_name, rel)
        return await _download(request, services, link, link.prefix + rel)
    except errors.LadingError as exc:
        return _refusal(exc)


async def _download(request: Request, services: Services, link: ShareLink, key: str) -> Response:
    bucket = await services.buckets.get_bucket(link.bucket_name)
    await services.shares.refuse_if_denied(link, bucket, key, remote=_remote(request))
    inline = None if request.method == "HEAD" else SMALL_OBJECT
    obj, stored = await services.objects.open_object(bucket, key, None, inline_limit=inline)
    services.objects.check_readable(obj, None)
    span = parse_range(request.headers.get("range"), obj.size)
    start, end = span if span is not None else (0, obj.size - 1)
    length = end - start + 1 if obj.size else 0
    headers = {
        **SAFE_HEADERS,
        "content-type": obj.content_type or "application/octet-stream",
        "content-length": str(length),
        "content-disposition": _disposition(key),
        "etag": obj.etag,
        "last-modified": dt.datetime.fromtimestamp(obj.last_modified / 1e6, dt.UTC).strftime(
            "%a, %d %b %Y %H:%M:%S GMT"
        ),
        "accept-ranges": "bytes",
    }
    if "content-encoding" in obj.headers:
        headers["content-encoding"] = obj.headers["content-encoding"]
    status = 200
    if span is not None:
        status = 206
        headers["content-range"] = f"bytes {start}-{end}/{obj.size}"
    remote = _remote(request)
    if request.method == "HEAD":
        await services.shares.record(link, remote=remote, key=key, nbytes=0, outcome="head")
        return Response(status_code=status, headers=headers)
    await services.shares.consume(link, remote=remote, key=key, nbytes=length)
    if length == 0:
        return Response(status_code=status, headers=headers)
    return StreamingResponse(services.objects.read(obj, start, end, stored=stored), status, headers)


async def _index(request: Request, services: Services, link: ShareLink, token: str) -> Response:
    path = request.query_params.get("path", "")
    after = request.query_params.get("after", "")
    if "\x00" in path + after:
        raise errors.InvalidArgument("A path has no NUL characters.")
    if len(path) > MAX_PATH or len(after) > MAX_PATH or (path and not path.endswith("/")):
        raise errors.InvalidArgument("The path of a folder ends with '/'.")
    bucket = await services.buckets.get_bucket(link.bucket_name)
    base = link.prefix + path
    await services.shares.refuse_if_denied(
        link, bucket, base, remote=_remote(request), listing=True
    )
    listing = await services.buckets.list_objects(
        bucket,
        prefix=base,
        delimiter="/",
        after=base + after if after else "",
        max_keys=PAGE_SIZE,
    )
    await services.shares.record(link, remote=_remote(request), key=base, nbytes=0, outcome="index")
    root = f"/_/s/{quote(token, safe='')}"
    rows: list[str] = []
    if path:
        parent = path[:-1].rpartition("/")[0]
        up = f"{root}?{urlencode({'path': parent + '/'})}" if parent else root
        rows.append(f'<tr><td><a href="{html.escape(up)}">../</a></td><td></td><td></td></tr>')
    for folder in listing.prefixes:
        rel = folder[len(link.prefix) :]
        href = f"{root}?{urlencode({'path': rel})}"
        name = folder[len(base) :]
        rows.append(
            f'<tr><td><a href="{html.escape(href)}">{html.escape(name)}</a></td>'
            "<td></td><td></td></tr>"
        )
    for obj in listing.objects:
        rel = obj.key[len(link.prefix) :]
        href = f"{root}/{quote(rel, safe='/')}"
        name = obj.key[len(base) :]
        rows.append(
            f'<tr><td><a href="{html.escape(href)}">{html.escape(name)}</a></td>'
            f'<td class="size">{_size(obj.size)}</td><td>{_when(obj.last_modified)}</td></tr>'
        )
    title = f"{link.bucket_name}/{base}"
    parts = [f"<h1>{html.escape(title)}</h1>"]
    if link.note:
        parts.append(f'<p class="note">{html.escape(link.note)}</p>')
    if link.expires_at is not None:
        parts.append(f'<p class="note">This link expires {_when(link.expires_at)}.</p>')
    parts.append(
        "<table><thead><tr><th>Name</th><th>Size</th><th>Modified</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    if not rows:
        parts.append("<p>This folder is empty.</p>")
    if listing.truncated:
        marker = listing.next_marker[len(base) :]
        href = f"{root}?{urlencode({'path': path, 'after': marker})}"
        parts.append(f'<p><a rel="next" href="{html.escape(href)}">Next page</a></p>')
    return _page(title, "".join(parts))


ROUTES = [
    Route("/_/s/{token}", link_root, methods=["GET", "HEAD"]),
    Route("/_/s/{token}/{key:path}", link_key, methods=["GET", "HEAD"]),
]
