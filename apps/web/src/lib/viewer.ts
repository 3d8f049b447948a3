import "server-only";

import { redirect } from "next/navigation";

import { currentUser } from "~/server/session";

/** The signed-in user, or a redirect to sign in (the session is verified here, per request). */
export async function requireUser() {
  const user = await currentUser();
  if (!user) redirect("/sign-in");
  return user;
}
