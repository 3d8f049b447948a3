import type { Metadata } from "next";
import { Suspense } from "react";

import { AuthForm } from "~/components/auth/auth-form";

export const metadata: Metadata = { title: "Sign up" };

export default function SignUpPage() {
  // useSearchParams (the `next` page) needs a Suspense boundary in a static page.
  return (
    <Suspense>
      <AuthForm mode="sign-up" />
    </Suspense>
  );
}
