import type { NextRequest } from "next/server";
import { getSessionCookie } from "better-auth/cookies";
import { NextResponse } from "next/server";

/**
 * Sends visitors without a session cookie to `/sign-in` (with `next`, the page they asked for).
 * Only a cheap presence check: the cookie is verified where data is read (tRPC procedures, the
 * shape proxy, server components through `currentUser()`), which answer 401 to a forged one.
 */
export function proxy(request: NextRequest) {
  if (getSessionCookie(request)) return NextResponse.next();
  const signIn = new URL("/sign-in", request.url);
  const { pathname, search } = request.nextUrl;
  if (pathname !== "/") signIn.searchParams.set("next", `${pathname}${search}`);
  return NextResponse.redirect(signIn);
}

export const config = {
  // Pages only: API routes answer 401 themselves, and the sign-in pages and assets are public.
  matcher: [
    "/((?!api/|_next/static|_next/image|favicon\\.ico|sign-in|sign-up|.*\\.(?:svg|png|jpg|ico|webp)$).*)",
  ],
};
