// @vitest-environment jsdom
/**
 * The React hooks in a DOM: a write renders in the same commit as the click, the synced row
 * takes its place without a frame in between, and a server-rendered list hydrates without a
 * mismatch from the rows and position the server used.
 */
import { act, cleanup, render } from "@testing-library/react";
import { hydrateRoot } from "react-dom/client";
import { renderToString } from "react-dom/server";
import { afterEach, expect, it, vi } from "vitest";

import type { Issue } from "@repo/schema";
import { mutations, mutationsByName } from "@repo/mutations";

import type { SyncClient } from "../client";
import type { MutationRequest } from "../transport";
import type { MutationResult } from "../types";
import { SyncProvider, useMutation, useShape, useSyncStatus } from ".";
import { createSyncClient } from "../client";
import { FakeBackend, USER_ID } from "../testing/fake-backend";

const PROJECT = "00000000-0000-4000-8000-0000000000aa";
const ISSUE = "00000000-0000-4000-8000-000000000001";
const byTitle = (a: Issue, b: Issue) => a.title.localeCompare(b.title);

interface Call {
  request: MutationRequest;
  resolve: (result: MutationResult) => void;
}

function setup() {
  const backend = new FakeBackend(mutationsByName);
  const calls: Call[] = [];
  const client = createSyncClient({
    mutations: mutationsByName,
    actor: { userId: USER_ID },
    shapeUrl: "http://sync.test/v1/shape",
    createStream: backend.createStream,
    transport: (request) =>
      new Promise((resolve) => calls.push({ request, resolve })),
    shapeLingerMs: 0,
  });
  return { backend, client, calls };
}

const settle = () =>
  act(async () => {
    for (let i = 0; i < 3; i++)
      await new Promise((resolve) => setImmediate(resolve));
  });

let clients: SyncClient[] = [];
afterEach(() => {
  cleanup();
  for (const client of clients) client.close();
  clients = [];
  vi.restoreAllMocks();
});

const renders: string[][] = [];

function IssueList(props: {
  initial?: { handle: string; offset: `${number}_${number}`; rows: Issue[] };
}) {
  const { rows, isPending } = useShape(
    { table: "issues", ...(props.initial && { initial: props.initial }) },
    { sort: byTitle },
  );
  const status = useSyncStatus();
  const create = useMutation(mutations.issues.create);
  renders.push(rows.map((row) => row.title));
  return (
    <div>
      <span data-testid="status">{status.pending} pending</span>
      <ul>
        {rows.map((row) => (
          <li key={row.id} data-pending={isPending(row.id)}>
            {row.title}
          </li>
        ))}
      </ul>
      <button
        onClick={() =>
          void create({
            id: ISSUE,
            projectId: PROJECT,
            title: "Written here",
            sortKey: "a0",
            at: new Date(Date.UTC(2026, 0, 1)),
          })
        }
      >
        add
      </button>
    </div>
  );
}

it("renders a write in the click's commit and swaps in the synced row without a frame in between", async () => {
  const { backend, client, calls } = setup();
  clients.push(client);
  const view = render(
    <SyncProvider client={client}>
      <IssueList />
    </SyncProvider>,
  );
  await settle();
  for (const stream of backend.streams) stream.deliver();
  await settle();

  act(() => view.getByText("add").click());
  expect(view.getByText("Written here").dataset.pending).toBe("true");
  expect(view.getByTestId("status").textContent).toBe("1 pending");
  const afterClick = renders.length - 1;

  await settle();
  const call = calls.shift();
  if (!call) throw new Error("the write was not sent");
  call.resolve(backend.execute(call.request));
  await settle();
  for (const stream of backend.streams) stream.deliver();
  await settle();

  expect(view.getByText("Written here").dataset.pending).toBe("false");
  expect(view.getByTestId("status").textContent).toBe("0 pending");
  for (const titles of renders.slice(afterClick))
    expect(titles).toEqual(["Written here"]);
});

it("hydrates a server-rendered list from its initial rows without a mismatch, then follows the stream", async () => {
  const rows: Issue[] = [
    {
      id: ISSUE,
      projectId: PROJECT,
      title: "Rendered on the server",
      description: "",
      status: "backlog",
      priority: "none",
      assigneeId: null,
      creatorId: USER_ID,
      sortKey: "a0",
      completedAt: null,
      createdAt: new Date(Date.UTC(2026, 0, 1)),
      updatedAt: new Date(Date.UTC(2026, 0, 1)),
    },
  ];
  const initial = { handle: "handle-1", offset: "0_0" as const, rows };
  const server = setup();
  clients.push(server.client);
  const html = renderToString(
    <SyncProvider client={server.client}>
      <IssueList initial={initial} />
    </SyncProvider>,
  );
  expect(server.backend.streams).toHaveLength(0); // the server render follows nothing
  expect(html).toContain("Rendered on the server");

  const errors = vi.spyOn(console, "error");
  const browser = setup();
  clients.push(browser.client);
  const container = document.createElement("div");
  container.innerHTML = html;
  document.body.appendChild(container);
  await act(async () => {
    hydrateRoot(
      container,
      <SyncProvider client={browser.client}>
        <IssueList initial={initial} />
      </SyncProvider>,
    );
  });
  expect(errors).not.toHaveBeenCalled();
  expect(container.textContent).toContain("Rendered on the server");
  // The stream resumes from the server's position (one stream, handed the handle and offset).
  expect(browser.backend.streamOptions).toMatchObject([
    { handle: "handle-1", offset: "0_0", params: { table: "issues" } },
  ]);
  container.remove();
});
