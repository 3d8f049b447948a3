import { api } from "~/server/api";

// Reads the database on every request.
export const dynamic = "force-dynamic";

export default async function HomePage() {
  const status = await (await api()).system.status();
  return (
    <main>
      <h1>Tracker</h1>
      <p>
        Reads arrive as live Electric shapes; writes go through typed tRPC
        mutations.
      </p>
      <h2>Stack status</h2>
      <dl>
        <dt>PostgreSQL</dt>
        <dd>{status.postgresVersion}</dd>
        <dt>wal_level</dt>
        <dd>{status.walLevel}</dd>
        <dt>Migrations</dt>
        <dd>
          {status.migrations} applied (latest:{" "}
          {status.latestMigration ?? "none"})
        </dd>
        <dt>Server time</dt>
        <dd>{status.serverTime.toISOString()}</dd>
      </dl>
    </main>
  );
}
