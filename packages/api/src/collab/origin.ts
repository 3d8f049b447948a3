/**
 * The id that an api runtime's writes to a document's log carry (`doc_updates.origin`). Its
 * relay hands those rows to followers at commit, so its feed of the log (log-feed.ts) leaves
 * them out: the feed brings only what other processes and scripts wrote, and nothing comes
 * twice. One per database client, as the relay is (relay.ts `relayOf`).
 */
import { randomUUID } from "node:crypto";

import type { Db } from "@repo/db";

const origins = new WeakMap<Db, string>();

export function originOf(db: Db): string {
  let origin = origins.get(db);
  if (!origin) origins.set(db, (origin = randomUUID()));
  return origin;
}
