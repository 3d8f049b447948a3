/**
 * Sign-in and the authorising shape proxy, over HTTP against the production build (`next build`
 * + `next start`), the kit's sync server and PostgreSQL (the browser tests' stack): sessions
 * start and end; a user reads only their own projects' rows through `/api/shapes`, whatever
 * the URL says; the sync server itself serves nobody without the secret; live long-polls and SSE
 * stream through with Electric's headers, never cacheable across users.
 */
import { randomUUID } from "node:crypto";
import type { Message, Row } from "@electric-sql/client";
import { isChangeMessage, ShapeStream } from "@electric-sql/client";
import { createTRPCClient, httpLink } from "@trpc/client";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { AppRouter } from "@repo/api";
import { waitFor } from "@repo/test-support";

import type { WebStack } from "./e2e/support/web-stack";
import { startWebStack } from "./e2e/support/web-stack";

const PASSWORD = "correct horse battery";
const SHAPE_NAMES = [
  "memberships",
  "projects",
  "project-members",
  "users",
  "issues",
  "issue",
  "comments",
  "doc-updates",
  "presence",
];

interface Member {
  id: string;
  email: string;
  /** The bare session token of a sign-in (what the CLI keeps). */
  token: string;
  /** The `Cookie` header a browser would send. */
  cookie: string;
  api: ReturnType<typeof createTRPCClient<AppRouter>>;
  projectId: string;
  issueId: string;
  mutations: number;
  clientId: string;
}

let stack: WebStack;
let alice: Member;
let bob: Member;

beforeAll(async () => {
  stack = await startWebStack();
  alice = await member("Alice Adams", "alice@example.com");
  bob = await member("Bob Brown", "bob@example.com");
  await alice.api.comments.create.mutate(
    as(alice, {
      id: randomUUID(),
      projectId: alice.projectId,
      issueId: alice.issueId,
      body: "only for members",
      at: new Date(),
    }),
  );
}, 300_000);

afterAll(async () => {
  await stack.stop();
}, 60_000);

/** Signs up, signs in (cookie and token), and creates a project with one issue. */
async function member(name: string, email: string): Promise<Member> {
  await stack.signUp({ name, email, password: PASSWORD });
  const signIn = await signInResponse(email);
  expect(signIn.status).toBe(200);
  const { token, user } = (await signIn.json()) as {
    token: string;
    user: { id: string };
  };
  const cookie = sessionCookie(signIn);
  const api = createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${stack.url}/api/trpc`,
        transformer: superjson,
        headers: { authorization: `Bearer ${token}` },
      }),
    ],
  });
  const created: Member = {
    id: user.id,
    email,
    token,
    cookie,
    api,
    projectId: randomUUID(),
    issueId: randomUUID(),
    mutations: 0,
    clientId: randomUUID(),
  };
  await created.api.projects.create.mutate(
    as(created, {
      id: created.projectId,
      ownerMemberId: randomUUID(),
      name: `${name}'s project`,
      at: new Date(),
    }),
  );
  await created.api.issues.create.mutate(
    as(created, {
      id: created.issueId,
      projectId: created.projectId,
      title: `${name}'s secret issue`,
      sortKey: "a0",
      at: new Date(),
    }),
  );
  return created;
}

