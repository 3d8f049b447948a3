import { describe, expect, test } from "vitest";

import type { ParsedShapeRequest } from "./parsed-request-cache";
import { parseShapeRequest } from "../protocol/request";
import { ParsedRequestCache, splitCursor } from "./parsed-request-cache";

describe("splitCursor", () => {
  test("removes the cursor parameter wherever it is", () => {
    expect(splitCursor("/v1/shape?table=t&cursor=12&offset=1_0")).toEqual({
      key: "/v1/shape?table=t&offset=1_0",
      cursor: "12",
    });
    expect(splitCursor("/v1/shape?cursor=12&table=t")).toEqual({
      key: "/v1/shape?table=t",
      cursor: "12",
    });
    expect(splitCursor("/v1/shape?table=t&cursor=12")).toEqual({
      key: "/v1/shape?table=t",
      cursor: "12",
    });
    expect(splitCursor("/v1/shape?table=t")).toEqual({
      key: "/v1/shape?table=t",
      cursor: undefined,
    });
  });

  test("leaves other parameters ending in cursor alone", () => {
    expect(splitCursor("/v1/shape?xcursor=1&table=t")).toEqual({
      key: "/v1/shape?xcursor=1&table=t",
      cursor: undefined,
    });
  });

  test("leaves cursor= inside another parameter's value alone", () => {
    const url = "/v1/shape?table=t&where=name%3D'x'?cursor=1";
    expect(splitCursor(url)).toEqual({ key: url, cursor: undefined });
    expect(splitCursor("/v1/shape?table=t&where=a?cursor=1&cursor=2")).toEqual({
      key: "/v1/shape?table=t&where=a?cursor=1",
      cursor: "2",
    });
  });

  test("refuses repeated or non-numeric cursors (full parser instead)", () => {
    expect(splitCursor("/v1/shape?cursor=1&cursor=2")).toBeUndefined();
    expect(splitCursor("/v1/shape?cursor=%31")).toBeUndefined();
  });
});

describe("ParsedRequestCache", () => {
  const parse = (url: string): ParsedShapeRequest => {
    const request = parseShapeRequest(new URL(url, "http://x").searchParams);
    return {
      request,
      definition: {
        table: { schema: "public", name: request.table },
        where: request.where,
        params: request.params,
        columns: undefined,
        replica: request.replica,
        log: request.log,
      },
    };
  };

  test("a hit carries the request's own cursor and the shared definition", () => {
    const cache = new ParsedRequestCache();
    const first = "/v1/shape?table=t&handle=h&offset=1_0&live=true&cursor=100";
    const parsed = parse(first);
    cache.set(first, parsed);
    const hit = cache.get(
      "/v1/shape?table=t&handle=h&offset=1_0&live=true&cursor=2345",
    );
    expect(hit?.request.cursor).toBe("2345");
    expect(hit?.request.offset).toEqual(parsed.request.offset);
    expect(hit?.definition).toBe(parsed.definition);
    expect(cache.get(first)).toBe(parsed);
    expect(
      cache.get("/v1/shape?table=t&handle=h&offset=2_0&live=true&cursor=100"),
    ).toBeUndefined();
  });
});
