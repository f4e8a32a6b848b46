// SocketSessions' admission against a sign-out that arrives while a socket is being admitted: its token was checked
// just before the revocation, and the sign-out found no session of it to close. Driven step by step here, since
// over a real socket the window is a few milliseconds wide.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WebSocket } from 'ws';
import type { Authentication, Authenticator } from '../src/auth/authenticator.js';
import { systemClock } from '../src/domain/clock.js';
import type { SocketCount } from '../src/domain/presence.service.js';
import { SocketSessions, type SessionState } from '../src/transport/ws-sessions.js';

function socketState(): { state: SessionState; closes: { code: number; reason: string }[] } {
  const closes: { code: number; reason: string }[] = [];
  const socket = { OPEN: 1, readyState: 1, close: (code: number, reason: string) => void closes.push({ code, reason }) } as unknown as WebSocket;
  return { state: { socket, auth: { kind: 'anonymous' } }, closes };
}

describe('SocketSessions admission', () => {
  const user: Authentication = { kind: 'user', viewer: { id: 'u1', username: 'alice' }, expiresAt: new Date(Date.now() + 3_600_000), tokenVersion: 0 };

  for (const signOutMeanwhile of [true, false]) {
    it(signOutMeanwhile ? 'closes a socket whose user signed out while it was being admitted' : 'admits a socket when no sign-out came in between', async () => {
      let count!: (result: SocketCount) => void;
      const presence = { connected: () => new Promise<SocketCount>((resolve) => (count = resolve)), disconnected: () => {} };
      const sessions = new SocketSessions(undefined as unknown as Authenticator, 0, systemClock, presence);
      const { state, closes } = socketState();
      const admission = sessions.beginAdmission(); // before the token is checked
      const admitted = sessions.admit(state, user, admission);
      if (signOutMeanwhile) sessions.signedOut('u1'); // heard while the presence store counts the socket
      count('counted');
      assert.equal(await admitted, !signOutMeanwhile);
      admission.end();
      assert.deepEqual(closes, signOutMeanwhile ? [{ code: 4403, reason: 'Signed out' }] : []);
    });
  }
});
