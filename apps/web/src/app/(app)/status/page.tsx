import type { Metadata } from "next";

import { api } from "~/server/api";

export const metadata: Metadata = { title: "System status" };
// Reads the database on every request.
export const dynamic = "force-dynamic";

/** The stack as the server sees it, for whoever runs the app. */
export default async function StatusPage() {
  const status = await (await api()).system.status();
  const rows: [string, string][] = [
    ["PostgreSQL", status.postgresVersion],
    ["wal_level", status.walLevel],
    [
      "Migrations",
      `${status.migrations} applied (latest: ${status.latestMigration ?? "none"})`,
    ],
    ["Server time", status.serverTime.toISOString()],
  ];
  return (
    <div className="max-w-xl">
      <h1 className="text-xl font-semibold tracking-tight">System status</h1>
      <p className="mt-1 text-sm text-zinc-500">
        Reads arrive as live Electric shapes; writes go through typed tRPC
        mutations.
      </p>
      <dl className="mt-6 grid grid-cols-[max-content_1fr] gap-x-6 gap-y-2 rounded-lg border border-zinc-200 bg-white p-4 text-sm">
        {rows.map(([label, value]) => (
          <div key={label} className="contents">
            <dt className="font-medium text-zinc-500">{label}</dt>
            <dd className="text-zinc-900">{value}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}
