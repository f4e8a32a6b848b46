// The presence storm: USERS connected users, in groups of GROUP who each subscribe to the presence of the rest of
// their group, all drop their socket and reconnect within WINDOW_MS. With the grace period (PRESENCE_OFFLINE_GRACE)
// nobody's status changes, so no presence event should be sent beyond the initial states every new subscription
// starts with.
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import WebSocket from 'ws';
import { token as benchToken } from './parley-fixtures.js';
import { postgresCpuMicros, postgresCpuSince, startBenchServer, type BenchServer } from './server-process.js';

const GROUP = 50;
const WINDOW_MS = 2000;
/** The load counts as settled once no presence change has arrived for this long: longer than a throttle window (2 s). */
const QUIET_MS = 3000;

const SUBSCRIBE = 'subscription($ids: [ID!]!) { presence(userIds: $ids) { user { id } presence { status lastSeenAt } } }';

export interface PresenceStormResult {
  graceMs: number;
  users: number;
  /** Wall time from the first drop until every reconnected subscription had its initial states. */
  stormMs: number;
  /** Presence frames the clients received during the storm beyond their subscriptions' initial states: changes. */
  extraEvents: number;
  /** Of those, how many were OFFLINE. */
  offlineEvents: number;
  initialStates: number;
  /** Error frames, plus sockets closed by the server before their initial states arrived. */
  errors: number;
  /** Of the latter, how many per close code. */
  earlyCloses: Record<number, number>;
  /** Server process CPU (user + system) from the first drop until the storm had settled. */
  serverCpuMs: number;
  postgresCpuMs: number;
}

interface Counter {
  /** Presence frames after a subscription's initial states: changes. */
  changes: number;
  offlineChanges: number;
  errors: number;
  /** Close codes of sockets the server closed before their initial states arrived. */
  earlyCloses: Map<number, number>;
}

