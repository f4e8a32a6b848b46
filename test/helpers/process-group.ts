import { randomBytes } from 'node:crypto';
import { HttpClient } from './http-client.js';
import type { TestUser } from './fixtures.js';
import { createTestDatabase, startTestServer, type TestDatabase, type TestServer } from './test-server.js';

/**
 * Several Parley apps on one database with one JWT secret, as the processes of one deployment: a token from one is
 * good on every other. Each starts after the previous one (migrations run once). `stop()` stops them and drops it.
 */
export interface ProcessGroup {
  database: TestDatabase;
  start(env?: Record<string, string>): Promise<TestServer>;
  /** The same user, talking to another process. */
  on(server: TestServer, user: TestUser): TestUser;
  stop(): Promise<void>;
}

export async function startProcessGroup(): Promise<ProcessGroup> {
  const database = await createTestDatabase();
  const secret = randomBytes(32).toString('hex');
  const servers: TestServer[] = [];
  return {
    database,
    async start(env = {}) {
      const server = await startTestServer({ JWT_SECRET: secret, ...env }, { database, recordSql: false });
      servers.push(server);
      return server;
    },
    on: (server, user) => ({ ...user, http: new HttpClient(server.url, user.token) }),
    async stop() {
      await Promise.allSettled(servers.map((server) => server.stop()));
      await database.drop();
    },
  };
}
