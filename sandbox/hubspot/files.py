"""Files v3 (hubspot-api.md §6, Files API): multipart upload with `file`, `options` (JSON,
`access` required), `folderPath` or `folderId`, `fileName`; read, archive, and signed URLs for
private files. `GET /files/v3/files/{id}/signed-url` gives a URL on this sandbox
(`/hubfs-signed/{token}/{name}`) that serves the bytes until it expires (sandbox clock)."""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import secrets
from typing import Any

from werkzeug.wrappers import Response

from sandbox.hubspot.http import ApiError, error_body, not_found, validation_error
from sandbox.hubspot.routing import Ctx, Route
from sandbox.hubspot.store import Portal, iso

ACCESS = {
    "PUBLIC_INDEXABLE",
    "PUBLIC_NOT_INDEXABLE",
    "HIDDEN_INDEXABLE",
    "HIDDEN_NOT_INDEXABLE",
    "HIDDEN_PRIVATE",
    "PRIVATE",
    "HIDDEN_SENSITIVE",
    "SENSITIVE",
}
SIGNED_URL_DEFAULT_S = 3600
KIND = {
    "pdf": "DOCUMENT",
    "doc": "DOCUMENT",
    "docx": "DOCUMENT",
    "xls": "DOCUMENT",
    "xlsx": "DOCUMENT",
    "csv": "DOCUMENT",
    "txt": "DOCUMENT",
    "png": "IMG",
    "jpg": "IMG",
    "jpeg": "IMG",
    "gif": "IMG",
    "svg": "IMG",
    "mp3": "AUDIO",
    "mp4": "MOVIE",
}


def _private(meta: dict[str, Any]) -> bool:
    return meta["access"] in ("PRIVATE", "HIDDEN_PRIVATE", "SENSITIVE", "HIDDEN_SENSITIVE")


def file_view(ctx: Ctx, portal: Portal, meta: dict[str, Any]) -> dict[str, Any]:
    base = ctx.base_url
    full_name = meta["name"] + (f".{meta['extension']}" if meta["extension"] else "")
    if _private(meta):
        url = (
            f"{base}/filemanager/api/v3/files/{meta['id']}/signed-url-redirect"
            f"?portalId={portal.hub_id}"
        )
    else:
        url = f"{base}/hubfs/{portal.hub_id}{meta['path']}"
    view = {
        k: meta[k]
        for k in (
            "id",
            "createdAt",
            "updatedAt",
            "archived",
            "parentFolderId",
            "name",
            "path",
            "size",
            "type",
            "extension",
            "access",
            "fileMd5",
            "isUsableInContent",
        )
    }
    view["url"] = url
    view["defaultHostingUrl"] = url
    view["fullName"] = full_name
    return view


def _folder(portal: Portal, path: str) -> str:
    path = "/" + path.strip("/") if path.strip("/") else "/"
    if path not in portal.folders:
        portal.folders[path] = portal.new_id()
    return portal.folders[path]


def _folder_path(portal: Portal, folder_id: str) -> str | None:
    return next((p for p, fid in portal.folders.items() if fid == folder_id), None)


def upload(ctx: Ctx):
    ctx.require_scopes("files")
    request = ctx.request
    upload_ = request.files.get("file")
    if upload_ is None:
        raise validation_error(
            "file is required", errors=[{"message": "file is required", "in": "file"}]
        )
    try:
        options = json.loads(request.form.get("options") or "null")
    except ValueError:
        raise validation_error("options must be JSON") from None
    if not isinstance(options, dict) or options.get("access") not in ACCESS:
        raise validation_error(
            f"options.access is required and must be one of {sorted(ACCESS)}",
            errors=[{"message": "access is required", "in": "options.access"}],
        )
    folder_id, folder_path = request.form.get("folderId"), request.form.get("folderPath")
    if folder_id and folder_path:
        raise validation_error("Give folderId or folderPath, not both")
    if not folder_id and folder_path is None:
        raise validation_error("folderId or folderPath is required")
    content = upload_.read()
    original = upload_.filename or "file"
    wanted = request.form.get("fileName") or original
    stem, ext = os.path.splitext(wanted)
    if not ext:
        ext = os.path.splitext(original)[1]
    extension = ext.lstrip(".").lower()
    with ctx.sb.store.lock:
        portal = ctx.portal
        if folder_id:
            path = _folder_path(portal, folder_id)
            if path is None:
                raise not_found(f"Folder {folder_id} does not exist")
        else:
            path = "/" + folder_path.strip("/") if folder_path.strip("/") else "/"
        parent = _folder(portal, path)
        full_path = path.rstrip("/") + "/" + stem + (f".{extension}" if extension else "")
        strategy = options.get("duplicateValidationStrategy", "NONE")
        scope = options.get("duplicateValidationScope", "ENTIRE_PORTAL")
        same = [
            f
            for f in portal.files.values()
            if not f["archived"]
            and f["name"] == stem
            and f["extension"] == extension
            and (scope != "EXACT_FOLDER" or f["parentFolderId"] == parent)
        ]
        if same and strategy == "REJECT":
            raise ApiError(
                409,
                error_body(
                    f"A file named {stem}.{extension} already exists", "OBJECT_ALREADY_EXISTS"
                ),
            )
        if same and strategy == "RETURN_EXISTING":
            return file_view(ctx, portal, same[0]), 201
        existing = next(
            (f for f in portal.files.values() if f["path"] == full_path and not f["archived"]), None
        )
        now = iso(ctx.sb.clock.now())
        if existing is not None and not options.get("overwrite"):
            # HubSpot keeps both, renaming the new one (name-1.ext).
            n = 1
            while any(f["path"] == full_path for f in portal.files.values()):
                candidate = f"{stem}-{n}"
                full_path = (
                    path.rstrip("/") + "/" + candidate + (f".{extension}" if extension else "")
                )
                n += 1
            stem = os.path.splitext(full_path.rsplit("/", 1)[1])[0]
            existing = None
        file_id = existing["id"] if existing else portal.new_id()
        meta = {
            "id": file_id,
            "createdAt": existing["createdAt"] if existing else now,
            "updatedAt": now,
            "archived": False,
            "parentFolderId": parent,
            "name": stem,
            "path": full_path,
            "size": len(content),
            "type": KIND.get(extension, "OTHER"),
            "extension": extension,
            "access": options["access"],
            "fileMd5": hashlib.md5(content).hexdigest(),  # noqa: S324 (a checksum, as HubSpot's)
            "isUsableInContent": not _private({"access": options["access"]}),
            "content_type": upload_.mimetype
            or mimetypes.guess_type(f"x.{extension}")[0]
            or "application/octet-stream",
            "content": content,
        }
        portal.files[file_id] = meta
        ctx.sb.emit([])
        return file_view(ctx, portal, meta), 201


