import { LeavePresenceInput, UpdatePresenceInput } from "@repo/schema";

import { defineMutation } from "./define";

/**
 * Presence writes are ephemeral and never queued in the outbox: a cursor replayed after a
 * reconnect would be stale, and the next heartbeat says the truth anyway. So they have no
 * optimistic rows either (the local awareness state is the client's own view); their reducers
 * predict nothing, and they stay out of `mutations`/`mutationsByName`, which list what an
 * outbox may replay.
 */
const updatePresence = defineMutation({
  name: "presence.update",
  input: UpdatePresenceInput,
  reduce: () => [],
});

const leavePresence = defineMutation({
  name: "presence.leave",
  input: LeavePresenceInput,
  reduce: () => [],
});

/** The presence procedures' definitions (`presence.update`, `presence.leave`). */
export const presenceMutations = {
  update: updatePresence,
  leave: leavePresence,
} as const;
