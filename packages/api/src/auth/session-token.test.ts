import { makeSignature } from "better-auth/crypto";
import { describe, expect, it } from "vitest";

import { sessionTokenOf } from "./session-token";

const secret = "s".repeat(32);
const token = "lifLSOiRZJkth1YhPbkuMLlwMND0faqS";
/** The cookie value exactly as better-auth sets it: `<token>.<base64 HMAC>`, URL-encoded. */
const signed = async (value = token, key = secret) =>
  encodeURIComponent(`${value}.${await makeSignature(value, key)}`);
const cookie = (value: string) =>
  new Headers({ cookie: `theme=dark; better-auth.session_token=${value}` });

describe("sessionTokenOf", () => {
  it("reads better-auth's signed session cookie, under either of its names", async () => {
    expect(sessionTokenOf(cookie(await signed()), secret)).toBe(token);
    const secure = new Headers({
      cookie: `__Secure-better-auth.session_token=${await signed()}`,
    });
    expect(sessionTokenOf(secure, secret)).toBe(token);
  });

  it("refuses a cookie signed with another secret, a changed token or another spelling of the signature", async () => {
    expect(
      sessionTokenOf(cookie(await signed(token, "x".repeat(32))), secret),
    ).toBeNull();
    const [, signature] = decodeURIComponent(await signed()).split(".");
    expect(sessionTokenOf(cookie(`${token}x.${signature}`), secret)).toBeNull();
    // The last base64 digit before `=` carries two padding bits: flipping them decodes to the
    // same bytes, which a decode-then-compare check would accept.
    const digits =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const twin = digits[digits.indexOf(signature?.at(-2) ?? "") ^ 1];
    const respelled = `${signature?.slice(0, -2)}${twin ?? ""}=`;
    expect(Buffer.from(respelled, "base64")).toEqual(
      Buffer.from(signature ?? "", "base64"),
    );
    expect(sessionTokenOf(cookie(`${token}.${respelled}`), secret)).toBeNull();
    expect(sessionTokenOf(cookie(token), secret)).toBeNull();
  });

  it("ignores cookies without a secret, takes a bare bearer token, and a bearer token before a cookie", async () => {
    expect(sessionTokenOf(cookie(await signed()), undefined)).toBeNull();
    expect(
      sessionTokenOf(new Headers({ authorization: `Bearer ${token}` })),
    ).toBe(token);
    const both = cookie(await signed("other-token"));
    both.set("authorization", `bearer ${await signed()}`);
    expect(sessionTokenOf(both, secret)).toBe(token);
    both.set("authorization", `Bearer ${await signed(token, "x".repeat(32))}`);
    expect(sessionTokenOf(both, secret)).toBeNull();
  });
});
