#!/usr/bin/env python3
"""Loopback OpenAI-compatible fake server for the llm/http tests and benchmark.

Usage: loopback_server.py [--script FILE] [--log FILE] [--seed N]

Listens on 127.0.0.1 on a free port and prints the port as the first line of
stdout. Serves scripted replies first, then a deterministic default responder.
Every request is appended to the --log JSONL file as
{"method","path","auth","headers","body"}: "auth" records only whether an
Authorization header was present; its value is never recorded.

Script: a JSON object mapping a request path to a list of entries, consumed in
order (an entry with "repeat": n serves n requests). Entry fields:
  status   HTTP status (200)          body    JSON value sent as the body
  raw      body text sent as is       headers extra response headers
  delay    seconds before answering
  fault    "reset" (RST, no response), "truncate" (Content-Length larger than
           the body, then close), "drip" (one byte every 0.2 s for "seconds"),
           "oversize" (a valid JSON body of "size" bytes), "malformed"
           (invalid JSON with status 200)
Path controls for the default responder: a path "/c/<controls>/v1/..." where
<controls> is a comma-separated list (values percent-decoded) of latency=S, fail=P (HTTP 500 with
probability P), failalign (HTTP 500 to every alignment feedback and persona
update request), rejecttools (HTTP 400 when "tools" is present), nousage,
requireauth (HTTP 401 without Authorization), agent (the agent responder below),
and the hostile modes (docs/robustness.md):
  echo401        HTTP 401 whose error message echoes the Authorization header and
                 every other header value received (a server leaking secrets)
  flood=N        with tools offered (and tool_choice not "none"), every answer
                 makes N memory_search calls (about 100 bytes each)
  bigarg=B       with tools offered, one call whose argument is B bytes long
  context400=W   HTTP 400 "maximum context length" for a request whose messages
                 contain W (one long user), others answered normally
  ambiguous400=W HTTP 400 with an error naming neither tools nor context for a
                 request containing W; a minimal probe with one tool succeeds
  quietrejecttools  HTTP 400 "bad request" (naming nothing) to any request with
                 tools, the probe included
  malformed=K    every chat answer is a 200 of kind K: contentnull, contentnum,
                 choicesobj, choicesempty, nul, badutf8 (content with invalid
                 UTF-8, otherwise a normal answer), usagehuge (1e300),
                 usageneg (-5)
  malformedfirst=N  only the first N chat answers are malformed
  slowstart=N    the first N requests hang for hang=S seconds (default 10)
                 without sending a byte, later ones answer normally
Agent responder (control "agent"), a tiny scripted policy for end-to-end runs:
with native tools offered and no tool result yet, it calls the first tool with
the text after the input's last "description:"/"article:"/"review:"; with the
text protocol (a system message containing "Action Input:") and no
"Observation:" yet, it writes Thought/Action/Action Input for the first tool
listed; otherwise it answers with the label of the first "-> label: X" line it
finds in the tool results (else "comedy"), prefixed "Final Answer: " in text
mode. Prompt-update requests get a short new persona, other requests "ok".
Default responder: POST .../chat/completions answers "echo: <last user
message>" with usage; POST .../embeddings answers [len(text), 1, 0, 2] per
input, listed in reverse order with their "index".
GET requests (MediaWiki routes for the wikipedia tool) are recorded too (body
null) and scripted under their path with the query string (first) or without
it; unscripted, GET .../api/rest_v1/page/summary/<title> answers 404 and GET
.../w/api.php an empty opensearch result [search, [], [], []].
"""
import argparse
import json
import random
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
COUNTS = {}
SCRIPT = {}
LOG = None
RNG = random.Random(1)


def next_entry(path):
    with LOCK:
        entries = SCRIPT.get(path)
        if not entries:
            return None
        e = entries[0]
        left = e.get("repeat", 1) - 1
        if left <= 0:
            entries.pop(0)
        else:
            e["repeat"] = left
        return e