def _meta(ctx: Ctx, file_id: str) -> dict[str, Any]:
    meta = ctx.portal.files.get(file_id)
    if meta is None or meta["archived"]:
        raise not_found(f"File {file_id} not found")
    return meta


def get_by_id(ctx: Ctx, file_id: str):
    ctx.require_scopes("files", "files.ui_hidden.read")
    with ctx.sb.store.lock:
        return file_view(ctx, ctx.portal, _meta(ctx, file_id))


def archive(ctx: Ctx, file_id: str):
    ctx.require_scopes("files")
    with ctx.sb.store.lock:
        _meta(ctx, file_id)["archived"] = True
    return Response(status=204)


def signed_url(ctx: Ctx, file_id: str):
    ctx.require_scopes("files", "files.ui_hidden.read")
    try:
        seconds = int(ctx.request.args.get("expirationSeconds") or SIGNED_URL_DEFAULT_S)
    except ValueError:
        raise validation_error("expirationSeconds must be a number") from None
    with ctx.sb.store.lock:
        meta = _meta(ctx, file_id)
        token = secrets.token_urlsafe(24)
        expires_at = ctx.sb.clock.now() + seconds
        ctx.sb.store.signed_urls[token] = {
            "hub_id": ctx.portal.hub_id,
            "file_id": file_id,
            "expires_at": expires_at,
        }
        full_name = meta["name"] + (f".{meta['extension']}" if meta["extension"] else "")
        return {
            "url": f"{ctx.base_url}/hubfs-signed/{token}/{full_name}",
            "expiresAt": iso(expires_at),
            "name": meta["name"],
            "extension": meta["extension"],
            "type": meta["type"],
            "size": meta["size"],
        }


def _denied() -> Response:
    return Response(
        "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
        status=403,
        mimetype="application/xml",
    )


def signed_download(ctx: Ctx, token: str, name: str):
    with ctx.sb.store.lock:
        grant = ctx.sb.store.signed_urls.get(token)
        if grant is None or grant["expires_at"] < ctx.sb.clock.now():
            return _denied()
        portal = ctx.sb.store.portal(grant["hub_id"])
        meta = portal.files.get(grant["file_id"]) if portal else None
        if meta is None or meta["archived"]:
            return _denied()
        return Response(meta["content"], mimetype=meta["content_type"])


def public_download(ctx: Ctx, hub: int, path: str):
    with ctx.sb.store.lock:
        portal = ctx.sb.store.portal(hub)
        meta = next(
            (
                f
                for f in (portal.files.values() if portal else [])
                if f["path"] == "/" + path and not f["archived"]
            ),
            None,
        )
        if meta is None or _private(meta):
            return Response("Not found", status=404)
        return Response(meta["content"], mimetype=meta["content_type"])


def routes() -> list[Route]:
    return [
        Route("/files/v3/files", ["POST"], upload),
        Route("/files/v3/files/<file_id>", ["GET"], get_by_id),
        Route("/files/v3/files/<file_id>", ["DELETE"], archive),
        Route("/files/v3/files/<file_id>/signed-url", ["GET"], signed_url),
        Route("/hubfs-signed/<token>/<path:name>", ["GET"], signed_download, "public"),
        Route("/hubfs/<int:hub>/<path:path>", ["GET"], public_download, "public"),
    ]
