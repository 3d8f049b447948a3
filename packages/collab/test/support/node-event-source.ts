/**
 * A lean `EventSource` for `sseFollow` in Node, on `node:http`: one connection, no reconnecting
 * (`sseFollow` follows again itself after an error).
 *
 * Why: Node 20 has no EventSource, and the `eventsource` package reads the stream through
 * fetch and web streams. Per event the two cost about the same (9–13 µs of CPU for a relayed
 * update, parse included, measured alone), so this is not about speed: it keeps the relay's
 * client off fetch like `nodeFetch`, and takes no dependency.
 *
 * What it keeps of the standard (html.spec.whatwg.org, "server-sent events"): lines end in
 * CRLF, LF or CR; `:` starts a comment; `data` lines of one event are joined by `\n`; an event
 * goes to the listeners of its `event` name (`message` when it has none); an event the stream
 * ends inside of is dropped; `error` on an answer other than a 200 `text/event-stream`, on a
 * network error and when the stream ends.
 */
import { request } from "node:http";
import type { ClientRequest } from "node:http";

import { keepAliveAgent } from "./node-http";

export interface NodeEventSourceInit {
  /** Sent with the request (e.g. `authorization`). */
  headers?: Record<string, string>;
}

/** What listeners get: an event's `data`, or for `error` what went wrong. */
export interface NodeSourceEvent {
  type: string;
  data?: string;
  lastEventId?: string;
  /** `error` only: the answer's status when it was not a 200 event stream. */
  status?: number;
  /** `error` only. */
  message?: string;
}

type Listener = (event: NodeSourceEvent) => void;

export class NodeEventSource {
  readonly url: string;
  private readonly listeners = new Map<string, Listener[]>();
  private readonly req: ClientRequest;
  private closed = false;
  // Parser state: the unfinished line, and the event being read.
  private pending = "";
  private afterCr = false;
  private isFirstChunk = true;
  private eventType = "";
  private data: string[] = [];
  private lastEventId = "";

  constructor(url: string, init: NodeEventSourceInit = {}) {
    this.url = url;
    this.req = request(url, {
      agent: keepAliveAgent,
      headers: {
        accept: "text/event-stream",
        "cache-control": "no-cache",
        ...init.headers,
      },
    });
    this.req.on("error", (error) => this.fail(error.message));
    this.req.on("response", (res) => {
      const type = res.headers["content-type"] ?? "";
      if (res.statusCode !== 200 || !type.startsWith("text/event-stream")) {
        res.resume();
        this.fail(
          `the answer was ${res.statusCode} ${type}, not a 200 event stream`,
          res.statusCode,
        );
        return;
      }
      // The decoder keeps a character split between chunks until its last byte arrives.
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => this.read(chunk));
      res.on("error", (error) => this.fail(error.message));
      res.on("close", () => this.fail("the stream ended"));
    });
    this.req.end();
  }

  addEventListener(type: string, listener: Listener): void {
    const list = this.listeners.get(type);
    if (list) list.push(listener);
    else this.listeners.set(type, [listener]);
  }

  close(): void {
    this.closed = true;
    this.req.destroy();
  }

  private fail(message: string, status?: number): void {
    if (this.closed) return;
    this.close();
    this.dispatch({
      type: "error",
      message,
      ...(status === undefined ? {} : { status }),
    });
  }

  private dispatch(event: NodeSourceEvent): void {
    // As in browsers, every listener gets the event even if one closes the source; the
    // parser stops after it.
    for (const listener of this.listeners.get(event.type) ?? [])
      listener(event);
  }

  private read(chunk: string): void {
    let text = chunk;
    if (this.isFirstChunk) {
      this.isFirstChunk = false;
      if (text.startsWith("\uFEFF")) text = text.slice(1);
    }
    // A CR that ended the last chunk ended its line; an LF right after it is the same break.
    let start = this.afterCr && text.startsWith("\n") ? 1 : 0;
    this.afterCr = false;
    // Each searched once per chunk (most chunks have no CR at all).
    let cr = text.indexOf("\r", start);
    let lf = text.indexOf("\n", start);
    while (cr !== -1 || lf !== -1) {
      const end = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
      this.line(this.pending + text.slice(start, end));
      this.pending = "";
      if (this.closed) return;
      start = end + 1;
      if (end === cr) {
        if (start === text.length) this.afterCr = true;
        else if (text[start] === "\n") start++;
        cr = text.indexOf("\r", start);
      }
      if (lf !== -1 && lf < start) lf = text.indexOf("\n", start);
    }
    this.pending += text.slice(start);
  }

  private line(line: string): void {
    if (line === "") {
      if (this.data.length > 0)
        this.dispatch({
          type: this.eventType || "message",
          data: this.data.join("\n"),
          lastEventId: this.lastEventId,
        });
      this.eventType = "";
      this.data = [];
      return;
    }
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.eventType = value;
    else if (field === "id" && !value.includes("\0")) this.lastEventId = value;
    // Comments (`:` first: the field is "") and `retry` (for reconnecting, which this leaves to
    // its caller) are ignored like unknown fields.
  }
}
