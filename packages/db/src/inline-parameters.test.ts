import { describe, expect, it } from "vitest";

import { inlineParameters } from "./transaction-connection";

describe("inlineParameters (the first statement that travels with a deferred BEGIN)", () => {
  it("replaces $n with quoted literals Postgres types from context, like parameters", () => {
    expect(
      inlineParameters(
        `SELECT role FROM project_members WHERE project_id = $1::uuid AND user_id = $2 LIMIT $3`,
        ["a1", "it's", 5],
      ),
    ).toBe(
      `SELECT role FROM project_members WHERE project_id = 'a1'::uuid AND user_id = 'it''s' LIMIT '5'`,
    );
    expect(inlineParameters(`SELECT $1, $2, $3`, [null, true, 12n])).toBe(
      `SELECT NULL, 'true', '12'`,
    );
    expect(inlineParameters(`SELECT $1`, ["back\\slash"])).toBe(
      `SELECT  E'back\\\\slash'`,
    );
  });

  it("refuses what it cannot inline with certainty", () => {
    // A `$1` inside quotes, identifiers or comments is not a parameter.
    expect(inlineParameters(`SELECT '$1', $1`, ["x"])).toBeUndefined();
    expect(inlineParameters(`SELECT "$1" FROM t`, [])).toBeUndefined();
    expect(inlineParameters(`SELECT $1 -- $2`, ["x"])).toBeUndefined();
    expect(inlineParameters(`SELECT $1 /* $2 */`, ["x"])).toBeUndefined();
    // Values pg would serialise its own way.
    expect(inlineParameters(`SELECT $1`, [new Date(0)])).toBeUndefined();
    expect(inlineParameters(`SELECT $1`, [{ a: 1 }])).toBeUndefined();
    expect(inlineParameters(`SELECT $1`, [Number.NaN])).toBeUndefined();
    // A parameter without a value.
    expect(inlineParameters(`SELECT $2`, ["x"])).toBeUndefined();
  });
});
