/**
 * A small Express app that keeps its audit trail in Hindsight with @hindsight/sdk: sign-ins
 * (the logins log), changes to customers with before → after (the changes log), and every
 * page request (the requests log), with the signed-in user as the actor.
 *
 *   HINDSIGHT_URL=http://127.0.0.1:3100 HINDSIGHT_KEY=hsk_… node server.js
 *
 * Environment: HINDSIGHT_URL (default http://127.0.0.1:3100), HINDSIGHT_KEY (an events:write
 * key, required), HINDSIGHT_OUTBOX (a directory: keep events on disk until Hindsight has them),
 * PORT (default 3000; 0 picks a free one), HOST (default 127.0.0.1).
 */
const { randomBytes, randomUUID } = require('node:crypto');
const express = require('express');
const { changes, createClient, expressRequestLogger, login, withActor } = require('@hindsight/sdk');

const TENANT = 'acme';
const USERS = [
  {
    id: 'u-1001',
    name: 'Alice Hughes',
    email: 'alice@acme.test',
    role: 'owner',
    password: 'wonderland',
  },
  {
    id: 'u-1002',
    name: 'Tomasz Kowalski',
    email: 'tomasz@acme.test',
    role: 'admin',
    password: 'krakow',
  },
];
const customers = new Map([
  [
    'CUS-104233',
    { name: 'Harbour View Dental', plan: 'Basic', address: { city: 'Leeds', postcode: 'LS1 4AP' } },
  ],
]);
/** Session token (a secret) → { user, sessionId } (an id that may be logged). */
const sessions = new Map();

if (!process.env.HINDSIGHT_KEY) {
  console.error('Set HINDSIGHT_KEY to a Hindsight API key with the events:write scope.');
  process.exit(1);
}
const hindsight = createClient({
  url: process.env.HINDSIGHT_URL ?? 'http://127.0.0.1:3100',
  key: process.env.HINDSIGHT_KEY,
  ...(process.env.HINDSIGHT_OUTBOX ? { outbox: { dir: process.env.HINDSIGHT_OUTBOX } } : {}),
  onError: (error, events) =>
    console.error(`Hindsight refused ${events.length} event(s): ${error.message}`),
});

/** The audit actor of a user. */
const actorOf = (user) => ({ id: user.id, name: user.name, email: user.email, role: user.role });

const app = express();
app.set('trust proxy', 'loopback');
app.use(express.json());
// Every request, as the panel log (`requests`); health checks are left out.
app.use(
  expressRequestLogger(hindsight, {
    log: 'requests',
    tenant: () => TENANT,
    actor: (req) => (req.user ? actorOf(req.user) : undefined),
    sessionId: (req) => req.sessionId,
    trustProxy: ['loopback'],
    exclude: ['/healthz'],
  }),
);

// Authentication: `Authorization: Bearer <session>`; the rest of the request runs as the user.
app.use((req, _res, next) => {
  const token = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1];
  const session = token === undefined ? undefined : sessions.get(token);
  if (!session) return next();
  req.user = session.user;
  req.sessionId = session.sessionId;
  withActor(actorOf(session.user), () => next());
});

app.get('/healthz', (_req, res) => res.json({ ok: true }));

app.post('/login', async (req, res) => {
  const { email, password } = req.body ?? {};
  const user = USERS.find((u) => u.email === email);
  const succeeded = user !== undefined && user.password === password;
  const sessionId = succeeded ? `sess_${randomUUID().slice(0, 8)}` : undefined;
  await hindsight.record(
    login({
      tenant: TENANT,
      user: user ? actorOf(user) : { email: String(email) },
      succeeded,
      ...(succeeded ? {} : { reason: user ? 'invalid_password' : 'unknown_user' }),
      ip: req.ip,
      userAgent: req.get('user-agent'),
      ...(sessionId ? { sessionId } : {}),
    }),
  );
  if (!succeeded) return res.status(401).json({ error: 'Wrong e-mail or password.' });
  const token = randomBytes(24).toString('base64url');
  sessions.set(token, { user, sessionId });
  res.json({ token });
});

app.get('/customers/:id', (req, res) => {
  const customer = customers.get(req.params.id);
  if (!customer) return res.status(404).json({ error: 'No such customer.' });
  res.json(customer);
});

app.put('/customers/:id', async (req, res) => {
  if (!req.user) return res.status(401).json({ error: 'Sign in first.' });
  const before = customers.get(req.params.id);
  if (!before) return res.status(404).json({ error: 'No such customer.' });
  const after = { ...before, ...req.body, address: { ...before.address, ...req.body?.address } };
  customers.set(req.params.id, after);
  // No actor here: withActor (in the authentication middleware) supplies the signed-in user.
  await hindsight.record({
    tenant: TENANT,
    action: 'customer.updated',
    category: 'changes',
    channel: 'ui',
    description: `Updated the customer ${after.name}`,
    targets: [
      { type: 'customer', id: req.params.id, name: after.name, url: `/customers/${req.params.id}` },
    ],
    changes: changes(before, after),
    context: { ip: req.ip, userAgent: req.get('user-agent') },
    metadata: { module: 'Customers' },
  });
  res.json(after);
});

const server = app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1', () => {
  const { address, port } = server.address();
  console.log(`Example app listening on http://${address}:${port}`);
});

async function shutdown() {
  server.close();
  // Deliver what is still queued before the process ends.
  await hindsight.close({ timeoutMs: 10_000 });
  process.exit(0);
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
