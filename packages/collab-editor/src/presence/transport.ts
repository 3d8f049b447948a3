import type { LeavePresenceInput, UpdatePresenceInput } from "@repo/schema";

interface Call<TArgs> {
  /** The tab's presence id: each tab is a client of its own, its calls numbered from 1. */
  clientId: string;
  mutationId: number;
  args: TArgs;
}

/** How presence calls reach the api (`presence.update`, `presence.leave`). */
export interface PresenceTransport {
  update(call: Call<UpdatePresenceInput>): Promise<unknown>;
  leave(call: Call<LeavePresenceInput>): Promise<unknown>;
}

interface MutateProcedure<TArgs> {
  mutate(call: Call<TArgs>): Promise<unknown>;
}

/**
 * The presence procedures of a `@trpc/client` proxy of the app's router.
 *
 * @example
 * const transport = trpcPresenceTransport(createTRPCClient<AppRouter>({ links }));
 */
export function trpcPresenceTransport(client: {
  presence: {
    update: MutateProcedure<UpdatePresenceInput>;
    leave: MutateProcedure<LeavePresenceInput>;
  };
}): PresenceTransport {
  return {
    update: (call) => client.presence.update.mutate(call),
    leave: (call) => client.presence.leave.mutate(call),
  };
}

/**
 * For readers who may not publish (viewers; the api would refuse): the binding still follows
 * the others' presence rows, so they see who is editing and where, and sends nothing.
 */
export const followOnlyPresenceTransport: PresenceTransport = {
  update: () => Promise.resolve(),
  leave: () => Promise.resolve(),
};

/** Codes after which publishing again cannot succeed (tRPC's `error.data.code`). */
const DEFINITIVE = new Set(["BAD_REQUEST", "FORBIDDEN", "NOT_FOUND"]);

/** A refusal the api will repeat (not allowed, no such document, invalid input). */
export function isDefinitiveRefusal(error: unknown): boolean {
  const code = (error as { data?: { code?: unknown } } | null)?.data?.code;
  return typeof code === "string" && DEFINITIVE.has(code);
}
