/**
 * Issue 10, item 7: a timestamp Postgres `timestamptz` and JSON do not both round-trip (before
 * year 1, after year 9999) is bad input. The reducer's schema and the server refuse it alike,
 * with BAD_REQUEST and nothing written, instead of a retryable 500 (year 0) or a 200 whose
 * `createdAt` came back `null` (year 10000).
 */
import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";

import type { Db } from "@repo/db";
import type { MutationName } from "@repo/mutations";
import { mutationsByName } from "@repo/mutations";

import type { TestUser } from "../support";
import { apiTest, createUser, mutate, newId, rowCounts } from "../support";

let db: Db;
let owner: TestUser;
let projectId: string;

apiTest.beforeAll(async ({ db: fileDb }) => {
  db = fileDb;
  owner = await createUser(db, "Owner");
  projectId = newId();
  await mutate(owner, "projects.create", {
    id: projectId,
    ownerMemberId: newId(),
    name: "Dates",
    at: new Date("2026-01-01T00:00:00.000Z"),
  });
});

const OUT_OF_RANGE = [
  "0000-12-31T23:59:59.999Z",
  "-271821-04-20T00:00:00.000Z",
  "+010000-01-01T00:00:00.000Z",
  "+275760-09-13T00:00:00.000Z",
].map((text) => new Date(text));

/** Args of mutations that carry `at`, for a given `at`. */
const argsAt: Partial<Record<MutationName, (at: Date) => object>> = {
  "projects.create": (at) => ({
    id: newId(),
    ownerMemberId: newId(),
    name: "P",
    at,
  }),
  "projects.update": (at) => ({ id: projectId, name: "Renamed", at }),
  "issues.create": (at) => ({
    id: newId(),
    projectId,
    title: "T",
    sortKey: "a",
    at,
  }),
};

describe("timestamps are bounded to years 1–9999", () => {
  it("the reducer's input schema and the server both refuse one outside, with BAD_REQUEST, writing nothing", async () => {
    for (const [name, args] of Object.entries(argsAt) as [
      MutationName,
      (at: Date) => object,
    ][])
      for (const at of OUT_OF_RANGE) {
        expect(mutationsByName[name].input.safeParse(args(at)).success).toBe(
          false,
        );
        const before = await rowCounts(db);
        const error = await mutate(owner, name, args(at)).then(
          () => new Error(`${name} accepted ${at.toISOString()}`),
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(TRPCError);
        expect((error as TRPCError).code).toBe("BAD_REQUEST");
        expect(await rowCounts(db)).toEqual(before);
      }
  });

  it("the first and last millisecond of the range round-trip exactly", async () => {
    for (const at of [
      new Date("0001-01-01T00:00:00.000Z"),
      new Date("9999-12-31T23:59:59.999Z"),
    ]) {
      const { data } = await mutate(owner, "issues.create", {
        id: newId(),
        projectId,
        title: "Edge",
        sortKey: "b",
        at,
      });
      expect((data as { createdAt: Date }).createdAt).toEqual(at);
    }
  });
});
