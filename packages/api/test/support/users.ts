/**
 * Real users with real sessions, and callers that authenticate as them with
 * `Authorization: Bearer <token>` through the real resolver.
 */
import { randomBytes, randomUUID } from "node:crypto";

import type { Db } from "@repo/db";
import type { MutationName } from "@repo/mutations";

import {
  createBearerSessionResolver,
  createCaller,
  createTRPCContext,
} from "../../src";

export type Caller = ReturnType<typeof createCaller>;

export interface TestUser {
  id: string;
  name: string;
  token: string;
  clientId: string;
  /** Next mutation id of this user's client. */
  nextMutationId: number;
  caller: Caller;
}

/** A user with an unexpired session, and a caller authenticated as them. */
export async function createUser(db: Db, name: string): Promise<TestUser> {
  const token = randomBytes(24).toString("base64url");
  const user = await db.user.create({
    data: {
      name,
      email: `${name.toLowerCase()}-${randomUUID()}@example.com`,
      sessions: {
        create: { token, expiresAt: new Date(Date.now() + 3_600_000) },
      },
    },
  });
  return {
    id: user.id,
    name,
    token,
    clientId: randomUUID(),
    nextMutationId: 1,
    caller: await callerFor(db, { authorization: `Bearer ${token}` }),
  };
}

export async function callerFor(
  db: Db,
  headers: Record<string, string>,
): Promise<Caller> {
  return createCaller(
    await createTRPCContext({
      db,
      headers: new Headers(headers),
      resolveSession: createBearerSessionResolver(db),
    }),
  );
}

type Procedure = (input: unknown) => Promise<{ data: unknown; txid: number }>;

/** The caller's procedure of a mutation name (`issues.create` → caller.issues.create). */
export function procedureOf(caller: Caller, name: MutationName): Procedure {
  const [group, procedure] = name.split(".") as [string, string];
  const router = Reflect.get(caller, group) as Record<string, Procedure>;
  const fn = router[procedure];
  if (!fn) throw new Error(`no procedure ${name}`);
  return fn;
}

/** Calls a mutation as `user` with the user's next mutation id. */
export function mutate(user: TestUser, name: MutationName, args: unknown) {
  return procedureOf(
    user.caller,
    name,
  )({
    clientId: user.clientId,
    mutationId: user.nextMutationId++,
    args,
  });
}

/** Fresh client-generated ids and a timestamp, as a client would send them. */
export const newId = () => randomUUID();
let clock = Date.parse("2026-03-01T00:00:00.000Z");
/** Strictly increasing timestamps (ms precision, as timestamptz(3) stores them). */
export const tick = () => new Date((clock += 1_000));