def record(handler, body):
    if LOG is None:
        return
    headers = {k.lower(): v for k, v in handler.headers.items() if k.lower() != "authorization"}
    if body is None:
        parsed = None
    else:
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = body.decode("utf-8", "replace")
    line = json.dumps({"method": handler.command, "path": handler.path,
                       "auth": "authorization" in (k.lower() for k in handler.headers.keys()),
                       "headers": headers, "body": parsed})
    with LOCK:
        LOG.write(line + "\n")
        LOG.flush()


def last_user(req):
    for m in reversed(req.get("messages") or []):
        if m.get("role") == "user" and isinstance(m.get("content"), str):
            return m["content"]
    return ""


def chat_reply(req, usage=True):
    text = "echo: " + last_user(req)
    out = {"id": "chatcmpl-loopback", "object": "chat.completion", "created": 0,
           "model": req.get("model", ""), "system_fingerprint": "fp_loopback",
           "choices": [{"index": 0, "finish_reason": "stop",
                        "message": {"role": "assistant", "content": text}}]}
    if usage:
        out["usage"] = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    return out


def agent_reply(req, usage=True):
    msgs = req.get("messages") or []
    system = next((m.get("content") or "" for m in msgs if m.get("role") == "system"), "")
    user0 = next((m.get("content") or "" for m in msgs if m.get("role") == "user"), "")
    query = user0
    for marker in ("description:", "article:", "review:"):
        if marker in user0:
            query = user0.rsplit(marker, 1)[1].strip()
    tools = req.get("tools") or []
    text_mode = "Action Input:" in system
    results = [m.get("content") or "" for m in msgs
               if m.get("role") == "tool" or (m.get("role") == "user" and
                                              (m.get("content") or "").startswith("Observation:"))]
    message = {"role": "assistant", "content": None}
    finish = "stop"
    if tools and not results and req.get("tool_choice") != "none":
        fn = tools[0]["function"]
        arg = next(iter((fn.get("parameters") or {}).get("properties") or {"query": 0}))
        message["tool_calls"] = [{"id": "call_lb_1", "type": "function",
                                  "function": {"name": fn["name"],
                                               "arguments": json.dumps({arg: query})}}]
        finish = "tool_calls"
    elif text_mode and not results:
        name = system.split("Action: the tool to use, one of [", 1)[-1].split("]", 1)[0]
        name = name.split(",")[0].strip() or "memory_search"
        message["content"] = "Thought: I should look at the user's history.\nAction: %s\n" \
                             "Action Input: %s" % (name, query)
    elif "New system prompt:" in user0:
        message["content"] = "You are a helpful assistant for this user; answer as they would."
    elif not (msgs and msgs[0].get("role") == "system") and len(msgs) == 1 and \
            ("Feedback:" in user0 or "User profile:" in user0):
        message["content"] = "ok"
    else:
        label = "comedy"
        for r in results:
            if "-> label: " in r:
                label = r.split("-> label: ", 1)[1].split("(")[0].split("\n")[0].strip()
                break
        message["content"] = ("Final Answer: " + label) if text_mode else label
    out = {"id": "chatcmpl-loopback", "object": "chat.completion", "created": 0,
           "model": req.get("model", ""), "system_fingerprint": "fp_loopback",
           "choices": [{"index": 0, "finish_reason": finish, "message": message}]}
    if usage:
        out["usage"] = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    return out


def bump(name):
    with LOCK:
        COUNTS[name] = COUNTS.get(name, 0) + 1
        return COUNTS[name]


def all_text(req):
    return "\n".join(m.get("content") or "" for m in req.get("messages") or []
                     if isinstance(m.get("content"), str))


def flood_reply(req, n, bigarg):
    calls = []
    for i in range(n):
        calls.append({"id": "call_f%d" % i, "type": "function",
                      "function": {"name": "memory_search",
                                   "arguments": json.dumps({"query": "q%d" % i})}})
    if bigarg:
        calls = [{"id": "call_big", "type": "function",
                  "function": {"name": "memory_search",
                               "arguments": json.dumps({"query": "x" * bigarg})}}]
    return {"id": "chatcmpl-flood", "object": "chat.completion", "created": 0,
            "model": req.get("model", ""),
            "choices": [{"index": 0, "finish_reason": "tool_calls",
                         "message": {"role": "assistant", "content": None,
                                     "tool_calls": calls}}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}}


