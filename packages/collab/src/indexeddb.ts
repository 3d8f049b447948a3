/**
 * Offline persistence in browsers: the document in IndexedDB (y-indexeddb), so edits made
 * offline survive a reload and are sent after the next load.
 *
 * @example
 * createCollabProvider({ ..., persistence: indexedDbPersistence(`issue-${rowId}-${userId}`) });
 */
import type * as Y from "yjs";
import { IndexeddbPersistence } from "y-indexeddb";

import type { DocPersistence } from "./provider";

export function indexedDbPersistence(
  name: string,
): (doc: Y.Doc) => DocPersistence {
  return (doc) => new IndexeddbPersistence(name, doc);
}
