// The PostgreSQL bus transport's connections under a network that accepts and drops them (what a restarting server
// or a flapping path looks like): one listening connection whatever the number of failed attempts, none after stop.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { PostgresBusTransport } from '../src/realtime/bus/postgres-bus-transport.js';
import { AsyncQueue } from './helpers/async-queue.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-server.js';
import { TcpProxy } from './helpers/tcp-proxy.js';
import net from 'node:net';
import pg from 'pg';

describe('PostgresBusTransport', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let admin: pg.Client;
  before(async () => {
    database = await createTestDatabase();
    const url = new URL(database.url);
    proxy = await TcpProxy.start(Number(url.port || 5432));
    admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
  });
  after(async () => {
    await admin.end();
    await proxy.close();
    await database.drop();
  });

  const listeners = async () =>
    (
      await admin.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'parley-bus-listen' AND datname = current_database()",
      )
    ).rows[0]!.n;
  const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      assert.ok(Date.now() < deadline, `timed out waiting until ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50)); // polls PostgreSQL's view of the connections
    }
  };

  it('keeps one listening connection through many failed reconnection attempts, and none after stop', async () => {
    const url = new URL(database.url);
    url.port = String(proxy.port);
    const transport = new PostgresBusTransport(url.toString(), 'bus_test', pino({ level: 'silent' }));
    const messages = new AsyncQueue<string>();
    let reconnects = 0;
    await transport.start({ message: (text) => messages.push(text), reconnected: () => reconnects++ });
    try {
      assert.equal(await listeners(), 1);
      // First the connection is cut, then for a while every new one meets a server still starting up (it answers
      // the startup message with PostgreSQL's FATAL 57P03 and hangs up), as during a restart.
      let refused = 0;
      const startingUp = net.createServer((socket) => {
        socket.once('data', () => {
          refused++;
          socket.end(startingUpError());
        });
        socket.on('error', () => {});
      });
      await new Promise<void>((resolve) => startingUp.listen(0, '127.0.0.1', resolve));
      proxy.retarget((startingUp.address() as net.AddressInfo).port);
      proxy.cut();
      proxy.restore(); // new connections now reach the server that is starting up
      await until('several attempts failed', async () => refused >= 6);
      assert.equal(transport.listening(), false);
      proxy.retarget(Number(new URL(database.url).port || 5432));
      await new Promise<void>((resolve) => startingUp.close(() => resolve()));
      await until('listening again', async () => transport.listening());
      await until('PostgreSQL sees the listener', async () => (await listeners()) >= 1);
      assert.equal(await listeners(), 1);
      assert.equal(reconnects, 1);
      await admin.query("SELECT pg_notify('bus_test', 'after')");
      assert.equal(await messages.take(5000, 'a notification'), 'after');
    } finally {
      await transport.stop();
    }
    await until('no listener is left', async () => (await listeners()) === 0);
  });
});

/** PostgreSQL's ErrorResponse for a server that is starting up (FATAL, SQLSTATE 57P03). */
function startingUpError(): Buffer {
  const fields = Buffer.from('SFATAL\0VFATAL\0C57P03\0Mthe database system is starting up\0\0', 'utf8');
  const header = Buffer.alloc(5);
  header.write('E', 0);
  header.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([header, fields]);
}
