/**
 * @repo/collab-editor: presence (who edits a collaborative field, their carets) on Yjs
 * awareness, and (`@repo/collab-editor/react`) the CodeMirror 6 editor of a `Y.Text`.
 * Isomorphic: browsers, Node clients (the bench, tests).
 */
export { bindPresence, PRESENCE_ORIGIN } from "./presence/bind-presence";
export type {
  BindPresenceOptions,
  PresenceBinding,
  PresenceSource,
} from "./presence/bind-presence";
export { presenceShape } from "./presence/presence-shape";
export type { PresenceShapeOptions } from "./presence/presence-shape";
export {
  isDefinitiveRefusal,
  trpcPresenceTransport,
  followOnlyPresenceTransport,
} from "./presence/transport";
export type { PresenceTransport } from "./presence/transport";
