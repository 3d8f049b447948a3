import { apiRuntime } from "~/server/runtime";

/**
 * The authorising shape proxy: `/api/shapes/<name>?<args>` (src/lib/shapes.ts builds the URLs;
 * the names and their checks are in @repo/api's src/shapes/catalog.ts). Long-polls and SSE
 * stream through; nothing here may be cached or prerendered.
 */
export const dynamic = "force-dynamic";

export async function GET(
  request: Request,
  { params }: { params: Promise<{ name: string }> },
) {
  return apiRuntime().handleShape(request, (await params).name);
}
