/**
 * The initial snapshot in chunks, numbered as Electric numbers them (SPEC.md "Offsets and
 * chunks", I13): the `offset=-1` answer is the first chunk (`0_0`) and nothing else, so it can
 * be cached for a week; each following request gets the next chunk (`0_1`, `0_2`, …) until the
 * snapshot's last, which ends with `snapshot-end`; after it the log continues past `0_inf`,
 * where `up-to-date` is first sent. Checked over raw HTTP, as a CDN in front of the server
 * would see it.
 */
import { describe, expect } from "vitest";

import type { Harness } from "./support/harness";
import { syncTest } from "./support/fixture";
import {
  changeMessages,
  ourServerOnly,
  record,
  upToDateCount,
} from "./support/harness";

/** Small chunks, so a table of a few hundred rows spans several. */
const CHUNK_BYTES = 16 * 1024;
const ROWS = 600;

const test = syncTest.override("serverOptions", { chunkBytes: CHUNK_BYTES });

let rows = "";
let notes = "";

test.beforeAll(async ({ h, table }) => {
  rows = await table("rows (id int PRIMARY KEY, padding text NOT NULL)");
  // About 100 bytes of JSON per row: ~60 KB, four chunks of 16 KB.
  await h.sql.query(
    `INSERT INTO rows SELECT g, repeat('x', 40) FROM generate_series(1, ${ROWS}) g`,
  );
  notes = await table("notes (id int PRIMARY KEY, body text NOT NULL)");
  await h.sql.query("INSERT INTO notes VALUES (1, 'a'), (2, 'b'), (3, 'c')");
});

interface Answer {
  status: number;
  handle: string;
  offset: string;
  etag: string;
  cacheControl: string;
  upToDateHeader: boolean;
  text: string;
  messages: {
    key?: string;
    value?: Record<string, string>;
    headers: { control?: string; lsn?: string; txids?: number[] };
  }[];
}

async function get(
  h: Harness,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(h.shapeRequestUrl(params), { headers });
  const text = await response.text();
  return {
    status: response.status,
    handle: response.headers.get("electric-handle") ?? "",
    offset: response.headers.get("electric-offset") ?? "",
    etag: response.headers.get("etag") ?? "",
    cacheControl: response.headers.get("cache-control") ?? "",
    upToDateHeader: response.headers.has("electric-up-to-date"),
    text,
    messages: text === "" ? [] : (JSON.parse(text) as Answer["messages"]),
  };
}

/** Follows a shape from `-1` with plain requests until up-to-date; every answer, in order. */
async function readToUpToDate(h: Harness, table: string): Promise<Answer[]> {
  const answers: Answer[] = [];
  let offset = "-1";
  let handle: string | undefined;
  for (let index = 0; index < 100; index++) {
    const answer = await get(h, {
      table,
      offset,
      ...(handle ? { handle } : {}),
    });
    expect(answer.status).toBe(200);
    answers.push(answer);
    if (answer.upToDateHeader) return answers;
    offset = answer.offset;
    handle = answer.handle;
  }
  throw new Error("no up-to-date after 100 requests");
}

const isControl = (control: string) => (message: Answer["messages"][number]) =>
  message.headers.control === control;

describe("offset=-1", () => {
  test("the offset=-1 response of a handle never changes", async ({ h }) => {
    const first = await get(h, { table: notes, offset: "-1" });
    expect(first.status).toBe(200);
    expect(first.offset).toBe("0_0");
    expect(first.cacheControl).toContain("max-age=604800");
    // The first chunk and nothing else: no up-to-date, no entry of the live log.
    expect(first.upToDateHeader).toBe(false);
    expect(first.messages.some(isControl("up-to-date"))).toBe(false);
    expect(first.messages.some((message) => message.headers.lsn)).toBe(false);

    // Writes after the snapshot reach the log (a client sees them) …
    const recorded = record({ url: h.shapeUrl, params: { table: notes } });
    await recorded.until((messages) => upToDateCount(messages) >= 1);
    await h.write(
      "INSERT INTO notes VALUES (4, 'd')",
      "UPDATE notes SET body = 'B' WHERE id = 2",
    );
    await recorded.until((messages) =>
      changeMessages(messages).some((message) => message.value.id === 4),
    );
    recorded.stop();

    // … and the same URL still answers the same bytes under the same etag.
    const again = await get(h, { table: notes, offset: "-1" });
    expect(again.handle).toBe(first.handle);
    expect(again.offset).toBe("0_0");
    expect(again.etag).toBe(first.etag);
    expect(again.text).toBe(first.text);
    const cached = await get(
      h,
      { table: notes, offset: "-1" },
      { "if-none-match": first.etag },
    );
    expect(cached.status).toBe(304);
  });
});

