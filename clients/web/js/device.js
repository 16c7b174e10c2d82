// Device sign-in: a tablet opened at /?code=… (the link in the QR code the secretariat printed) redeems the
// one-time code (POST /api/auth/device) and stays signed in; the code leaves the address bar at once so it is
// neither bookmarked nor shown to the next person.

import { api, keepSignIn, rememberSession } from "./api.js";

// The page a device account opens (the chair's tablet is the chair's console).
const PAGE = { chair: "chair.html", delegate: "tablet.html", respondent: "tablet.html", committee: "tablet.html" };

/** null when the address has no code; else {account, next} after signing in, or throws the server's ApiError. */
export async function redeemFromAddress() {
  const params = new URLSearchParams(location.search);
  const code = params.get("code");
  if (!code) return null;
  const session = params.get("session");
  params.delete("code");
  const rest = params.toString();
  history.replaceState(null, "", `${location.pathname}${rest ? `?${rest}` : ""}`);
  const out = await api("POST", "/api/auth/device", { code }, { token: null });
  const account = keepSignIn(out);
  const page = account.roles.map((r) => PAGE[r]).find(Boolean) || "tablet.html";
  if (session) rememberSession(session);
  return { account, next: session ? `${page}?session=${encodeURIComponent(session)}` : null };
}
