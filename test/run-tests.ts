// `npm test`: runs every test/*.test.ts with node:test against DATABASE_URL, or, when it is unset, against an
// embedded PostgreSQL started here in a temporary directory and removed afterwards. Each test file then creates
// and drops its own database on that server.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/db/embedded-postgres.js';

const testDir = import.meta.dirname;
const files = (await readdir(testDir)).filter((f) => f.endsWith('.test.ts')).sort().map((f) => path.join(testDir, f));
const only = process.argv.slice(2);
const selected = only.length > 0 ? files.filter((f) => only.some((o) => f.includes(o))) : files;

let embedded: EmbeddedDatabase | undefined;
let tempDir: string | undefined;
if (!process.env['DATABASE_URL']) {
  tempDir = await mkdtemp(path.join(os.tmpdir(), 'parley-test-'));
  await chmod(tempDir, 0o755); // the embedded server runs as the OS user postgres when we are root
  embedded = await startEmbeddedPostgres(tempDir, pino({ level: 'warn' }));
  process.env['DATABASE_URL'] = embedded.url;
  console.log(`# DATABASE_URL unset: using an embedded PostgreSQL in ${tempDir}`);
}

const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-timeout=120000', ...selected], {
  stdio: 'inherit',
  env: process.env,
});
const forward = (signal: NodeJS.Signals) => child.kill(signal);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
const code = await new Promise<number>((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));

await embedded?.stop();
if (tempDir) await rm(tempDir, { recursive: true, force: true });
process.exit(code);
