import { presenceMutations } from "@repo/mutations";
import { PRESENCE, presenceUser } from "@repo/schema";

import { forbidden } from "../errors";
import { mutationProcedure } from "../mutation/procedure";
import { requirePresenceWriter } from "../presence/authorize";
import { createTRPCRouter } from "../trpc";

/**
 * Presence rows: one per editor tab, renewed by each update (the heartbeat), removed on leave
 * or by the cleanup job once the lease ran out. Clients call these directly, never through the
 * outbox (see @repo/mutations' presence.ts).
 */
export const presenceRouter = createTRPCRouter({
  update: mutationProcedure(
    presenceMutations.update,
    async ({ sql, args, user, clientId }) => {
      await requirePresenceWriter(sql, args.field, args.rowId, user.id);
      const state = { ...args.state, user: presenceUser(user) };
      // The lease runs on the database's clock, the one the cleanup job compares with. The
      // mutation log already refuses another user's client id; the WHERE holds it here too.
      const [row] = await sql<{ expires_at: Date }>(
        `INSERT INTO presence (client_id, field, row_id, user_id, state, expires_at, updated_at)
         VALUES ($1::uuid, $2, $3::uuid, $4::uuid, $5::jsonb,
                 now() + make_interval(secs => $6::float8), now())
         ON CONFLICT (client_id) DO UPDATE
           SET field = EXCLUDED.field, row_id = EXCLUDED.row_id, state = EXCLUDED.state,
               expires_at = EXCLUDED.expires_at, updated_at = EXCLUDED.updated_at
           WHERE presence.user_id = EXCLUDED.user_id
         RETURNING expires_at`,
        [
          clientId,
          args.field,
          args.rowId,
          user.id,
          JSON.stringify(state),
          PRESENCE.leaseMs / 1000,
        ],
        "api_presence_upsert",
      );
      if (!row) throw forbidden("This client id belongs to another user");
      return { expiresAt: row.expires_at };
    },
  ),

  /** Idempotent: leaving twice, or after the lease ran out, deletes nothing and succeeds. */
  leave: mutationProcedure(
    presenceMutations.leave,
    async ({ sql, user, clientId }) => {
      const rows = await sql(
        `DELETE FROM presence WHERE client_id = $1::uuid AND user_id = $2::uuid
         RETURNING client_id`,
        [clientId, user.id],
        "api_presence_leave",
      );
      return { left: rows.length > 0 };
    },
  ),
});
