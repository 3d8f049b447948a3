import { createTRPCRouter, publicProcedure } from "../trpc";

export const systemRouter = createTRPCRouter({
  /** What the stack looks like from the server: database reachable, schema version. */
  status: publicProcedure.query(async ({ ctx }) => {
    const [row] = await ctx.db.$queryRaw<
      {
        version: string;
        wal_level: string;
        migrations: bigint;
        latest: string | null;
      }[]
    >`SELECT current_setting('server_version') AS version,
             current_setting('wal_level') AS wal_level,
             count(*) AS migrations,
             max(migration_name) AS latest
        FROM "_prisma_migrations"
       WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`;
    return {
      postgresVersion: row?.version ?? "unknown",
      walLevel: row?.wal_level ?? "unknown",
      migrations: Number(row?.migrations ?? 0),
      latestMigration: row?.latest ?? null,
      serverTime: new Date(),
    };
  }),
});
