/**
 * `@repo/sync/react`: hooks over `useSyncExternalStore`, so a render always shows one consistent
 * view (synced rows ⊕ pending writes) and re-renders only when it changed.
 *
 * @example
 * const { rows } = useShape({ table: "issues", where: "project_id = $1", params: [id],
 *   matches: (issue) => issue.projectId === id }, { sort: bySortKey });
 * const createIssue = useMutation(mutations.issues.create);
 * await createIssue({ id: crypto.randomUUID(), projectId: id, title, sortKey, at: new Date() });
 */
import type { ReactNode } from "react";
import {
  createContext,
  createElement,
  useCallback,
  useContext,
  useMemo,
  useSyncExternalStore,
} from "react";

import type { MutationDefinition, MutationInput } from "@repo/mutations";
import type { RowOf, TableName } from "@repo/schema";

import type { SyncClient } from "../client";
import type { FailedWrite, MutateOptions } from "../client-options";
import type { ShapeDefinition, ShapeSnapshot } from "../shape-registry";
import type { MutationResult, SyncStatus } from "../types";
import { shapeKey } from "../shape-registry";

const SyncClientContext = createContext<SyncClient | null>(null);

/** Makes a client available to the hooks below it. Create the client once (outside render). */
export function SyncProvider(props: {
  client: SyncClient;
  children?: ReactNode;
}): ReactNode {
  return createElement(
    SyncClientContext.Provider,
    { value: props.client },
    props.children,
  );
}

export function useSyncClient(): SyncClient {
  const client = useContext(SyncClientContext);
  if (!client)
    throw new Error(
      "useSyncClient: wrap the tree in <SyncProvider client={…}>",
    );
  return client;
}

export interface UseShapeOptions<TTable extends TableName> {
  filter?: (row: RowOf<TTable>) => boolean;
  sort?: (a: RowOf<TTable>, b: RowOf<TTable>) => number;
}

export interface ShapeRows<TTable extends TableName> {
  /** Visible rows (synced ⊕ pending), filtered and sorted. Unchanged rows keep their identity. */
  rows: RowOf<TTable>[];
  isUpToDate: boolean;
  isPending: (id: string) => boolean;
  isFailed: (id: string) => boolean;
}

/**
 * Live rows of a shape. The stream opens when the component mounts and is shared with every
 * other user of the same shape. On the server (and in the first client render) it shows the
 * shape's `initial` rows, so a server-rendered page hydrates without a mismatch.
 * Pass stable `filter`/`sort` functions (module-level or `useCallback`) for large shapes: the
 * list is recomputed when the view or they change.
 */
export function useShape<TTable extends TableName>(
  definition: ShapeDefinition<TTable>,
  options: UseShapeOptions<TTable> = {},
): ShapeRows<TTable> {
  const client = useSyncClient();
  const key = shapeKey(definition);
  // The definition object changes every render; its key says when it really does.
  const stable = useMemo(() => definition, [key]);
  const subscribe = useCallback(
    (onChange: () => void) => {
      const subscription = client.shape(stable);
      const unsubscribe = subscription.subscribe(onChange);
      return () => {
        unsubscribe();
        subscription.release();
      };
    },
    [client, stable],
  );
  const getSnapshot = useCallback(
    () => client.peekShape(stable),
    [client, stable],
  );
  const snapshot: ShapeSnapshot<TTable> = useSyncExternalStore(
    subscribe,
    getSnapshot,
    getSnapshot,
  );
  const { filter, sort } = options;
  const rows = useMemo(() => {
    // `snapshot.version` is what changes; the map is the same object, updated in place.
    void snapshot.version;
    let list = [...snapshot.rows.values()];
    if (filter) list = list.filter(filter);
    if (sort) list.sort(sort);
    return list;
  }, [snapshot, filter, sort]);
  const { isUpToDate, isPending, isFailed } = snapshot;
  return { rows, isUpToDate, isPending, isFailed };
}

/**
 * A function that applies the write at once and resolves when it is synced (its txid reached
 * the shapes), with the api's `{ data, txid }`; it rejects with the typed error.
 */
export function useMutation<TDefinition extends MutationDefinition>(
  definition: TDefinition,
): (
  input: MutationInput<TDefinition>,
  options?: MutateOptions,
) => Promise<MutationResult> {
  const client = useSyncClient();
  return useCallback(
    (input, options) => client.mutate(definition, input, options),
    [client, definition],
  );
}

/** Connection state and pending count, for an offline indicator or a "saving…" badge. */
export function useSyncStatus(): SyncStatus {
  const client = useSyncClient();
  return useSyncExternalStore(
    client.subscribeStatus,
    client.getStatus,
    client.getStatus,
  );
}

/** Writes that failed (rejected or timed out) until dismissed with `client.dismissFailure`. */
export function useFailedWrites(): readonly FailedWrite[] {
  const client = useSyncClient();
  return useSyncExternalStore(
    client.subscribeFailures,
    client.getFailures,
    client.getFailures,
  );
}
