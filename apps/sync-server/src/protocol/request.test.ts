import { describe, expect, test } from "vitest";

import { InvalidRequestError } from "./errors";
import { parseShapeRequest } from "./request";

const errorsOf = (query: string) => {
  try {
    parseShapeRequest(new URLSearchParams(query));
  } catch (error) {
    if (error instanceof InvalidRequestError) return error.errors;
    throw error;
  }
  return undefined;
};

describe("GET /v1/shape parameter validation (Electric's messages)", () => {
  test.each([
    ["table=t", { offset: ["can't be blank"] }],
    ["offset=-1", { table: ["can't be blank"] }],
    ["table=t&offset=x", { offset: ["has invalid format"] }],
    ["table=t&offset=0_0", { handle: ["can't be blank when offset != -1"] }],
    [
      "table=t&offset=-1&live=true",
      { live: ["can't be true when offset == -1"] },
    ],
    [
      "table=t&offset=now&live=true",
      { live: ["can't be true when offset is 'now'"] },
    ],
    [
      "table=t&offset=0_0&handle=h&live_sse=true",
      { live_sse: ["can't be true unless live is also true"] },
    ],
    ["table=t&offset=-1&replica=x", { replica: ["is invalid"] }],
    ["table=t&offset=-1&log=x", { log: ["is invalid"] }],
    [
      "table=t&offset=-1&queryable_columns=id",
      {
        queryable_columns: [
          "is not supported by this server: it cannot restrict subset requests to these columns yet; restrict them in the proxy (columns, subset__where) instead",
        ],
      },
    ],
  ])("%s", (query, errors) => {
    expect(errorsOf(query)).toEqual(errors);
  });

  test("valid request with params, live, sse", () => {
    const request = parseShapeRequest(
      new URLSearchParams(
        "table=t&offset=5_2&handle=h&live=true&live_sse=true&params[1]=a&params[2]=b&cursor=9&log=full",
      ),
    );
    expect(request).toMatchObject({
      params: { "1": "a", "2": "b" },
      live: true,
      liveSse: true,
      cursor: "9",
      handle: "h",
    });
  });
});