function signInResponse(email: string, password = PASSWORD) {
  return fetch(`${stack.url}/api/auth/sign-in/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: stack.url },
    body: JSON.stringify({ email, password }),
  });
}

function sessionCookie(response: Response): string {
  const cookie = response.headers
    .getSetCookie()
    .map((header) => header.split(";")[0] ?? "")
    .find((pair) => pair.startsWith("better-auth.session_token="));
  if (!cookie) throw new Error("sign-in set no session cookie");
  return cookie;
}

/** The envelope every mutation takes: this member's client and its next mutation id. */
function as<TArgs>(who: Member, args: TArgs) {
  return { clientId: who.clientId, mutationId: ++who.mutations, args };
}

interface ShapeAnswer {
  status: number;
  headers: Headers;
  body: string;
  rows: Record<string, unknown>[];
}

/** One request to the proxy (the first chunk of a shape by default), as `auth` sends it. */
async function readShape(
  path: string,
  auth: Record<string, string>,
  protocol = "offset=-1",
): Promise<ShapeAnswer> {
  const separator = path.includes("?") ? "&" : "?";
  const response = await fetch(
    `${stack.url}/api/shapes/${path}${separator}${protocol}`,
    { headers: auth },
  );
  const body = await response.text();
  const messages = response.ok ? (JSON.parse(body) as Message<Row>[]) : [];
  return {
    status: response.status,
    headers: response.headers,
    body,
    rows: messages.filter(isChangeMessage).map((message) => message.value),
  };
}

const bearer = (who: Member) => ({ authorization: `Bearer ${who.token}` });

/** Every shape of one member's project, by its ids (the collaborative ones of its issue). */
const shapesOf = (who: Member) => {
  const field = `field=issues.description&row=${who.issueId}`;
  return [
    `project-members?project=${who.projectId}`,
    `users?project=${who.projectId}`,
    `issues?project=${who.projectId}`,
    `issue?id=${who.issueId}`,
    `comments?issue=${who.issueId}`,
    `comments?project=${who.projectId}`,
    `doc-updates?${field}`,
    `presence?${field}`,
  ];
};

/** Reads a shape to the end of its log: the answer that carries `electric-up-to-date`. */
async function caughtUp(path: string, auth: Record<string, string>) {
  let answer = await readShape(path, auth);
  for (let pages = 0; !answer.headers.has("electric-up-to-date"); pages++) {
    expect(pages).toBeLessThan(10);
    answer = await readShape(path, auth, resumeFrom(answer));
  }
  return answer;
}

/** The protocol params that continue after `answer`. */
const resumeFrom = (answer: ShapeAnswer) =>
  `offset=${answer.headers.get("electric-offset") ?? ""}&handle=${answer.headers.get("electric-handle") ?? ""}`;

describe("sign-in", () => {
  it("a signed-up user signs in (HttpOnly cookie and bearer token), and a signed-out session reads nothing", async () => {
    const response = await signInResponse(alice.email);
    expect(response.status).toBe(200);
    const setCookie = response.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/HttpOnly/i);
    const cookie = sessionCookie(response);
    expect((await readShape("memberships", { cookie })).status).toBe(200);

    const signOut = await fetch(`${stack.url}/api/auth/sign-out`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        origin: stack.url,
        cookie,
      },
      body: "{}",
    });
    expect(signOut.status).toBe(200);
    expect((await readShape("memberships", { cookie })).status).toBe(401);
    const session = await fetch(`${stack.url}/api/auth/get-session`, {
      headers: { cookie },
    });
    expect(await session.json()).toBeNull();
    // The other session of the same user is untouched.
    expect((await readShape("memberships", bearer(alice))).status).toBe(200);
  });

  it("a wrong password, or a sign-in posted from another origin with a cookie, is refused", async () => {
    expect((await signInResponse(alice.email, "not the password")).status).toBe(
      401,
    );
    const foreign = await fetch(`${stack.url}/api/auth/sign-in/email`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        origin: "http://evil.example",
        cookie: alice.cookie,
      },
      body: JSON.stringify({ email: alice.email, password: PASSWORD }),
    });
    expect(foreign.status).toBe(403);
  });

  it("an unsigned visitor is sent from a page to /sign-in", async () => {
    const page = await fetch(`${stack.url}/projects`, { redirect: "manual" });
    expect(page.status).toBe(307);
    expect(
      new URL(page.headers.get("location") ?? "", stack.url).pathname,
    ).toBe("/sign-in");
  });
});

describe("the shape proxy", () => {
  it("answers 401 to a request without a session, or with a forged or tampered cookie, for every shape", async () => {
    const [token, signature] = decodeURIComponent(
      alice.cookie.split("=")[1] ?? "",
    ).split(".");
    const forged: Record<string, string>[] = [
      {},
      { cookie: `better-auth.session_token=${token ?? ""}` },
      {
        cookie: `better-auth.session_token=${encodeURIComponent(`${randomUUID()}.${signature ?? ""}`)}`,
      },
      { authorization: `Bearer ${randomUUID()}` },
    ];
    for (const name of SHAPE_NAMES)
      for (const auth of forged) {
        const answer = await readShape(
          `${name}?project=${alice.projectId}`,
          auth,
        );
        expect([name, answer.status]).toEqual([name, 401]);
        expect(answer.body).not.toContain(alice.projectId);
      }
  });

  it("serves a member every shape of their project, the cookie and the bearer token alike", async () => {
    for (const path of ["memberships", "projects", ...shapesOf(alice)])
      for (const auth of [bearer(alice), { cookie: alice.cookie }]) {
        const answer = await readShape(path, auth);
        expect([path, answer.status]).toEqual([path, 200]);
      }
    const issues = await readShape(
      `issues?project=${alice.projectId}`,
      bearer(alice),
    );
    expect(issues.rows.map((row) => row.id)).toEqual([alice.issueId]);
  });

  it("answers a non-member 404 for every shape of another project, the same as for a project that does not exist", async () => {
    const missing = randomUUID();
    for (const path of [
      ...shapesOf(alice),
      `issues?project=${missing}`,
      `issue?id=${missing}`,
    ]) {
      const answer = await readShape(path, bearer(bob));
      expect([path, answer.status, answer.body]).toEqual([
        path,
        404,
        JSON.stringify({ message: "Not found" }),
      ]);
    }
  });

  it("builds table, where, params and columns itself: nothing a client adds to the URL widens what it reads", async () => {
    const other = alice.projectId;
    const tampered = [
      `issues?project=${bob.projectId}&table=issues&where=true&params[1]=${other}`,
      `issues?project=${bob.projectId}&where=project_id%20%3D%20'${other}'%20OR%20true`,
      `issues?project=${bob.projectId}&table=comments&columns=*`,
      `issues?project=${bob.projectId}&subset__where=true&subset__params=%7B%7D`,
      `issues?project=${bob.projectId}&secret=wrong&api_secret=wrong`,
      `memberships?table=project_members&where=true&user_id=${alice.id}`,
      `projects?where=true&params[1]=%7B${other}%7D&id=${other}`,
      `comments?issue=${bob.issueId}&project=${other}`,
      `doc-updates?field=issues.description&row=${bob.issueId}&table=doc_states`,
      `users?project=${bob.projectId}&columns=id,email&table=sessions`,
    ];
    for (const path of tampered) {
      const answer = await readShape(path, bearer(bob));
      expect(answer.body).not.toContain(other);
      expect(answer.body).not.toContain(alice.issueId);
      expect(answer.body).not.toContain(alice.email);
      expect(answer.body).not.toContain("Alice Adams's secret issue");
      if (answer.status === 200)
        for (const row of answer.rows)
          expect([path, row.project_id ?? bob.projectId]).toEqual([
            path,
            bob.projectId,
          ]);
      else expect([path, answer.status]).toEqual([path, 400]);
    }
    // Only public columns of users: never the email, in rows or in the schema.
    const users = await readShape(
      `users?project=${bob.projectId}&columns=id,email`,
      bearer(bob),
    );
    expect(users.rows).toHaveLength(1);
    expect(Object.keys(users.rows[0] ?? {}).sort()).toEqual([
      "created_at",
      "id",
      "image",
      "name",
      "updated_at",
    ]);
    expect(users.headers.get("electric-schema")).not.toContain("email");
    // The issue list leaves the (possibly long) description out; the one-issue shape has it.
    const issues = await readShape(
      `issues?project=${bob.projectId}`,
      bearer(bob),
    );
    expect(Object.keys(issues.rows[0] ?? {})).not.toContain("description");
    const issue = await readShape(`issue?id=${bob.issueId}`, bearer(bob));
    expect(Object.keys(issue.rows[0] ?? {})).toContain("description");
  });

  it("refuses bad arguments and unknown shapes with a clear 4xx", async () => {
    const cases: [string, number, string][] = [
      ["issues?project=not-a-uuid", 400, "must be a uuid"],
      ["issues", 400, "project"],
      [`comments?issue=${bob.issueId}&project=${bob.projectId}`, 400, "either"],
      [
        `doc-updates?field=users.email&row=${bob.issueId}`,
        400,
        "issues.description",
      ],
      ["sessions", 404, "No such shape"],
      ["__proto__", 404, "No such shape"],
    ];
    for (const [path, status, message] of cases) {
      const answer = await readShape(path, bearer(bob));
      expect([path, answer.status]).toEqual([path, status]);
      expect(answer.body).toContain(message);
    }
    const post = await fetch(`${stack.url}/api/shapes/memberships?offset=-1`, {
      method: "POST",
      headers: { ...bearer(bob), "content-type": "application/json" },
      body: "{}",
    });
    expect(post.status).toBe(405);
  });

  it("passes Electric's headers through, private to the user, and a stale handle's 409", async () => {
    const first = await readShape(
      `issues?project=${bob.projectId}`,
      bearer(bob),
    );
    expect(first.status).toBe(200);
    for (const header of [
      "electric-handle",
      "electric-offset",
      "electric-schema",
      "etag",
    ])
      expect([header, first.headers.get(header)]).not.toEqual([header, null]);
    const vary = first.headers.get("vary") ?? "";
    expect(vary).toMatch(/\bCookie\b/);
    expect(vary).toMatch(/\bAuthorization\b/);
    const cacheControl = first.headers.get("cache-control") ?? "";
    expect(cacheControl).toMatch(/\bprivate\b/);
    expect(cacheControl).not.toMatch(/\bpublic\b|s-maxage/);
    expect(first.headers.get("access-control-allow-origin")).toBeNull();

    // A browser revalidating what it cached: the etag goes up, the 304 comes back, bodiless.
    const revalidated = await fetch(
      `${stack.url}/api/shapes/issues?project=${bob.projectId}&offset=-1`,
      {
        headers: {
          ...bearer(bob),
          "if-none-match": first.headers.get("etag") ?? "",
        },
      },
    );
    expect(revalidated.status).toBe(304);
    expect(await revalidated.text()).toBe("");
    expect(revalidated.headers.get("vary")).toMatch(/\bAuthorization\b/);

    const stale = await readShape(
      `issues?project=${bob.projectId}`,
      bearer(bob),
      "offset=0_0&handle=no-such-handle",
    );
    expect(stale.status).toBe(409);
    expect(JSON.parse(stale.body)).toEqual([
      { headers: { control: "must-refetch" } },
    ]);
    expect(stale.headers.get("electric-handle")).toBe(
      first.headers.get("electric-handle"),
    );
  });

  it("streams a live long-poll: a write to the project arrives through the proxy", async () => {
    const controller = new AbortController();
    const seen: Message<Row>[] = [];
    const stream = new ShapeStream<Row>({
      url: `${stack.url}/api/shapes/comments?project=${bob.projectId}`,
      headers: bearer(bob),
      signal: controller.signal,
    });
    const errors: unknown[] = [];
    stream.subscribe(
      (batch) => {
        seen.push(...batch);
      },
      (error) => {
        errors.push(error);
      },
    );
    try {
      await waitFor(() => stream.isUpToDate, { timeoutMs: 20_000 });
      const id = randomUUID();
      const { txid } = await bob.api.comments.create.mutate(
        as(bob, {
          id,
          projectId: bob.projectId,
          issueId: bob.issueId,
          body: "arrives live",
          at: new Date(),
        }),
      );
      await waitFor(
        () =>
          seen.some(
            (message) => isChangeMessage(message) && message.value.id === id,
          ),
        { timeoutMs: 10_000 },
      );
      const change = seen.find(
        (message) => isChangeMessage(message) && message.value.id === id,
      );
      expect(change?.headers.txids).toEqual([txid]);
      expect(errors).toEqual([]);
    } finally {
      controller.abort();
    }
  });

  it("streams SSE through as events arrive, not when the response ends", async () => {
    const path = `comments?issue=${bob.issueId}`;
    // Catch up to the end of the log, then ask for the live stream from there.
    const answer = await caughtUp(path, bearer(bob));
    const controller = new AbortController();
    // The event stream's first bytes (headers included) come with its first event: the write
    // goes in while the request is open, before or after it reaches the sync server alike.
    const opened = fetch(
      `${stack.url}/api/shapes/${path}&${resumeFrom(answer)}&live=true&live_sse=true&cursor=0`,
      {
        headers: { ...bearer(bob), accept: "text/event-stream" },
        signal: controller.signal,
      },
    );
    try {
      const id = randomUUID();
      await bob.api.comments.create.mutate(
        as(bob, {
          id,
          projectId: bob.projectId,
          issueId: bob.issueId,
          body: "arrives as an event",
          at: new Date(),
        }),
      );
      // Well inside the sync server's 20 s SSE window: a buffered body would only come at its end.
      const deadline = Date.now() + 5_000;
      const within = <T>(promise: Promise<T>) =>
        Promise.race([
          promise,
          new Promise<never>((_, reject) =>
            setTimeout(
              () => reject(new Error("no event within 5 s of the write")),
              Math.max(0, deadline - Date.now()),
            ),
          ),
        ]);
      const response = await within(opened);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(
        /^text\/event-stream/,
      );
      expect(response.headers.get("vary")).toMatch(/\bAuthorization\b/);
      const reader = response.body?.getReader();
      if (!reader) throw new Error("no body");
      let text = "";
      const decoder = new TextDecoder();
      while (!text.includes(id)) {
        const { value, done } = await within(reader.read());
        expect(done).toBe(false);
        text += decoder.decode(value, { stream: true });
      }
      expect(text).toMatch(/^data: /m);
    } finally {
      controller.abort();
    }
  });

  it("ends the upstream request when its client goes away", async () => {
    const path = `issues?project=${bob.projectId}`;
    const answer = await caughtUp(path, bearer(bob));
    const handle = answer.headers.get("electric-handle") ?? "";
    const listeners = () =>
      stack.sync.shapes.getByHandle(handle)?.listenerCount ?? 0;
    const controller = new AbortController();
    const live = fetch(
      `${stack.url}/api/shapes/${path}&${resumeFrom(answer)}&live=true&live_sse=true&cursor=0`,
      { headers: bearer(bob), signal: controller.signal },
    ).catch(() => "aborted");
    await waitFor(() => listeners() === 1, { timeoutMs: 10_000 });
    controller.abort();
    expect(await live).toBe("aborted");
    // The sync server would hold an abandoned event stream for 20 s.
    await waitFor(() => listeners() === 0, { timeoutMs: 5_000 });
  });

  it("follows membership: a user added to a project reads it (their old projects handle answers 409), and reads nothing once removed", async () => {
    const before = await readShape("projects", bearer(bob));
    expect(before.rows.map((row) => row.id)).toEqual([bob.projectId]);

    const membershipId = randomUUID();
    await alice.api.members.add.mutate(
      as(alice, {
        id: membershipId,
        projectId: alice.projectId,
        userId: bob.id,
        role: "viewer",
        at: new Date(),
      }),
    );
    const resumed = await readShape(
      "projects",
      bearer(bob),
      resumeFrom(before),
    );
    expect(resumed.status).toBe(409);
    const after = await readShape("projects", bearer(bob));
    expect(after.rows.map((row) => row.id).sort()).toEqual(
      [alice.projectId, bob.projectId].sort(),
    );
    const issues = await readShape(
      `issues?project=${alice.projectId}`,
      bearer(bob),
    );
    expect(issues.rows.map((row) => row.id)).toEqual([alice.issueId]);

    await alice.api.members.remove.mutate(as(alice, { id: membershipId }));
    expect(
      (await readShape(`issues?project=${alice.projectId}`, bearer(bob)))
        .status,
    ).toBe(404);
    const removed = await readShape("projects", bearer(bob));
    expect(removed.body).not.toContain(alice.projectId);
  });
});

it("the sync server itself serves nothing without its secret", async () => {
  for (const query of [
    "table=issues&offset=-1",
    "table=issues&offset=-1&secret=wrong",
    "table=sessions&offset=-1",
  ]) {
    const response = await fetch(`${stack.sync.url}/v1/shape?${query}`);
    expect([query, response.status]).toEqual([query, 401]);
    expect(await response.text()).not.toContain(alice.projectId);
  }
});
