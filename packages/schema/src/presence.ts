import { z } from "zod";

import { CollabFieldKeySchema } from "./docs";

/**
 * Presence: who is editing a collaborative field, and where their cursor is. One short-lived
 * `presence` row per editor tab holds its Yjs awareness state; the server renews its lease on
 * every `presence.update` (a heartbeat), deletes it on `presence.leave`, and a cleanup job
 * deletes rows whose lease ran out (crashed tabs).
 */
export const PRESENCE = {
  /** How long a row lives without a heartbeat. */
  leaseMs: 30_000,
  /** Clients renew their lease this often (a third of it: two heartbeats may be lost). */
  heartbeatMs: 10_000,
  /** Most characters of a user name shown beside a remote caret. */
  nameChars: 64,
} as const;

/** A Yjs struct id: a client (uint32) and its clock. */
const YIdSchema = z.strictObject({
  client: z.int().min(0).max(0xffff_ffff),
  clock: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
});

/**
 * A `Y.RelativePosition` as JSON (every field present, as `JSON.stringify` of one writes it).
 * Bounded by construction: a few numbers and a root type name.
 */
export const RelativePositionSchema = z.strictObject({
  type: YIdSchema.nullable(),
  // Printable ASCII: a root type's name (jsonb refuses \u0000, which would be a 500, not a 400).
  tname: z
    .string()
    .max(64)
    .regex(/^[\x20-\x7e]*$/)
    .nullable(),
  item: YIdSchema.nullable(),
  assoc: z.int().min(-1).max(1),
});
export type RelativePositionJson = z.infer<typeof RelativePositionSchema>;

/** The selection y-codemirror.next publishes (`awareness.cursor`); null while unfocused. */
export const PresenceCursorSchema = z
  .strictObject({
    anchor: RelativePositionSchema,
    head: RelativePositionSchema,
  })
  .nullable();
export type PresenceCursor = z.infer<typeof PresenceCursorSchema>;

/**
 * What a client publishes: its awareness id (the Yjs `doc.clientID`, which remote clients key
 * its state by) and its selection. Name and colour are not the client's to say: the server
 * adds them from the session (`PresenceState.user`), so nobody shows up under another's name.
 */
export const PresenceStateInput = z.strictObject({
  awarenessId: z.int().min(0).max(0xffff_ffff),
  cursor: PresenceCursorSchema,
});
export type PresenceStateInput = z.infer<typeof PresenceStateInput>;

/**
 * `presence.update`: publish (or renew) this tab's presence on one field of one row. The row's
 * key is the call's client id: each editor tab is a client of its own.
 */
export const UpdatePresenceInput = z.strictObject({
  field: CollabFieldKeySchema,
  rowId: z.guid(),
  state: PresenceStateInput,
});
export type UpdatePresenceInput = z.infer<typeof UpdatePresenceInput>;

/** `presence.leave`: this tab (the call's client id) stopped editing. */
export const LeavePresenceInput = z.strictObject({});
export type LeavePresenceInput = z.infer<typeof LeavePresenceInput>;

/** The user fields y-codemirror.next draws a remote caret with. */
export const PresenceUserSchema = z.strictObject({
  name: z.string().max(PRESENCE.nameChars),
  color: z.string().regex(/^#[0-9a-f]{6}$/),
  colorLight: z.string().regex(/^#[0-9a-f]{8}$/),
});
export type PresenceUser = z.infer<typeof PresenceUserSchema>;

/** The stored awareness state (`presence.state`): the client's part plus the server's `user`. */
export const PresenceStateSchema = PresenceStateInput.extend({
  user: PresenceUserSchema,
});
export type PresenceState = z.infer<typeof PresenceStateSchema>;

/** A `presence` row as a shape delivers it (camelCase, timestamps as `Date`). */
export const PresenceRowSchema = z.object({
  clientId: z.guid(),
  field: z.string(),
  rowId: z.guid(),
  userId: z.guid(),
  state: PresenceStateSchema,
  expiresAt: z.date(),
  updatedAt: z.date(),
});
export type PresenceRow = z.infer<typeof PresenceRowSchema>;

/** Caret colours with at least 4.5:1 contrast on white (WCAG AA) and distinct hues. */
const PALETTE = [
  "#b91c1c",
  "#c2410c",
  "#a16207",
  "#15803d",
  "#0f766e",
  "#0369a1",
  "#1d4ed8",
  "#6d28d9",
  "#a21caf",
  "#be123c",
] as const;

/**
 * A user's caret colour, the same on every client (a hash of the user id), with a
 * translucent variant for their selection.
 */
export function presenceUser(user: { id: string; name: string }): PresenceUser {
  let hash = 0;
  for (const char of user.id) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  const color = PALETTE[hash % PALETTE.length] ?? PALETTE[0];
  return {
    name: [...user.name].slice(0, PRESENCE.nameChars).join(""),
    color,
    colorLight: `${color}33`,
  };
}