describe("snapshot chunks", () => {
  test("snapshot chunks are numbered 0_0, 0_1, … and the log goes on past 0_inf", async ({
    h,
  }) => {
    const answers = await readToUpToDate(h, rows);
    const snapshot = answers.slice(0, -1);
    const last = answers.at(-1);
    expect(snapshot.map((answer) => answer.offset)).toEqual(
      snapshot.map((_, index) => `0_${index}`),
    );
    // No snapshot answer is up-to-date; only the last snapshot chunk has snapshot-end.
    for (const answer of snapshot) {
      expect(answer.upToDateHeader).toBe(false);
      expect(answer.messages.some(isControl("up-to-date"))).toBe(false);
    }
    expect(
      snapshot.map((answer) => answer.messages.some(isControl("snapshot-end"))),
    ).toEqual(snapshot.map((_, index) => index === snapshot.length - 1));
    // The answer after the snapshot: nothing more, up-to-date, at the end of the snapshot.
    expect(last?.offset).toBe("0_inf");
    expect(last?.messages.map((message) => message.headers.control)).toEqual([
      "up-to-date",
    ]);
    const ids = snapshot.flatMap((answer) =>
      answer.messages.flatMap((message) =>
        message.value ? [Number(message.value.id)] : [],
      ),
    );
    expect(ids.sort((a, b) => a - b)).toEqual(
      Array.from({ length: ROWS }, (_, index) => index + 1),
    );
  });

  test("a snapshot chunk holds about ELECTRIC_SHAPE_CHUNK_BYTES_THRESHOLD of rows", async ({
    h,
    skip,
  }) => {
    ourServerOnly({ skip }, "runs with a 16 KB chunk threshold");
    const answers = await readToUpToDate(h, rows);
    const snapshot = answers.slice(0, -1);
    expect(snapshot.length).toBeGreaterThanOrEqual(3);
    // Each chunk closes with the row that reaches the threshold (as in Electric), so all but
    // the last are at least the threshold and at most one row more.
    for (const answer of snapshot.slice(0, -1)) {
      const rowBytes = answer.messages.reduce(
        (sum, message) => sum + JSON.stringify(message).length + 1,
        0,
      );
      expect(rowBytes).toBeGreaterThanOrEqual(CHUNK_BYTES);
      expect(rowBytes).toBeLessThan(CHUNK_BYTES + 200);
    }
  });

  test("an offset past the last snapshot chunk reads on from the end of the snapshot", async ({
    h,
  }) => {
    const answers = await readToUpToDate(h, rows);
    const handle = answers[0]?.handle ?? "";
    const lastChunk = answers.at(-2)?.offset ?? "";
    const fromLastChunk = await get(h, {
      table: rows,
      handle,
      offset: lastChunk,
    });
    for (const offset of ["0_inf", "0_999"]) {
      const answer = await get(h, { table: rows, handle, offset });
      expect(answer.status).toBe(200);
      expect(answer.offset).toBe(fromLastChunk.offset);
      // The same entries (up-to-date carries the server's current position, which moves).
      expect(
        answer.messages.filter((m) => !isControl("up-to-date")(m)),
      ).toEqual(
        fromLastChunk.messages.filter((m) => !isControl("up-to-date")(m)),
      );
      expect(answer.upToDateHeader).toBe(fromLastChunk.upToDateHeader);
    }
  });
});

