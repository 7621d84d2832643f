"""Small real HTTP servers on 127.0.0.1 for tests: an OpenAI-compatible chat server, and AWS-shaped
endpoints (Comprehend JSON 1.1, Bedrock Converse) that can answer, drop the connection or stall.

They let the real client stacks run (requests + sseclient, botocore with its real retries and time-outs)
without any network beyond this machine.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterator


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextlib.contextmanager
def serve(handler_cls) -> Iterator[tuple[str, _Server]]:
    """Run ``handler_cls`` on a free 127.0.0.1 port; yields ``(base_url, server)``."""
    server = _Server(("127.0.0.1", 0), handler_cls)
    server.requests = []  # (method, path, body) of every request, in order
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server
    finally:
        server.shutdown()
        server.server_close()


def _drop(handler: BaseHTTPRequestHandler) -> None:
    """Close the connection without an answer (botocore: ConnectionClosedError)."""
    handler.close_connection = True
    try:
        handler.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def openai_server(answer: str | Callable[[dict], str]):
    """An OpenAI-compatible server: ``GET /v1/models`` and ``POST /v1/chat/completions`` (plain or SSE).

    Every request (also for any other path, e.g. an image a browser would fetch) is recorded in
    ``server.requests``; unknown paths get 404.
    """

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _json(self, obj, status=200):
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self.server.requests.append(("GET", self.path, None))
            if self.path.rstrip("/").endswith("/v1/models"):
                self._json({"object": "list", "data": [{"id": "fake-model", "object": "model"}]})
            else:
                self._json({"error": {"message": "not found"}}, 404)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            self.server.requests.append(("POST", self.path, body))
            text = answer(body) if callable(answer) else answer
            if not self.path.endswith("/chat/completions"):
                self._json({"error": {"message": "not found"}}, 404)
                return
            usage = {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}
            if body.get("stream"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for piece in (text[: len(text) // 2], text[len(text) // 2:]):
                    chunk = {"model": "fake-model", "choices": [{"index": 0, "delta": {"content": piece}}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                done = {"model": "fake-model", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                        "usage": usage}
                self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())
                return
            self._json({"model": "fake-model", "usage": usage,
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                     "finish_reason": "stop"}]})

    return serve(Handler)


def comprehend_server(*, ok_calls: int, then: str = "drop", stall_s: float = 30.0):
    """A Comprehend endpoint (JSON 1.1): the first ``ok_calls`` BatchDetectSentiment calls answer NEGATIVE for
    every document; after that every request is dropped (``then="drop"``) or left unanswered for ``stall_s``
    seconds (``then="stall"``, botocore: ReadTimeoutError)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            target = self.headers.get("X-Amz-Target", "")
            self.server.requests.append(("POST", target, body))
            done = sum(1 for _, t, _ in self.server.requests if t.endswith("BatchDetectSentiment"))
            if target.endswith("BatchDetectSentiment") and done <= ok_calls:
                score = {"Positive": 0.01, "Negative": 0.95, "Neutral": 0.03, "Mixed": 0.01}
                out = {"ResultList": [{"Index": i, "Sentiment": "NEGATIVE", "SentimentScore": score}
                                      for i in range(len(body.get("TextList", [])))], "ErrorList": []}
                data = json.dumps(out).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            if then == "stall":
                time.sleep(stall_s)
            _drop(self)

    return serve(Handler)


def bedrock_server(*, drop_if: Callable[[dict], bool]):
    """A Bedrock runtime endpoint for ``Converse``: drops the connection when ``drop_if(request_body)``,
    else answers "ok" (2 input and 1 output tokens)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            self.server.requests.append(("POST", self.path, body))
            if drop_if(body):
                _drop(self)
                return
            out = {"output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
                   "stopReason": "end_turn", "usage": {"inputTokens": 2, "outputTokens": 1, "totalTokens": 3},
                   "metrics": {"latencyMs": 1}}
            data = json.dumps(out).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return serve(Handler)
