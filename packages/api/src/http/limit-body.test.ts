import { describe, expect, it } from "vitest";

import { limitBody } from "./limit-body";

const url = "http://localhost/api/trpc/x";

/** A body sent in chunks without content-length, as a streaming client would. */
function streamed(chunks: string[]): Request {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks)
        controller.enqueue(new TextEncoder().encode(chunk));
      controller.close();
    },
  });
  return new Request(url, {
    method: "POST",
    body,
    duplex: "half",
  });
}

describe("limitBody", () => {
  it("passes a body within the limit through unchanged", async () => {
    const result = await limitBody(
      new Request(url, { method: "POST", body: "hello" }),
      5,
    );
    expect(result).toBeInstanceOf(Request);
    expect(await (result as Request).text()).toBe("hello");
  });

  it("answers 413 from content-length alone", async () => {
    const result = await limitBody(
      new Request(url, { method: "POST", body: "123456" }),
      5,
    );
    expect(result).toBeInstanceOf(Response);
    expect((result as Response).status).toBe(413);
  });

  it("answers 413 for a streamed body without content-length", async () => {
    const request = streamed(["abc", "def"]);
    expect(request.headers.get("content-length")).toBeNull();
    const result = await limitBody(request, 5);
    expect((result as Response).status).toBe(413);
  });

  it("keeps a streamed body within the limit", async () => {
    const result = await limitBody(streamed(["ab", "c"]), 5);
    expect(await (result as Request).text()).toBe("abc");
  });

  it("leaves bodiless requests alone", async () => {
    const request = new Request(url);
    expect(await limitBody(request, 5)).toBe(request);
  });
});