describe("If-None-Match", () => {
  test("an unchanged chunk answers 304 for its etag, a made-up offset inside the log included", async ({
    h,
  }) => {
    const snapshot = await readToUpToDate(h, notes);
    const handle = snapshot[0]?.handle ?? "";
    // A three-row transaction: ops 0, 2 and 4 of one commit.
    const recorded = record({ url: h.shapeUrl, params: { table: notes } });
    await recorded.until((messages) => upToDateCount(messages) >= 1);
    await h.write(
      "INSERT INTO notes VALUES (10, 'x'), (11, 'y'), (12, 'z') ON CONFLICT DO NOTHING",
    );
    await recorded.until((messages) =>
      changeMessages(messages).some((message) => message.value.id === 12),
    );
    recorded.stop();
    const lsn = changeMessages(recorded.messages).find(
      (message) => message.value.id === 12,
    )?.headers.lsn;
    if (typeof lsn !== "string") throw new Error("the change carries no lsn");
    for (const offset of ["-1", "0_0", "0_inf", `${lsn}_0`, `${lsn}_1`]) {
      const params = {
        table: notes,
        offset,
        ...(offset === "-1" ? {} : { handle }),
      };
      const fresh = await get(h, params);
      expect(fresh.status).toBe(200);
      const revalidated = await get(h, params, {
        "if-none-match": `"other", ${fresh.etag}`,
      });
      expect([offset, revalidated.status]).toEqual([offset, 304]);
      expect(revalidated.text).toBe("");
    }
    // A chunk that grew since is sent again.
    const before = await get(h, { table: notes, handle, offset: `${lsn}_1` });
    await h.write("INSERT INTO notes VALUES (13, 'w')");
    await expect
      .poll(
        async () =>
          (
            await get(
              h,
              { table: notes, handle, offset: `${lsn}_1` },
              { "if-none-match": before.etag },
            )
          ).status,
        { timeout: 5_000 },
      )
      .toBe(200);
  });
});

describe("forceDisconnectAndRefresh", () => {
  test("a forced refresh catches up with a non-live request, then changes arrive once", async ({
    h,
  }) => {
    const started: string[] = [];
    const answered = new Map<string, Response>();
    let liveRequested = () => undefined as void;
    const live = new Promise<void>((resolve) => (liveRequested = resolve));
    const fetchClient: typeof fetch = async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      started.push(url);
      if (new URL(url).searchParams.get("live") === "true") liveRequested();
      const response = await fetch(input, init);
      answered.set(url, response);
      return response;
    };
    const recorded = record({
      url: h.shapeUrl,
      params: { table: notes },
      fetchClient,
    });
    await recorded.until((messages) => upToDateCount(messages) >= 1);
    // Once the client holds a live request, as an app calling it would find it.
    await live;
    const before = started.length;
    await recorded.stream.forceDisconnectAndRefresh();
    await h.write("INSERT INTO notes VALUES (20, 'after refresh')");
    await recorded.until((messages) =>
      changeMessages(messages).some((message) => message.value.id === 20),
    );
    recorded.stop();
    // The refresh is a non-live catch-up from the same handle and offset, answered at once
    // with up-to-date.
    const catchUp = started[before];
    expect(catchUp).toBeDefined();
    const query = new URL(catchUp ?? "").searchParams;
    expect(query.has("live")).toBe(false);
    expect(query.get("handle")).toBeTruthy();
    const answer = answered.get(catchUp ?? "");
    expect(answer?.status).toBe(200);
    expect(answer?.headers.has("electric-up-to-date")).toBe(true);
    for (const url of started.slice(before))
      expect(answered.get(url)?.status ?? 200).toBe(200);
    const inserted = changeMessages(recorded.messages).filter(
      (message) => message.value.id === 20,
    );
    expect(inserted).toHaveLength(1);
    expect(
      recorded.messages.some(
        (message) =>
          "control" in message.headers &&
          message.headers.control === "must-refetch",
      ),
    ).toBe(false);
  });
});
