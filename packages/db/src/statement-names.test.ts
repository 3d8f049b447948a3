import { describe, expect, it } from "vitest";

import { createStatementNamer } from "./statement-names";

describe("createStatementNamer", () => {
  it("names each parameterised text once, the same name every time", () => {
    const name = createStatementNamer(10);
    const a = name({ sql: "SELECT $1", args: [1] });
    const b = name({ sql: "SELECT $1, $2", args: [1, 2] });
    expect(a).not.toBe("");
    expect(b).not.toBe(a);
    expect(name({ sql: "SELECT $1", args: [2] })).toBe(a);
  });

  it("leaves statements without parameters and texts beyond the bound unnamed", () => {
    const name = createStatementNamer(1);
    expect(name({ sql: "BEGIN", args: [] })).toBe("");
    const first = name({ sql: "SELECT $1", args: [1] });
    expect(first).not.toBe("");
    expect(name({ sql: "SELECT $1 + 1", args: [1] })).toBe("");
    expect(name({ sql: "SELECT $1", args: [1] })).toBe(first);
  });
});