def malformed_reply(req, kind):
    """A 200 body of the given kind (bytes)."""
    good = agent_reply(req)
    msg = good["choices"][0]["message"]
    if kind == "contentnull":
        msg.pop("tool_calls", None)
        msg["content"] = None
    elif kind == "contentnum":
        msg.pop("tool_calls", None)
        msg["content"] = 42
    elif kind == "choicesobj":
        good["choices"] = good["choices"][0]
    elif kind == "choicesempty":
        good["choices"] = []
    elif kind == "usagehuge":
        good["usage"] = {"prompt_tokens": 1e300, "completion_tokens": 1e300}
    elif kind == "usageneg":
        good["usage"] = {"prompt_tokens": -5, "completion_tokens": -5}
    body = json.dumps(good).encode()
    if kind == "nul" and isinstance(msg.get("content"), str):
        body = json.dumps(good).replace(json.dumps(msg["content"]),
                                        json.dumps(msg["content"] + "\u0000tail"), 1).encode()
    elif kind == "nul":
        body = body.replace(b'"content": null', b'"content": "a\\u0000b"', 1)
    if kind == "badutf8" and isinstance(msg.get("content"), str):
        enc = json.dumps(msg["content"]).encode()
        body = body.replace(enc, enc[:-1] + b"\xff\xfe" + b'"', 1)
    return body


