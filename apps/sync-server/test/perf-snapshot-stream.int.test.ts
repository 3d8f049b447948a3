/**
 * Initial sync is served while the snapshot runs: the first chunk is answered (its headers
 * sent, its rows streamed) while the snapshot is still being read, no response is up-to-date
 * before the snapshot has ended, and the rows arrive exactly once, in order, with writes made
 * during the sync following them.
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

const ROWS = 60_000;
const test = syncTest;
let many = "";

test.beforeAll(async ({ h, table }) => {
  many = await table("many (id int PRIMARY KEY, v text NOT NULL)");
  await h.sql.query(`
    INSERT INTO many SELECT g, 'row ' || g FROM generate_series(1, ${ROWS}) g;
  `);
});

interface Page {
  rows: number;
  upToDate: boolean;
  offset: string;
  /** Our server's state of the shape when the answer's headers arrived. */
  shapeState: string | undefined;
}

/** Reads a fresh shape over raw HTTP from offset -1 until up-to-date. */
async function readPages(
  h: Harness,
  where: string,
): Promise<{ pages: Page[]; ids: number[] }> {
  const pages: Page[] = [];
  const ids: number[] = [];
  let offset = "-1";
  let handle: string | undefined;
  for (let index = 0; index < 1000; index++) {
    const response = await fetch(
      h.shapeRequestUrl({
        table: many,
        where,
        offset,
        ...(handle ? { handle } : {}),
      }),
    );
    expect(response.status).toBe(200);
    const shapeState = h.server.shapes.getByHandle(
      response.headers.get("electric-handle") ?? "",
    )?.state;
    const messages = (await response.json()) as {
      key?: string;
      value?: { id: string };
      headers: { control?: string };
    }[];
    const rows = messages.filter((message) => message.key !== undefined);
    for (const row of rows) ids.push(Number(row.value?.id));
    const upToDate = response.headers.has("electric-up-to-date");
    pages.push({
      rows: rows.length,
      upToDate,
      offset: response.headers.get("electric-offset") ?? "",
      shapeState,
    });
    offset = response.headers.get("electric-offset") ?? "";
    handle = response.headers.get("electric-handle") ?? undefined;
    if (upToDate) break;
  }
  return { pages, ids };
}

describe("snapshot streaming", () => {
  test("the first chunk is answered while the snapshot runs; rows arrive once, in order", async ({
    h,
    skip,
  }) => {
    ourServerOnly({ skip }, "reads our server's shape registry");
    const { pages, ids } = await readPages(h, "id > 0");
    // The shape was created by the first request, whose answer started with the snapshot's
    // first cursor batch: its headers arrived while the rest of the table was still read.
    expect(pages[0]?.shapeState).toBe("snapshotting");
    expect(pages[0]?.offset).toBe("0_0");
    expect(pages.slice(0, -1).every((page) => !page.upToDate)).toBe(true);
    expect(pages.at(-1)?.upToDate).toBe(true);
    expect(ids).toEqual(Array.from({ length: ROWS }, (_, index) => index + 1));
  });

  test("the official client syncs a shape whose snapshot is running, with writes during it", async ({
    h,
  }) => {
    const recorded = record({
      url: h.shapeUrl,
      params: { table: many, where: "id > 1" },
    });
    // Written while the snapshot is (most likely) still being read: either in it or after it.
    await h.write("UPDATE many SET v = 'changed' WHERE id = 2");
    await h.write(`INSERT INTO many VALUES (${ROWS + 1}, 'new')`);
    await recorded.until(
      (messages) =>
        upToDateCount(messages) >= 1 &&
        changeMessages(messages).some(
          // The client parses int4 into a number.
          (message) => message.value.id === ROWS + 1,
        ),
    );
    recorded.stop();
    const rows = new Map<number, Record<string, unknown>>();
    for (const message of changeMessages(recorded.messages)) {
      const key = message.value.id as number;
      if (message.headers.operation === "insert") {
        expect(rows.has(key)).toBe(false);
        rows.set(key, { ...message.value });
      } else if (message.headers.operation === "update")
        rows.set(key, { ...rows.get(key), ...message.value });
    }
    expect(rows.size).toBe(ROWS);
    expect(rows.get(2)?.v).toBe("changed");
    expect(rows.get(ROWS + 1)?.v).toBe("new");
    expect(rows.has(1)).toBe(false);
  });
});
