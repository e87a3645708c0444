// A real Better Auth instance for the interop tests (e2e/test_better_auth_interop.py).
// Test-only: in-memory storage, plain HTTP on loopback, and a key-rotation hook.
//
//   PORT=4100 BETTER_AUTH_SECRET=... node server.mjs
//
// Environment: PORT (required), BETTER_AUTH_SECRET (required, >= 32 characters),
// BETTER_AUTH_URL (default http://127.0.0.1:$PORT): the origin tokens are issued for.
// Prints one line "ready <base URL>" once it listens.
import http from "node:http";

import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { toNodeHandler } from "better-auth/node";
import { jwt } from "better-auth/plugins";

const port = Number(process.env.PORT);
const secret = process.env.BETTER_AUTH_SECRET;
if (!Number.isInteger(port) || port <= 0 || !secret) {
  console.error("usage: PORT=<port> BETTER_AUTH_SECRET=<secret> node server.mjs");
  process.exit(2);
}
const baseURL = process.env.BETTER_AUTH_URL || `http://127.0.0.1:${port}`;

// Kept here so the rotation hook can reach the stored keys.
const db = { user: [], session: [], account: [], verification: [], jwks: [] };

const auth = betterAuth({
  baseURL,
  secret,
  database: memoryAdapter(db),
  emailAndPassword: { enabled: true },
  session: { cookieCache: { enabled: true, maxAge: 5 * 60, strategy: "jwt" } },
  // Defaults, as Better Auth documents them: EdDSA (Ed25519) keys, 15-minute
  // tokens, iss and aud set to baseURL.
  plugins: [jwt()],
  telemetry: { enabled: false },
});

const authHandler = toNodeHandler(auth);

// What `jwks.rotationInterval` does when it elapses, without waiting for it:
// every current key expires now, so the next token is signed with a fresh key
// while the old ones stay published for the grace period (30 days by default).
function rotateKeys(res) {
  const expired = new Date(Date.now() - 1000);
  for (const key of db.jwks) key.expiresAt = expired;
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ expired: db.jwks.length }));
}

const server = http.createServer((req, res) => {
  if (req.method === "POST" && req.url === "/__test__/rotate-keys") return rotateKeys(res);
  return authHandler(req, res);
});

server.listen(port, "127.0.0.1", () => console.log(`ready ${baseURL}`));
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => server.close(() => process.exit(0)));
