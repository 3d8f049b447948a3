import { describe, expect, test } from "vitest";

import { buildKey, relationPrefix } from "./key";

describe("row keys (Electric's build_key)", () => {
  test("escapes / in values and / . in relation names; NULL parts are _", () => {
    expect(
      buildKey(relationPrefix("public", "items"), ["id"], { id: "42" }),
    ).toBe('"public"."items"/"42"');
    expect(
      buildKey(relationPrefix("a", "b"), ["x", "y"], { x: "x/y", y: "z" }),
    ).toBe('"a"."b"/"x//y"/"z"');
    expect(
      buildKey(relationPrefix("public", "t"), ["a", "b", "c"], {
        a: "1",
        b: null,
        c: "2",
      }),
    ).toBe('"public"."t"/"1"/_/"2"');
    expect(relationPrefix("my.schema", "a/b")).toBe('"my..schema"."a//b"');
  });
});
