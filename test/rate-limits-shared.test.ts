import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignUpDocument } from './__generated__/graphql.js';
import { PASSWORD } from './helpers/fixtures.js';
import { HttpClient, errorCodes } from './helpers/http-client.js';
import { createTestDatabase, startTestServer, type TestDatabase, type TestServer } from './helpers/test-server.js';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** Two servers on one database, as two processes of one deployment; the limits at their defaults. */
const variants: { name: string; env: Record<string, string>; shared: boolean }[] = [
  { name: 'in PostgreSQL when the processes share the database without Redis (BUS on)', env: { BUS: 'postgres' }, shared: true },
  { name: 'in Redis when REDIS_URL is set', env: { BUS: 'postgres', REDIS_URL, RATE_LIMIT_KEY_PREFIX: `parley-test-${randomUUID()}` }, shared: true },
  { name: 'in each process\'s memory with BUS=off (one process per database)', env: { BUS: 'off' }, shared: false },
];

for (const variant of variants) {
  describe(`rate limits ${variant.name}`, () => {
    let database: TestDatabase;
    let servers: TestServer[];
    before(async () => {
      database = await createTestDatabase();
      const env = { RATE_LIMITS: 'on', JWT_SECRET: randomBytes(32).toString('hex'), ...variant.env };
      servers = [await startTestServer(env, { database }), await startTestServer(env, { database })];
    });
    after(async () => {
      for (const server of servers) await server.stop();
      await database.drop();
    });

    it(variant.shared ? 'counts sign-ups from one address through either server against one limit of 10 per hour' : 'counts sign-ups in each server apart', async () => {
      const attempt = (index: number) =>
        new HttpClient(servers[index % 2]!.url).request(SignUpDocument, { username: `shared_${randomUUID().slice(0, 8)}`, password: PASSWORD });
      for (let i = 0; i < 10; i++) assert.deepEqual(errorCodes(await attempt(i)), [], `sign-up ${i}`);
      const eleventh = await attempt(10);
      const twelfth = await attempt(11);
      if (variant.shared) {
        assert.deepEqual(errorCodes(eleventh), ['RATE_LIMITED']);
        assert.deepEqual(errorCodes(twelfth), ['RATE_LIMITED']);
        const retryAfter = eleventh.errors![0]!.extensions!['retryAfter'] as number;
        assert.ok(retryAfter > 3500 && retryAfter <= 3600, `retryAfter ${retryAfter}`);
      } else {
        assert.deepEqual(errorCodes(eleventh), [], 'each server has counted 5');
        assert.deepEqual(errorCodes(twelfth), []);
      }
    });
  });
}
