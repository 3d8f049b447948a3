/** React bindings of @repo/collab-editor (client components). */
export { CollabEditor } from "./collab-editor";
export type { CollabEditorProps } from "./collab-editor";
export { PresenceList, useRemoteEditors } from "./presence-list";
export { usePresence } from "./use-presence";
