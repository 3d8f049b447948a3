import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { z } from "zod";

import { MutationOrderError, RecordedRejectionError } from "@repo/db";

import { errorData, forbidden, toTRPCError } from "./errors";

/** A driver error as `pg` throws it. */
const pgError = (code: string) =>
  Object.assign(new Error(`SELECT secret FROM t -- ${code}`), {
    code,
    severity: "ERROR",
  });

describe("toTRPCError", () => {
  it.each([
    [pgError("23503"), "CONFLICT", "parent_missing", false],
    [pgError("23505"), "CONFLICT", "duplicate", false],
    [pgError("40001"), "CONFLICT", "write_conflict", true],
    [pgError("40P01"), "CONFLICT", "write_conflict", true],
    [new MutationOrderError("c", 1, 2), "CONFLICT", "out_of_order", false],
    [forbidden("no"), "FORBIDDEN", "forbidden", false],
    [
      new RecordedRejectionError("NOT_FOUND", "gone", null),
      "NOT_FOUND",
      "not_found",
      false,
    ],
    [
      new RecordedRejectionError("CONFLICT", "x", "duplicate"),
      "CONFLICT",
      "duplicate",
      false,
    ],
    [pgError("42P01"), "INTERNAL_SERVER_ERROR", "internal", true],
    [new Error("boom"), "INTERNAL_SERVER_ERROR", "internal", true],
  ] as const)("maps %s", (error, code, reason, retryable) => {
    const mapped = toTRPCError(error);
    expect(mapped.code).toBe(code);
    expect(errorData(mapped)).toMatchObject({ reason, retryable });
    expect(mapped.message).not.toContain("SELECT");
  });
});

describe("errorData", () => {
  it("keys zod issues by their path inside the mutation's input", () => {
    const schema = z.strictObject({
      clientId: z.string(),
      args: z.strictObject({
        title: z.string().min(2),
        tags: z.array(z.string()),
      }),
    });
    const result = schema.safeParse({
      clientId: 1,
      args: { title: "x", tags: [1], extra: 1 },
    });
    const error = new TRPCError({ code: "BAD_REQUEST", cause: result.error });
    expect(errorData(error).zodError).toEqual({
      formErrors: [expect.stringContaining("extra")],
      fieldErrors: {
        clientId: [expect.any(String)],
        title: [expect.any(String)],
        "tags.0": [expect.any(String)],
      },
    });
  });
});
