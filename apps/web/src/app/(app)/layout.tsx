import type { ReactNode } from "react";

import { AppShell } from "~/components/app/app-shell";
import { requireUser } from "~/lib/viewer";

export default async function SignedInLayout({
  children,
}: {
  children: ReactNode;
}) {
  // src/proxy.ts only checks that a cookie is there; requireUser verifies it.
  const user = await requireUser();
  return (
    <AppShell viewer={{ id: user.id, name: user.name, email: user.email }}>
      {children}
    </AppShell>
  );
}
