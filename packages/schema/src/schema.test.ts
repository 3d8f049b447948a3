import { describe, expect, it } from "vitest";

import {
  CreateCommentInput,
  IssueSchema,
  MutationEnvelopeSchema,
  SHAPE_PARSER,
  UserSchema,
} from "./index";

describe("SHAPE_PARSER", () => {
  it("parses Postgres timestamptz text as Electric sends it", () => {
    expect(
      SHAPE_PARSER.timestamptz("2026-11-25 16:48:35.123+00").toISOString(),
    ).toBe("2026-11-25T16:48:35.123Z");
    expect(
      SHAPE_PARSER.timestamptz("2026-11-25 22:18:35.12+05:30").toISOString(),
    ).toBe("2026-11-25T16:48:35.120Z");
  });
});

describe("row schemas", () => {
  const at = new Date("2026-01-01T00:00:00Z");
  const issue = {
    id: "00000000-0000-4000-8000-000000000001",
    projectId: "00000000-0000-4000-8000-000000000002",
    title: "t",
    description: "",
    status: "in_progress",
    priority: "urgent",
    assigneeId: null,
    creatorId: "00000000-0000-4000-8000-000000000003",
    sortKey: "a0",
    completedAt: null,
    createdAt: at,
    updatedAt: at,
  };

  it("accept a row with camelCase keys and Date timestamps", () => {
    expect(IssueSchema.parse(issue)).toEqual(issue);
  });

  it("reject snake_case keys, string timestamps and unknown enum values", () => {
    expect(IssueSchema.safeParse({ ...issue, sort_key: "a0" }).success).toBe(
      false,
    );
    expect(
      IssueSchema.safeParse({ ...issue, createdAt: "2026-01-01" }).success,
    ).toBe(false);
    expect(IssueSchema.safeParse({ ...issue, status: "closed" }).success).toBe(
      false,
    );
  });

  it("keep private user columns out of the synced user row", () => {
    expect(
      UserSchema.safeParse({
        id: issue.id,
        name: "A",
        image: null,
        email: "a@example.com",
        createdAt: at,
        updatedAt: at,
      }).success,
    ).toBe(false);
  });
});

describe("MutationEnvelopeSchema", () => {
  it("wants a uuid client id and a positive 32-bit integer mutation id", () => {
    const clientId = "00000000-0000-4000-8000-000000000009";
    expect(
      MutationEnvelopeSchema.safeParse({ clientId, mutationId: 1 }).success,
    ).toBe(true);
    for (const mutationId of [0, -1, 1.5, 2 ** 31])
      expect(
        MutationEnvelopeSchema.safeParse({ clientId, mutationId }).success,
      ).toBe(false);
    expect(
      MutationEnvelopeSchema.safeParse({ clientId: "abc", mutationId: 1 })
        .success,
    ).toBe(false);
  });
});

describe("text inputs", () => {
  const base = {
    id: "00000000-0000-4000-8000-000000000001",
    projectId: "00000000-0000-4000-8000-000000000002",
    issueId: "00000000-0000-4000-8000-000000000003",
    at: new Date(),
  };

  it("refuse what Postgres cannot store as given: NUL and lone surrogates", () => {
    for (const body of ["a\u0000b", "a\ud800b", "\udc00"]) {
      const result = CreateCommentInput.safeParse({ ...base, body });
      expect(result.success, JSON.stringify(body)).toBe(false);
      expect(result.error?.issues[0]?.path).toEqual(["body"]);
    }
  });

  it("accept other Unicode, including astral characters, and trim titles", () => {
    expect(
      CreateCommentInput.parse({ ...base, body: "  héllo 👋  " }).body,
    ).toBe("héllo 👋");
  });
});

describe("timestamp inputs", () => {
  const base = {
    id: "00000000-0000-4000-8000-000000000001",
    projectId: "00000000-0000-4000-8000-000000000002",
    issueId: "00000000-0000-4000-8000-000000000003",
    body: "b",
  };

  it("accept years 1 to 9999 and refuse what lies outside, under `at`", () => {
    for (const text of ["0001-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z"])
      expect(
        CreateCommentInput.safeParse({ ...base, at: new Date(text) }).success,
      ).toBe(true);
    for (const text of [
      "0000-12-31T23:59:59.999Z",
      "+010000-01-01T00:00:00.000Z",
      "invalid",
    ]) {
      const result = CreateCommentInput.safeParse({
        ...base,
        at: new Date(text),
      });
      expect(result.success, text).toBe(false);
      expect(result.error?.issues[0]?.path).toEqual(["at"]);
    }
  });
});
