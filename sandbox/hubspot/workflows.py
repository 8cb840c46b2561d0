"""Custom workflow action executions (hubspot-api.md §4, §5): HubSpot POSTs the execution to the
definition's actionUrl, signed v2 + v3, and acts on the answer:

- 2xx with outputFields.hs_execution_state SUCCESS / FAIL_CONTINUE: done; without a state:
  SUCCESS. BLOCK (and ASYNC, treated the same): wait for
  POST /automation/v4/actions/callbacks/{callbackId}/complete, until hs_expiration_duration
  (ISO-8601, default P1W) divided by `speed` has passed (then EXPIRED: the workflow continues).
- 429: retried, honouring Retry-After (divided by `speed`). Other 4xx: FAILED, no retry.
- 5xx, timeout (`workflow_timeout_ms`, UNCONFIRMED: 20 s) or no connection: retried with
  exponential backoff (1 min doubling, at most 8 h apart) for up to 3 days, divided by `speed`.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from typing import TYPE_CHECKING, Any

from sandbox.hubspot import schema
from sandbox.hubspot.http import not_found, validation_error

if TYPE_CHECKING:
    from sandbox.hubspot.delivery import Delivery

RETRY_WINDOW_S = 3 * 24 * 3600
FINAL = {"SUCCESS", "FAIL_CONTINUE", "FAILED", "EXPIRED"}
DEFAULT_EXPIRATION = "P1W"


def retry_delays() -> list[float]:
    delays, total, delay = [], 0.0, 60.0
    while total + delay <= RETRY_WINDOW_S:
        delays.append(delay)
        total += delay
        delay = min(delay * 2, 8 * 3600)
    return delays


RETRY_DELAYS_S = retry_delays()
_DURATION = re.compile(
    r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)


def iso_duration_seconds(text: str) -> float:
    match = _DURATION.match((text or "").strip().upper())
    if not match or not any(match.groups()):
        raise ValueError(text)
    y, mo, w, d, h, mi, s = (float(g) if g else 0.0 for g in match.groups())
    return (((y * 365 + mo * 30 + w * 7 + d) * 24 + h) * 60 + mi) * 60 + s


class Workflows:
    def __init__(self, delivery: Delivery) -> None:
        self.delivery = delivery
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.executions: dict[str, dict[str, Any]] = {}
        self.generation = 0

    def reset(self) -> None:
        with self.lock:
            self.generation += 1
            self.executions.clear()
            self.changed.notify_all()

    # -- starting -----------------------------------------------------------------------------
    def execute(
        self,
        hub_id: int,
        definition: dict[str, Any],
        object_type: str,
        object_id: str,
        input_fields: dict[str, Any],
        object_properties: dict[str, Any] | None,
        action_url: str,
        wait_s: float,
    ) -> dict[str, Any]:
        declared = [str(t).upper() for t in definition.get("objectTypes") or []]
        if declared and object_type not in declared:
            # HubSpot offers an action only in workflows of the object types it declares
            # ("objectTypes: which CRM objects this action can be used with", custom workflow
            # actions guide), so no workflow of another type can reach it.
            raise validation_error(
                f"action {definition.get('uid') or definition['id']} is declared for "
                f"{', '.join(declared)}, not for {object_type} workflows"
            )
        enrollment = secrets.randbelow(9 * 10**10) + 10**10
        callback_id = f"ap-{hub_id}-{enrollment}-1-0"
        revision = int(definition.get("revisionId") or 1)
        obj: dict[str, Any] = {"objectId": _num(object_id), "objectType": object_type}
        if object_properties is not None:
            obj["properties"] = object_properties
        payload = {
            "callbackId": callback_id,
            "origin": {
                "portalId": hub_id,
                "actionDefinitionId": _num(definition["id"]),
                "actionDefinitionVersion": revision,
                "extensionDefinitionId": _num(definition["id"]),
                "extensionDefinitionVersionId": revision,
                "actionExecutionIndexIdentifier": {
                    "enrollmentId": enrollment,
                    "actionExecutionIndex": 0,
                },
            },
            "context": {"source": "WORKFLOWS", "workflowId": 192814114, "actionId": 1},
            "object": obj,
            "inputFields": input_fields,
        }
        execution = {
            "callbackId": callback_id,
            "portal": hub_id,
            "definition_id": definition["id"],
            "action_url": action_url,
            "state": "PENDING",
            "output_fields": {},
            "attempts": 0,
            "history": [],
            "started_at": time.time(),
            "completed_at": None,
            "expires_at": None,
            "request": payload,
            "late_completions": 0,
            "_early": None,
            "_generation": self.generation,
        }
        with self.lock:
            self.executions[callback_id] = execution
        thread = threading.Thread(
            target=self._run, args=(execution,), name=f"workflow-{callback_id}", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + wait_s
        with self.lock:
            while execution["attempts"] == 0 and time.monotonic() < deadline:
                self.changed.wait(deadline - time.monotonic())
        return self.snapshot(callback_id)

    def _run(self, execution: dict[str, Any]) -> None:
        body = json.dumps(execution["request"], separators=(",", ":"))
        retry = 0
        while True:
            config = self.delivery.config
            result = self.delivery.post_signed(
                "workflow",
                execution["portal"],
                "POST",
                execution["action_url"],
                body,
                float(config["workflow_timeout_ms"]) / 1000,
                {"attempt": retry, "callbackId": execution["callbackId"]},
            )
            with self.lock:
                if execution["_generation"] != self.generation:
                    return
                execution["attempts"] += 1
                execution["history"].append(
                    {k: result.get(k) for k in ("status", "error", "elapsed_ms", "body")}
                )
                wait = self._decide(execution, result, retry)
                self.changed.notify_all()
            if wait is None:
                return
            time.sleep(wait)
            retry += 1

    def _decide(
        self, execution: dict[str, Any], result: dict[str, Any], retry: int
    ) -> float | None:
        """Update the execution from one answer; seconds to wait before retrying, or None."""
        status = result.get("status")
        speed = max(float(self.delivery.config["speed"]), 1e-9)
        if status is not None and 200 <= status < 300:
            output = {}
            if isinstance(result.get("json"), dict):
                output = result["json"].get("outputFields") or {}
            state = str(output.get("hs_execution_state") or "SUCCESS").upper()
            execution["output_fields"] = output
            if state in ("BLOCK", "ASYNC"):
                try:
                    seconds = iso_duration_seconds(
                        output.get("hs_expiration_duration") or DEFAULT_EXPIRATION
                    )
                except ValueError:
                    seconds = iso_duration_seconds(DEFAULT_EXPIRATION)
                execution["state"] = "BLOCK"
                execution["expires_at"] = time.time() + seconds / speed
                if execution["_early"] is not None:
                    self._complete(execution, execution["_early"])
                return None
            execution["state"] = state if state in ("SUCCESS", "FAIL_CONTINUE") else "SUCCESS"
            execution["completed_at"] = time.time()
            return None
        retryable = status is None or status >= 500 or status == 429
        if not retryable or retry >= len(RETRY_DELAYS_S):
            execution["state"] = "FAILED"
            execution["error"] = result.get("error") or f"HTTP {status}"
            execution["completed_at"] = time.time()
            return None
        execution["state"] = "RETRYING"
        delay = RETRY_DELAYS_S[retry]
        if status == 429 and result.get("retry_after") is not None:
            delay = float(result["retry_after"])
        return delay / speed

    # -- completing ---------------------------------------------------------------------------
    def complete(self, hub_id: int, callback_id: str, output_fields: dict[str, Any]) -> None:
        with self.lock:
            execution = self.executions.get(callback_id)
            if execution is None or execution["portal"] != hub_id:
                raise not_found(f"Callback {callback_id} not found")
            self._expire(execution)
            if execution["state"] == "BLOCK":
                self._complete(execution, output_fields)
            elif execution["state"] in ("PENDING", "RETRYING"):
                execution["_early"] = dict(output_fields)  # applied when BLOCK comes back
            else:
                execution["late_completions"] += 1  # UNCONFIRMED: accepted, no effect
            self.changed.notify_all()

    def _complete(self, execution: dict[str, Any], output_fields: dict[str, Any]) -> None:
        state = str(output_fields.get("hs_execution_state") or "SUCCESS").upper()
        execution["state"] = state if state in ("SUCCESS", "FAIL_CONTINUE") else "SUCCESS"
        execution["output_fields"] = dict(output_fields)
        execution["completed_at"] = time.time()

    def _expire(self, execution: dict[str, Any]) -> None:
        if execution["state"] == "BLOCK" and execution["expires_at"] <= time.time():
            execution["state"] = "EXPIRED"
            execution["completed_at"] = execution["expires_at"]

    def snapshot(self, callback_id: str) -> dict[str, Any]:
        with self.lock:
            execution = self.executions.get(callback_id)
            if execution is None:
                raise not_found(f"There is no workflow execution {callback_id}")
            self._expire(execution)
            return {
                "callbackId": execution["callbackId"],
                "state": execution["state"],
                "output_fields": execution["output_fields"],
                "attempts": execution["attempts"],
                "completed_at": execution["completed_at"],
                "expires_at": execution["expires_at"],
                "portal": execution["portal"],
                "definition_id": execution["definition_id"],
                "action_url": execution["action_url"],
                "request": execution["request"],
                "history": list(execution["history"]),
                "late_completions": execution["late_completions"],
                **({"error": execution["error"]} if execution.get("error") else {}),
            }

    def all(self) -> list[dict[str, Any]]:
        with self.lock:
            ids = list(self.executions)
        return [self.snapshot(i) for i in ids]


def _num(value: Any) -> Any:
    return int(value) if str(value).isdigit() else value


def object_type_name(raw: str) -> tuple[str, str]:
    """("deals", "DEAL") for "DEAL", "deal", "0-3", …"""
    name = schema.object_type(raw)
    return name, schema.singular(name).upper()
