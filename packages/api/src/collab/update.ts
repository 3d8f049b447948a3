/**
 * `docs.update`: a call whose update passes the structural check joins its document's queue
 * and is written with the calls that queued beside it (group-commit.ts); anything the batch
 * passes over, or a malformed update, runs alone through the usual mutation path
 * (`runMutationCall` with `writeDocUpdate`), which refuses and records it as before. What
 * commits is handed to the document's followers on this process (relay.ts).
 */
import type { Db } from "@repo/db";
import type { DocUpdateInput, RelayedDocUpdate } from "@repo/schema";
import { docMutations } from "@repo/mutations";
import { DOC_TEXT_NAME } from "@repo/schema";

import type { MutationResult } from "../mutation/procedure";
import type { SessionUser } from "../trpc";
import type { DocCall } from "./group-commit";
import { toTRPCError } from "../errors";
import { runMutationCall } from "../mutation/procedure";
import { BatchQueue } from "./batch-queue";
import { checkTextUpdate } from "./check-update";
import { docLockKey } from "./fields";
import { writeBatch } from "./group-commit";
import { originOf } from "./origin";
import { relayOf } from "./relay";
import { writeDocUpdate } from "./write";
import { fromBase64 } from "./ydoc";

interface Context {
  db: Db;
  user: SessionUser;
}
type Result = MutationResult<{ id: string }>;
interface Envelope {
  clientId: string;
  mutationId: number;
  args: DocUpdateInput;
}

interface Queued extends DocCall {
  db: Db;
  /** Failed the structural check: refused alone, in its client's order. */
  malformed: boolean;
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
}

/** A batch's limits: a transaction of a few MB at most, and a bounded wait for its locks. */
const LIMITS = {
  maxItems: 200,
  maxSize: 4 * 1024 * 1024,
  sizeOf: (call: Queued) => call.args.update.length,
};

const queues = new WeakMap<Db, BatchQueue<Queued>>();

export function updateDoc(ctx: Context, input: Envelope): Promise<Result> {
  const update = fromBase64(input.args.update);
  // A malformed update still queues: its refusal is recorded in its client's order, after the
  // calls that client sent before it (recorded first, it would make those out of order).
  let malformed = false;
  try {
    checkTextUpdate(update, DOC_TEXT_NAME);
  } catch {
    malformed = true;
  }
  let queue = queues.get(ctx.db);
  if (!queue) queues.set(ctx.db, (queue = newQueue()));
  const { field, rowId } = input.args;
  const joining = queue;
  return new Promise<Result>((resolve, reject) =>
    joining.add(docLockKey(field, rowId), {
      ...input,
      user: ctx.user,
      update,
      db: ctx.db,
      malformed,
      resolve,
      reject,
    }),
  );
}

function newQueue(): BatchQueue<Queued> {
  return new BatchQueue<Queued>(runBatch, LIMITS, (batch, error) => {
    for (const call of batch) call.reject(toTRPCError(error));
  });
}

async function runBatch(_key: string, queued: Queued[]): Promise<void> {
  const calls = inClientOrder(queued);
  const [first] = calls;
  if (!first) return;
  const { field, rowId } = first.args;
  // A malformed call and its client's later ones (which may build on it) run alone.
  const spoiled = new Set<string>();
  const batch = calls.filter((call) => {
    if (call.malformed) spoiled.add(call.clientId);
    return !spoiled.has(call.clientId);
  });
  // A failed batch writes nothing: each call then gets its own answer from the usual path.
  const result =
    batch.length > 0
      ? await writeBatch(first.db, field, rowId, batch).catch(() => null)
      : null;
  const ids = new Map<Queued, bigint | null>();
  for (const [index, call] of batch.entries())
    ids.set(call, result?.written[index] ?? null);
  const alone: Queued[] = [];
  const written: { call: Queued; id: string }[] = [];
  for (const call of calls) {
    const id = ids.get(call);
    if (typeof id === "bigint") written.push({ call, id: id.toString() });
    else alone.push(call);
  }
  // Committed: the document's followers may see them now, before their writers' answers.
  const relay = relayOf(first.db);
  relay.publish(
    field,
    rowId,
    written.map(({ call, id }) => relayed(call, id)),
  );
  if (result)
    for (const { call, id } of written)
      call.resolve({ data: { id }, txid: result.txid });
  // In order, before the next batch: a client's later calls may build on these.
  for (const call of alone) {
    const answer = await runAlone({ db: call.db, user: call.user }, call).then(
      (done) => ({ done }),
      (error: unknown) => ({ error }),
    );
    if ("error" in answer) {
      call.reject(answer.error);
      continue;
    }
    // A replay relays its update again: harmless (applying it twice changes nothing).
    relay.publish(field, rowId, [relayed(call, answer.done.data.id)]);
    call.resolve(answer.done);
  }
}

const relayed = (call: Queued, id: string): RelayedDocUpdate => ({
  id,
  clientId: call.clientId,
  update: call.args.update,
});

function runAlone(ctx: Context, input: Envelope): Promise<Result> {
  return runMutationCall(
    ctx,
    docMutations.update,
    input,
    async ({ sql, args, user, clientId }) => {
      const id = await writeDocUpdate(sql, {
        key: args.field,
        rowId: args.rowId,
        update: fromBase64(args.update),
        userId: user.id,
        clientId,
        origin: originOf(ctx.db),
      });
      return { id: id.toString() };
    },
  );
}

/**
 * The batch with each client's calls in mutation-id order, in the slots its calls arrived in
 * (a client's batched HTTP calls may start in any order; other clients keep theirs).
 */
function inClientOrder(calls: readonly Queued[]): Queued[] {
  const byClient = new Map<string, Queued[]>();
  for (const call of calls) {
    const own = byClient.get(call.clientId);
    if (own) own.push(call);
    else byClient.set(call.clientId, [call]);
  }
  for (const own of byClient.values())
    own.sort((a, b) => a.mutationId - b.mutationId);
  return calls.map((call) => byClient.get(call.clientId)?.shift() ?? call);
}
