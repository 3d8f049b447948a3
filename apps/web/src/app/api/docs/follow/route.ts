import { apiRuntime } from "~/server/runtime";

/**
 * The relay of collaborative fields' committed edits: `/api/docs/follow?field=…&row=…&client=…`
 * as server-sent events (@repo/collab's `sseFollow` is the client; @repo/api's
 * collab/follow-http.ts says what it sends). A stream per open editor: never cached.
 */
export const dynamic = "force-dynamic";

export function GET(request: Request) {
  return apiRuntime().handleFollow(request);
}
