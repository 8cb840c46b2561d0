"""Replay: a link in a failure note. GET shows what will happen; POST runs it again."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from notes.replay import ReplayLinkInvalid, replay_token_read
from sync.models import Run
from sync.services import run_replay


@require_http_methods(["GET", "POST"])
def replay(request: HttpRequest, token: str) -> HttpResponse:
    try:
        hub_id, run_id = replay_token_read(token)
    except ReplayLinkInvalid as exc:
        return render(request, "notes/replay.html", {"refused": str(exc)}, status=403)
    run = (
        Run.objects.select_related("installation")
        .filter(pk=run_id, installation__hub_id=hub_id)
        .first()
    )
    if run is None:
        return render(
            request,
            "notes/replay.html",
            {"refused": "This Replay link names a run that does not exist."},
            status=404,
        )
    context = {"run": run, "document_label": run.get_document_type_display().lower()}
    if request.method == "POST":
        new_run, message = run_replay(run)
        context.update({"message": message, "new_run": new_run})
    return render(request, "notes/replay.html", context)