def embed_reply(req):
    inputs = req.get("input") or []
    if isinstance(inputs, str):
        inputs = [inputs]
    data = [{"object": "embedding", "index": i, "embedding": [float(len(t)), 1.0, 0.0, 2.0]}
            for i, t in enumerate(inputs)]
    data.reverse()
    return {"object": "list", "data": data, "model": req.get("model", "")}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # the fault modes write in pieces

    def log_message(self, fmt, *args):
        pass

    def send(self, status, body, headers=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        # headers and body in one write, as a real server's small answer: a
        # client measured against it pays one wakeup per reply
        self._headers_buffer.append(b"\r\n" + body)
        self.flush_headers()

    def do_GET(self):
        record(self, None)
        path, _, query = self.path.partition("?")
        entry = next_entry(self.path) or next_entry(path)
        if entry is not None:
            return self.scripted(entry, {})
        if "/api/rest_v1/page/summary/" in path:
            return self.send(404, json.dumps({"type": "not_found", "title": "Not found.",
                                              "detail": "Page or revision not found."}))
        if path.endswith("/w/api.php"):
            q = urllib.parse.parse_qs(query).get("search", [""])[0]
            return self.send(200, json.dumps([q, [], [], []]))
        self.send(200, json.dumps({"object": "list", "data": []}))

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        record(self, body)
        path = self.path
        controls = {}
        if path.startswith("/c/"):
            parts = path.split("/", 3)
            for c in parts[2].split(","):
                k, _, v = c.partition("=")
                controls[k] = urllib.parse.unquote(v)
            path = "/" + (parts[3] if len(parts) > 3 else "")
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            req = {}
        entry = next_entry(path)
        if entry is not None:
            return self.scripted(entry, req)
        if "slowstart" in controls and bump("slowstart") <= int(controls["slowstart"]):
            time.sleep(float(controls.get("hang") or 10))
            self.close_connection = True
            return
        if "latency" in controls:
            time.sleep(float(controls["latency"]))
        if "echo401" in controls:
            seen = ["%s: %s" % (k, v) for k, v in self.headers.items()
                    if k.lower() not in ("content-length", "content-type", "host", "accept",
                                         "accept-encoding")]
            return self.send(401, json.dumps({"error": {
                "message": "invalid credentials: " + "; ".join(seen),
                "type": "invalid_request_error"}}))
        text = all_text(req)
        if controls.get("context400") and controls["context400"] in text:
            return self.send(400, json.dumps({"error": {
                "message": "This model's maximum context length is 4096 tokens. However, "
                           "your messages resulted in 9000 tokens. Please reduce the length "
                           "of the messages.", "type": "invalid_request_error",
                "code": "context_length_exceeded"}}))
        if "quietrejecttools" in controls and "tools" in req:
            return self.send(400, json.dumps({"error": {"message": "bad request"}}))
        if controls.get("ambiguous400") and controls["ambiguous400"] in text:
            return self.send(400, json.dumps({"error": {"message": "bad request"}}))
        if path.endswith("/chat/completions") and req.get("tools") and \
                req.get("tool_choice") != "none" and ("flood" in controls or "bigarg" in controls):
            return self.send(200, json.dumps(flood_reply(req, int(controls.get("flood") or 0),
                                                         int(controls.get("bigarg") or 0))))
        if path.endswith("/chat/completions") and "malformed" in controls and \
                ("malformedfirst" not in controls or
                 bump("malformed") <= int(controls["malformedfirst"])):
            return self.send(200, malformed_reply(req, controls["malformed"]))
        if "requireauth" in controls and "Authorization" not in self.headers:
            return self.send(401, json.dumps({"error": {"message": "missing API key"}}))
        if "fail" in controls:
            with LOCK:
                r = RNG.random()
            if r < float(controls["fail"]):
                return self.send(500, json.dumps({"error": {"message": "injected failure"}}))
        if "failalign" in controls and any(
                m in json.dumps(req.get("messages", []))
                for m in ("critical evaluator", "prompt engineering assistant")):
            return self.send(500, json.dumps({"error": {"message": "alignment call failed"}}))
        if "rejecttools" in controls and "tools" in req:
            return self.send(400, json.dumps({"error": {
                "message": "\"tools\" and \"tool_choice\" are not supported by this model"}}))
        if path.endswith("/chat/completions") and "agent" in controls:
            return self.send(200, json.dumps(agent_reply(req, "nousage" not in controls)))
        if path.endswith("/chat/completions"):
            return self.send(200, json.dumps(chat_reply(req, "nousage" not in controls)))
        if path.endswith("/embeddings"):
            return self.send(200, json.dumps(embed_reply(req)))
        self.send(404, json.dumps({"detail": "no route for " + path}))

    def scripted(self, e, req):
        if e.get("delay"):
            time.sleep(float(e["delay"]))
        fault = e.get("fault")
        status = int(e.get("status", 200))
        if "raw" in e:
            body = e["raw"].encode()
        elif "body" in e:
            body = json.dumps(e["body"]).encode()
        else:
            body = json.dumps(chat_reply(req)).encode()
        if fault == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if fault == "malformed":
            body = b'{"choices": [ {"message": '
        if fault == "oversize":
            size = int(e.get("size", 1 << 20))
            body = b'{"pad": "' + b"x" * max(0, size - 11) + b'"}'
        if fault in ("truncate", "drip"):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body) + (100 if fault == "truncate" else 0)))
            self.end_headers()
            if fault == "truncate":
                self.wfile.write(body)
            else:
                end = time.time() + float(e.get("seconds", 5))
                for i in range(len(body)):
                    if time.time() > end:
                        break
                    self.wfile.write(body[i:i + 1])
                    self.wfile.flush()
                    time.sleep(0.2)
            self.wfile.flush()
            self.close_connection = True
            return
        self.send(status, body, e.get("headers"))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # clients that hang up mid-reply (timeouts, injected resets) are expected here
        pass


def main():
    global SCRIPT, LOG, RNG
    ap = argparse.ArgumentParser()
    ap.add_argument("--script")
    ap.add_argument("--log")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.script:
        with open(a.script) as f:
            SCRIPT = json.load(f)
    if a.log:
        LOG = open(a.log, "a")
    RNG = random.Random(a.seed)
    srv = Server(("127.0.0.1", 0), Handler)
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
