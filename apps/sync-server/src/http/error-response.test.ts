/**
 * Error bodies (SPEC.md "Error bodies"): a 400 is Electric's `{"message":"Invalid request",
 * "errors":{…}}`, a 409 the must-refetch array; every other error, 500 included, is
 * `{"message": …}`, never cached.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

import { createLogger } from "../logger";
import {
  InvalidRequestError,
  MustRefetchError,
  UnavailableError,
} from "../protocol/errors";
import { PayloadTooLargeError, sendError } from "./error-response";

const errors: Record<string, unknown> = {
  invalid: InvalidRequestError.of("where", "bad"),
  refetch: new MustRefetchError("h-1"),
  unavailable: new UnavailableError("not yet", 2),
  "too large": new PayloadTooLargeError(),
  "database down": Object.assign(new Error("connect ECONNREFUSED"), {
    code: "ECONNREFUSED",
  }),
  unexpected: new TypeError("x is undefined"),
  "not an error": "a thrown string",
};

const server = createServer((request, response) => {
  const name = decodeURIComponent(request.url?.slice(1) ?? "");
  sendError(createLogger("silent"), response, errors[name]);
});
let base = "";

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function answer(name: string) {
  const response = await fetch(`${base}/${encodeURIComponent(name)}`);
  return {
    status: response.status,
    body: await response.json(),
    cacheControl: response.headers.get("cache-control"),
  };
}

describe("error bodies", () => {
  test("every error but 400 and 409 answers {message}, 500 included, and is not cached", async () => {
    const expected: [string, number][] = [
      ["unavailable", 503],
      ["too large", 413],
      ["database down", 503],
      ["unexpected", 500],
      ["not an error", 500],
    ];
    for (const [name, status] of expected) {
      const { status: got, body, cacheControl } = await answer(name);
      expect([name, got]).toEqual([name, status]);
      expect(body).toEqual({ message: expect.any(String) as string });
      expect(cacheControl).toBe("no-store");
    }
    expect((await answer("unexpected")).body).toEqual({
      message: "Internal server error",
    });
  });

  test("400 is Electric's validation body, 409 its must-refetch array", async () => {
    expect(await answer("invalid")).toMatchObject({
      status: 400,
      body: { message: "Invalid request", errors: { where: ["bad"] } },
    });
    expect(await answer("refetch")).toMatchObject({
      status: 409,
      body: [{ headers: { control: "must-refetch" } }],
    });
  });
});
