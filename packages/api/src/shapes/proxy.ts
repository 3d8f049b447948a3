/**
 * The authorising shape proxy: `GET /api/shapes/<name>?<args>&<protocol params>` → Electric.
 *
 * 1. The session (cookie or bearer): none → 401.
 * 2. The name and its args (`catalog.ts`): unknown name or not a member → 404, bad args → 400.
 * 3. Electric's URL: the definition from the catalog, the protocol params of the request, the
 *    credentials (`secret`, and `source_id` for Electric Cloud). Nothing else of the request
 *    travels: a client's own `secret` or `source_id` is dropped with the rest.
 * 4. The answer streams back as it comes (long-poll, SSE), headers copied but those of
 *    `DROPPED_RESPONSE_HEADERS`; `Vary: Cookie, Authorization` and `private` caching, so no
 *    cache serves one user's rows to another. A client that goes away aborts the upstream
 *    request.
 */
import type { Db } from "@repo/db";

import type { SessionResolver } from "../trpc";
import type { ShapeSpec } from "./catalog";
import { isShapeName, SHAPES } from "./catalog";
import {
  DROPPED_RESPONSE_HEADERS,
  FORWARDED_REQUEST_HEADERS,
  PROTOCOL_PARAMS,
} from "./protocol";

export interface ElectricOptions {
  /** Base URL of Electric (or the kit's sync server); `/v1/shape` is added unless present. */
  url: string;
  /** Its secret (`ELECTRIC_SECRET`; Electric Cloud: the source's secret), sent as `secret`. */
  secret: string;
  /**
   * Electric Cloud's source id (`ELECTRIC_SOURCE_ID`), sent as `source_id`: Cloud serves many
   * databases at one URL and picks this one by it. A self-hosted Electric has no sources.
   * @see https://electric-sql.com/cloud/usage
   */
  sourceId?: string;
}

export interface ShapeProxyOptions {
  db: Db;
  resolveSession: SessionResolver;
  electric: ElectricOptions;
}

/** Answers `GET /api/shapes/<name>` (`name` from the route). */
export type ShapeHandler = (
  request: Request,
  name: string,
) => Promise<Response>;

export function createShapeProxy({
  db,
  resolveSession,
  electric,
}: ShapeProxyOptions): ShapeHandler {
  const shapeUrl = electricShapeUrl(electric.url);
  return async (request, name) => {
    if (request.method !== "GET" && request.method !== "HEAD")
      return errorResponse(405, "Shapes are read with GET", { allow: "GET" });
    const user = await resolveSession(request.headers);
    if (!user) return errorResponse(401, "Sign in first");
    if (!isShapeName(name)) return errorResponse(404, "No such shape");
    const shape = SHAPES[name];
    const query = new URL(request.url).searchParams;
    const args = shape.args.safeParse(
      Object.fromEntries([...query].filter(([key]) => !isProtocolParam(key))),
    );
    if (!args.success)
      return errorResponse(
        400,
        "Invalid shape arguments",
        {},
        {
          errors: Object.fromEntries(
            args.error.issues.map((issue) => [
              issue.path.join(".") || name,
              [issue.message],
            ]),
          ),
        },
      );
    // The union of each shape's args and resolve, narrowed by `name`, is not one TypeScript
    // can call; the catalog's `define` keeps each pair consistent.
    const spec = await (
      shape.resolve as (
        db: Db,
        user: NonNullable<Awaited<ReturnType<SessionResolver>>>,
        args: unknown,
      ) => Promise<ShapeSpec | null>
    )(db, user, args.data);
    if (!spec) return errorResponse(404, "Not found");
    return forward(request, upstreamUrl(shapeUrl, spec, query, electric));
  };
}

async function forward(request: Request, url: URL): Promise<Response> {
  const headers = new Headers();
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = request.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  let upstream: Response;
  try {
    upstream = await fetch(url, {
      method: request.method,
      headers,
      signal: request.signal,
    });
  } catch (error) {
    if (request.signal.aborted) return new Response(null, { status: 499 });
    console.error("shape proxy: the sync service did not answer", error);
    return errorResponse(502, "The sync service is unavailable", {
      "retry-after": "1",
    });
  }
  const responseHeaders = new Headers();
  upstream.headers.forEach((value, name) => {
    if (!DROPPED_RESPONSE_HEADERS.has(name)) responseHeaders.set(name, value);
  });
  privateCaching(responseHeaders);
  // A 304 (the browser revalidating a cached chunk) may carry no body: `Response` throws on one.
  const hasBody = upstream.status !== 304 && upstream.status !== 204;
  return new Response(hasBody ? upstream.body : null, {
    status: upstream.status,
    statusText: upstream.statusText,
    headers: responseHeaders,
  });
}

/**
 * Every answer depends on who asks: browsers may cache it (Electric's caching is what makes
 * resuming cheap), shared caches may not, and none may hand it to a request with other
 * credentials.
 */
function privateCaching(headers: Headers): void {
  const vary = new Set(
    (headers.get("vary") ?? "")
      .split(",")
      .map((value) => value.trim())
      .filter(Boolean),
  );
  vary.add("Cookie");
  vary.add("Authorization");
  headers.set("vary", [...vary].join(", "));
  const cacheControl = headers.get("cache-control");
  if (cacheControl)
    headers.set(
      "cache-control",
      cacheControl
        .split(",")
        .map((directive) => directive.trim())
        // s-maxage is for shared caches, which may not store a private answer anyway.
        .filter((directive) => !/^s-maxage=/i.test(directive))
        .map((directive) =>
          /^public$/i.test(directive) ? "private" : directive,
        )
        .join(", "),
    );
}

function upstreamUrl(
  shapeUrl: URL,
  spec: ShapeSpec,
  query: URLSearchParams,
  { secret, sourceId }: ElectricOptions,
): URL {
  const url = new URL(shapeUrl);
  for (const name of PROTOCOL_PARAMS) {
    const value = query.get(name);
    if (value !== null) url.searchParams.set(name, value);
  }
  url.searchParams.set("table", spec.table);
  if (spec.where !== undefined) url.searchParams.set("where", spec.where);
  spec.params?.forEach((value, index) =>
    url.searchParams.set(`params[${index + 1}]`, value),
  );
  url.searchParams.set(
    "columns",
    spec.columns.map((column) => `"${column}"`).join(","),
  );
  url.searchParams.set("secret", secret);
  if (sourceId !== undefined) url.searchParams.set("source_id", sourceId);
  return url;
}

export function electricShapeUrl(base: string): URL {
  const url = new URL(base);
  if (!url.pathname.endsWith("/v1/shape"))
    url.pathname = `${url.pathname.replace(/\/$/, "")}/v1/shape`;
  return url;
}

const isProtocolParam = (key: string) =>
  (PROTOCOL_PARAMS as readonly string[]).includes(key);

function errorResponse(
  status: number,
  message: string,
  headers: Record<string, string> = {},
  extra: Record<string, unknown> = {},
): Response {
  return Response.json(
    { message, ...extra },
    {
      status,
      headers: { "cache-control": "no-store", ...headers },
    },
  );
}
