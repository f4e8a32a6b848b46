// The SDK's presence subscription (client.presence) against the real server through a TCP proxy the test cuts:
// the current state of each watched user first, then changes; after a cut and restore the current state again
// (what changed while cut, never the state from before); permanent errors end it; unsubscribe stops it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { MyPresenceDocument, SetStatusDocument } from './__generated__/graphql.js';
import { ParleyGraphQLError, type ParleyClient, type PresenceChange } from '../src/client/index.js';
import { eventually, Recorder, statusLog, testClient, within } from './helpers/client-sdk.js';
import { signUp, type TestUser } from './helpers/fixtures.js';
import { TcpProxy } from './helpers/tcp-proxy.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/** What a test compares of a change: whose (by name), and the status. */
const seen = (change: PresenceChange) => `${change.user.username} ${change.presence.status}`;

describe('SDK presence', () => {
  let server: TestServer;
  let proxy: TcpProxy;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let bobClient: ParleyClient;
  const clients: ParleyClient[] = [];
  const client = (url: string, token: string) => {
    const made = testClient(url, token);
    clients.push(made);
    return made;
  };
  /**
   * Bob sets a status and the test waits until the server has published it (what `User.presence` and a new
   * subscription's initial state show): within PRESENCE_THROTTLE of the previous change it is held back, and a
   * new status set meanwhile replaces it.
   */
  const setStatus = async (status: 'ONLINE' | 'AWAY' | 'OFFLINE') => {
    await bobClient.request(SetStatusDocument, { status });
    await eventually(() => bob.http.data(MyPresenceDocument, {}), ({ me }) => me?.presence.status === status, 5_000, `bob ${status} published`);
  };

  before(async () => {
    // A short throttle: changes reach subscribers within 100 ms instead of 2 s.
    server = await startTestServer({ PRESENCE_THROTTLE: '100ms' });
    proxy = await TcpProxy.start(Number(new URL(server.url).port));
    [alice, bob, carol] = [await signUp(server), await signUp(server), await signUp(server)];
    // Bob (watched) connects straight to the server, so cutting the proxy cuts only the watcher; carol never connects.
    bobClient = client(server.url, bob.token);
    await statusLog(bobClient).until((s) => s.at(-1) === 'connected', 5_000, 'bob connected');
  });
  after(async () => {
    for (const made of clients) await made.close();
    await proxy.close();
    await server.stop();
  });

  it('the current state first, then a change; after a cut and restore the current state again, not the old one', async () => {
    await setStatus('ONLINE');
    const watcher = client(proxy.url, alice.token);
    const statuses = statusLog(watcher);
    const changes = new Recorder<string>();
    const errors: unknown[] = [];
    watcher.presence([bob.id, carol.id], { onChange: (change) => changes.push(seen(change)), onError: (error) => errors.push(error) });

    await changes.until((c) => c.length >= 2, 5_000, 'the initial states');
    assert.deepEqual(changes.items, [`${bob.username} ONLINE`, `${carol.username} OFFLINE`], 'the current state of each, in the order asked');

    await setStatus('AWAY');
    await changes.until((c) => c.length >= 3, 5_000, 'bob away');
    assert.equal(changes.items[2], `${bob.username} AWAY`);

    proxy.cut();
    await statuses.until((s) => s.at(-1) !== 'connected', 5_000, 'the watcher noticed the cut');
    await setStatus('ONLINE'); // while the watcher is cut off: it sees no change, only the state after the restore
    proxy.restore();
    await changes.until((c) => c.length >= 5, 10_000, 'the current states after the restore');
    assert.deepEqual(changes.items.slice(3), [`${bob.username} ONLINE`, `${carol.username} OFFLINE`], 'the current state again, not AWAY');

    // One subscription after the reconnect, not two: the next change arrives once.
    await setStatus('AWAY');
    await changes.until((c) => c.length >= 6, 5_000, 'bob away again');
    await setStatus('ONLINE');
    await changes.until((c) => c.length >= 7, 5_000, 'bob online again');
    assert.deepEqual(changes.items.slice(5), [`${bob.username} AWAY`, `${bob.username} ONLINE`]);
    assert.deepEqual(errors, []);
  });

  it('unsubscribe stops the changes; a bad id list ends the subscription with a permanent error', async () => {
    const watcher = client(proxy.url, alice.token);
    const kept = new Recorder<string>();
    const stopped = new Recorder<string>();
    watcher.presence([bob.id], { onChange: (change) => kept.push(seen(change)) });
    const handle = watcher.presence([bob.id], { onChange: (change) => stopped.push(seen(change)) });
    await kept.until((c) => c.length >= 1, 5_000, 'the initial state');
    await stopped.until((c) => c.length >= 1, 5_000, 'the initial state');
    handle.unsubscribe();
    await setStatus('AWAY');
    await kept.until((c) => c.length >= 2, 5_000, 'bob away');
    assert.deepEqual(stopped.items, [`${bob.username} ONLINE`], 'nothing after unsubscribe');
    await setStatus('ONLINE');

    const failures = new Recorder<unknown>();
    watcher.presence([], { onChange: () => assert.fail('no change for no ids'), onError: failures.push });
    watcher.presence([randomUUID()], { onChange: () => assert.fail('no change for an unknown id'), onError: failures.push });
    await within(failures.until((f) => f.length >= 2, 5_000, 'two errors'), 6_000, 'the errors');
    const codes = failures.items.map((error) => (assert.ok(error instanceof ParleyGraphQLError), error.code)).sort();
    assert.deepEqual(codes, ['BAD_USER_INPUT', 'NOT_FOUND']);
  });
});
