import { apiRuntime } from "~/server/runtime";

const handler = (request: Request) =>
  apiRuntime().handleFetch(request, { endpoint: "/api/trpc" });

export { handler as GET, handler as POST };
