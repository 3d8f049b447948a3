/**
 * A lean `fetch` for tRPC's `httpLink` in Node, on `node:http` with a keep-alive agent.
 *
 * Why: Node's built-in fetch (undici: web streams, `Request`, `Headers`, AbortSignal plumbing)
 * was a large share of the keystroke bench's client CPU, the clients using about 2/3 of a
 * saturated 2-core machine at 20 typists (CPU profiles, session 8). Measured alone (a tRPC
 * mutation to a local server, 5 in flight), a call costs the client 0.61–0.66 ms of CPU
 * through this and 1.25–1.28 ms through fetch. Browsers have a native fetch; this is for Node
 * processes (the bench, the collab tests) only.
 *
 * It does what `httpLink` asks of fetch (method, headers, a string body, the signal; a response
 * whose `json()` it reads) and fails as fetch does: a network failure rejects with a
 * `TypeError` ("fetch failed", the cause attached), an abort with the signal's reason, so the
 * provider's retry classification still sees them as transient (no tRPC error `data`).
 */
import { Agent, request } from "node:http";
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";

/**
 * One pool for the process. The `timeout` makes Node honour the server's `Keep-Alive:
 * timeout=N` hint (it closes idle sockets a second before the server would, so a call is not
 * sent down a socket the server is closing); without it the hint is ignored.
 */
export const keepAliveAgent = new Agent({ keepAlive: true, timeout: 60_000 });

/** The part of `Response` that `httpLink` (and an error's `meta.response`) reads. */
export interface LeanResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: { get(name: string): string | null };
  json(): Promise<unknown>;
  text(): Promise<string>;
}

/** `fetch` for `http:` URLs, as `httpLink({ fetch: nodeFetch })` uses it. */
export function nodeFetch(
  input: RequestInfo | URL,
  init: RequestInit = {},
): Promise<LeanResponse> {
  const { signal, body } = init;
  if (typeof input !== "string" && !(input instanceof URL))
    return Promise.reject(
      new TypeError("nodeFetch takes a URL, not a Request"),
    );
  if (body !== undefined && body !== null && typeof body !== "string")
    return Promise.reject(new TypeError("nodeFetch sends string bodies only"));
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    const req = request(input, {
      agent: keepAliveAgent,
      method: init.method ?? "GET",
      headers: plainHeaders(init.headers),
    });
    const onAbort = () => {
      req.destroy();
      reject(abortReason(signal));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    const settle = () => signal?.removeEventListener("abort", onAbort);
    // After an abort the promise is already rejected: these rejections are no-ops.
    req.on("error", (error) => {
      settle();
      reject(new TypeError("fetch failed", { cause: error }));
    });
    req.on("response", (res) => {
      res.setEncoding("utf8");
      let body = "";
      res.on("data", (chunk: string) => (body += chunk));
      // A server that hangs up mid-body: fetch's body read fails with "terminated".
      res.on("error", (error) => {
        settle();
        reject(new TypeError("terminated", { cause: error }));
      });
      res.on("end", () => {
        settle();
        resolve(leanResponse(res, body));
      });
    });
    req.end(body ?? undefined);
  });
}

function leanResponse(res: IncomingMessage, body: string): LeanResponse {
  const status = res.statusCode ?? 0;
  const headers: IncomingHttpHeaders = res.headers;
  return {
    status,
    ok: status >= 200 && status < 300,
    headers: {
      get: (name) => {
        const value = headers[name.toLowerCase()];
        return value === undefined
          ? null
          : Array.isArray(value)
            ? value.join(", ")
            : value;
      },
    },
    // Like fetch's: invalid JSON rejects with a SyntaxError.
    json: () => new Promise((resolve) => resolve(JSON.parse(body))),
    text: () => Promise.resolve(body),
  };
}

function plainHeaders(
  headers: HeadersInit | undefined,
): Record<string, string> | undefined {
  return Array.isArray(headers) || headers instanceof Headers
    ? Object.fromEntries(headers)
    : headers;
}

/** The signal's reason, as fetch rejects with it (an AbortError unless one was given). */
function abortReason(signal: AbortSignal | null | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error
    ? reason
    : new DOMException("This operation was aborted", "AbortError");
}