/** One user's socket: connects, subscribes to its group's presence, resolves once the initial states are in. */
function openPresenceClient(port: number, index: number, token: string, watched: string[], counter: Counter): Promise<WebSocket> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/graphql`, 'graphql-transport-ws', {
      perMessageDeflate: false,
      localAddress: `127.0.0.${2 + (index % 49)}`, // spread over addresses so ephemeral ports do not run out
      handshakeTimeout: 30_000,
    });
    let received = 0;
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    socket.on('message', (data: Buffer) => {
      const text = data.toString();
      if (text.includes('"connection_ack"')) {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUBSCRIBE, variables: { ids: watched } } }));
        return;
      }
      if (!text.includes('"type":"next"')) return;
      if (text.includes('"errors"')) counter.errors++;
      if (++received === watched.length) resolve(socket);
      if (received <= watched.length) return;
      counter.changes++;
      if (text.includes('"OFFLINE"')) counter.offlineChanges++;
    });
    socket.on('error', () => {}); // counted by the close that follows
    // Closed by the server before the initial states were in (e.g. 1013 while the database pool is exhausted).
    socket.on('close', (code: number) => {
      if (received < watched.length) {
        counter.errors++;
        counter.earlyCloses.set(code, (counter.earlyCloses.get(code) ?? 0) + 1);
      }
      resolve(socket);
    });
  });
}

/** Waits until no change has arrived for QUIET_MS (at most two minutes). */
async function settled(counter: Counter): Promise<void> {
  let seen = -1;
  const deadline = performance.now() + 120_000;
  while (seen !== counter.changes && performance.now() < deadline) {
    seen = counter.changes;
    await delay(QUIET_MS);
  }
}

async function createUsers(databaseUrl: string, count: number): Promise<{ id: string; token: string }[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const ids = Array.from({ length: count }, () => randomUUID());
    await client.query(
      `INSERT INTO users (id, username, password_hash) SELECT id, 'presence_' || substr(id::text, 1, 8) || '_' || n, 'x'
       FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n)`,
      [ids],
    );
    return Promise.all(ids.map(async (id) => ({ id, token: await benchToken(id) })));
  } finally {
    await client.end();
  }
}

/** One storm against `server`, started with PRESENCE_OFFLINE_GRACE = `graceMs`; its users are in the database. */
async function runStorm(server: BenchServer, users: { id: string; token: string }[], graceMs: number): Promise<PresenceStormResult> {
  const counter: Counter = { changes: 0, offlineChanges: 0, errors: 0, earlyCloses: new Map() };
  const watchedBy = users.map((_, i) => {
    const start = i - (i % GROUP);
    return users.slice(start, start + GROUP).filter((_, j) => start + j !== i).map((u) => u.id);
  });
  const open = (i: number) => openPresenceClient(server.port, i, users[i]!.token, watchedBy[i]!, counter);
    // Everyone connects, a few hundred handshakes at a time, and the ONLINE events of that settle.
  const sockets: WebSocket[] = new Array(users.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: 200 }, async () => {
      while (next < users.length) {
        const i = next++;
        sockets[i] = await open(i);
      }
    }),
  );
  await settled(counter); // the ONLINE changes of everyone connecting

  const before = { ...counter };
  counter.earlyCloses.clear();
  const cpuBefore = server.cpuMicros();
  const postgresBefore = postgresCpuMicros();
  const started = performance.now();
  const reconnected: Promise<void>[] = [];
  for (let i = 0; i < users.length; i++) {
    const due = started + (i * WINDOW_MS) / users.length;
    if (due > performance.now()) await delay(due - performance.now());
    sockets[i]!.terminate(); // dropped, as a network change would
    reconnected.push(open(i).then((socket) => void (sockets[i] = socket)));
  }
  await Promise.all(reconnected);
  const stormMs = performance.now() - started;
  await settled(counter);
  const serverCpuMs = (server.cpuMicros() - cpuBefore) / 1000;
  const postgresCpuMs = postgresCpuSince(postgresBefore) / 1000;
  for (const socket of sockets) socket.terminate();
  return {
    graceMs,
    users: users.length,
    stormMs,
    extraEvents: counter.changes - before.changes,
    offlineEvents: counter.offlineChanges - before.offlineChanges,
    initialStates: watchedBy.reduce((sum, ids) => sum + ids.length, 0),
    errors: counter.errors - before.errors,
    earlyCloses: Object.fromEntries(counter.earlyCloses),
    serverCpuMs,
    postgresCpuMs,
  };
}



/**
 * Runs the storm on a server of its own with the default grace period (30 s); returns the report's section in
 * Markdown. (Without a grace period the same storm turns into OFFLINE/ONLINE flaps for every watcher, and on one
 * core the server falls so far behind that statements time out waiting for a pool connection: not a useful figure.)
 */
export async function presenceStormReport(databaseUrl: string, env: NodeJS.ProcessEnv, core: number | undefined, userCount: number): Promise<string> {
  const graceMs = 30_000;
  const server = await startBenchServer('parley', { ...env, PRESENCE_OFFLINE_GRACE: `${graceMs}ms` }, core);
  let run: PresenceStormResult;
  try {
    const users = await createUsers(databaseUrl, userCount); // now that the server has migrated the database
    run = await runStorm(server, users, graceMs);
  } finally {
    await server.stop();
  }
  console.error(`presence storm: ${JSON.stringify(run)}`);
  const runs = [run];
  const lines = [
    `## Presence storm: ${userCount.toLocaleString('en')} users in groups of ${GROUP} watching each other reconnect within ${WINDOW_MS / 1000} s`,
    '',
    'Each user has one socket and one `presence` subscription to the other 49 of its group. After everyone is connected',
    'and settled, each socket is dropped and reopened (resubscribing), spread evenly over the window. "Beyond initial"',
    'counts presence frames received during the storm other than the initial states each new subscription starts with;',
    `the storm ends when no change has arrived for ${QUIET_MS / 1000} s after the last resubscription. CPU: from the first drop until then.`,
    '',
    '| PRESENCE_OFFLINE_GRACE | initial states | beyond initial | of which OFFLINE | errors | all resubscribed after ms | server CPU ms | server CPU µs/reconnect | PostgreSQL CPU ms |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const run of runs) {
    lines.push(
      `| ${run.graceMs / 1000} s | ${run.initialStates} | ${run.extraEvents} | ${run.offlineEvents} | ${run.errors} | ${run.stormMs.toFixed(0)} | ${run.serverCpuMs.toFixed(0)} | ${((run.serverCpuMs * 1000) / run.users).toFixed(0)} | ${run.postgresCpuMs.toFixed(0)} |`,
    );
  }
  lines.push('');
  const closes = Object.entries(run.earlyCloses).map(([code, count]) => `${count} × ${code}`);
  if (closes.length > 0) lines.push(`Sockets closed by the server before their initial states arrived, by close code: ${closes.join(', ')}.`, '');
  return lines.join('\n');
}
