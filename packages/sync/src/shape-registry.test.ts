import { describe, expect, it } from "vitest";

import { shapeKey, streamOptions } from "./shape-registry";

describe("a named shape (url)", () => {
  const named = {
    table: "issues",
    url: "/api/shapes/issues?project=p1",
    where: "project_id = $1",
    params: ["p1"],
  } as const;

  it("is read at its url, resolved against the client's, without a definition of its own", () => {
    const options = streamOptions("https://app.test/api/shapes", named, {
      params: { app: "x" },
    });
    expect(options.url).toBe("https://app.test/api/shapes/issues?project=p1");
    expect(options.params).toEqual({ app: "x" });
  });

  it("is its own stream: another url is another shape", () => {
    expect(shapeKey(named)).not.toBe(
      shapeKey({ ...named, url: "/api/shapes/issues?project=p2" }),
    );
    const { url: _url, ...plain } = named;
    expect(shapeKey(plain)).toBe(
      JSON.stringify(["issues", "project_id = $1", ["p1"], null]),
    );
  });
});
