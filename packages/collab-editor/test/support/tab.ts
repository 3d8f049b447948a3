import type { Awareness } from "y-protocols/awareness";

import type { TestUser } from "@repo/api/testing";

import type { PresenceBinding } from "../../src";
import type { PresenceStack } from "./stack";
import { bindPresence, presenceShape, trpcPresenceTransport } from "../../src";

/**
 * One editor tab's presence on the stack as `user`: `awareness` bound to `presence.update`
 * and the sync server's presence shape (through `fetchClient`, if given).
 */
export function bindTab(
  s: PresenceStack,
  user: TestUser,
  awareness: Awareness,
  fetchClient?: typeof fetch,
): PresenceBinding {
  return bindPresence({
    awareness,
    field: "issues.description",
    rowId: s.issueId,
    transport: trpcPresenceTransport(s.trpcAs(user)),
    source: presenceShape({
      url: s.shapeUrl,
      field: "issues.description",
      rowId: s.issueId,
      params: { secret: s.secret },
      ...(fetchClient && { fetchClient }),
    }),
    throttleMs: 10,
  });
}
