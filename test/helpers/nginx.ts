// A private nginx running the shipped deploy/nginx/parley.conf in front of test servers. Only what cannot work in a
// test is changed (which processes, which port, where the log goes), and a change of the file's shape that would
// make the test run something else than what ships fails here instead.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/db/free-port.js';
import { processExists, spawnServer, type ServerProcess } from './server-process.js';

/** The configuration that ships, in the repository. */
export const SHIPPED_CONFIG = path.join(import.meta.dirname, '../../deploy/nginx/parley.conf');

/** Debian's nginx (`apt-get install nginx`; .ci/run installs it when missing). */
export const NGINX_BINARY = '/usr/sbin/nginx';

export interface ConfigChanges {
  /** `host:port` of each upstream server, in place of the shipped list (whose parameters every one keeps). */
  upstreams: readonly string[];
  /** Address nginx listens on, in place of the shipped `listen` lines. */
  listen: string;
  /** File for the access log, in place of the shipped path. */
  accessLog: string;
}

/**
 * The shipped config with `changes` applied. Throws when the file no longer has exactly the parts replaced here
 * (one `upstream parley` block with server lines, listen lines, an access log), or still names a system path.
 */
export function adaptShippedConfig(shipped: string, changes: ConfigChanges): string {
  const upstream = /^upstream parley \{\n([\s\S]*?)^\}/m.exec(shipped);
  if (!upstream) throw new Error('parley.conf: no `upstream parley { ... }` block');
  const serverLine = /^(\s*)server\s+\S+(.*);$/gm;
  const servers = [...upstream[1]!.matchAll(serverLine)];
  if (servers.length === 0) throw new Error('parley.conf: the upstream lists no server');
  const [, indent, parameters] = servers[0]!;
  const list = changes.upstreams.map((address) => `${indent}server ${address}${parameters};`).join('\n');
  let first = true;
  const block = upstream[1]!.replace(/^\s*server\s+\S+.*;\n/gm, () => (first ? ((first = false), `${list}\n`) : ''));
  let config = shipped.replace(upstream[1]!, block);

  let listens = 0;
  config = config.replace(/^(\s*)listen\s+[^;]+;\n/gm, (_line, space: string) => (listens++ === 0 ? `${space}listen ${changes.listen};\n` : ''));
  if (listens === 0) throw new Error('parley.conf: no listen line');

  let logs = 0;
  config = config.replace(/^(\s*access_log\s+)\/\S+/gm, (_line, directive: string) => (logs++, `${directive}${changes.accessLog}`));
  if (logs !== 1) throw new Error(`parley.conf: expected one access_log with a path, found ${logs}`);

  const systemPath = config.split('\n').find((line) => !line.trim().startsWith('#') && /\s\/(var|etc|run|usr)\//.test(line));
  if (systemPath) throw new Error(`parley.conf: a system path the test does not replace: ${systemPath.trim()}`);
  return config;
}

/** A running nginx of the test's own. */
export interface RunningNginx {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  /** The GraphQL endpoint through nginx. */
  graphqlUrl: string;
  port: number;
  /** The config nginx runs (for failure messages). */
  config: string;
  /** The access log so far (the shipped `parley` format: `upstream=<address>` on every line). */
  accessLog(): Promise<string>;
  /** nginx's error log (stderr) so far. */
  readonly errors: string;
  /** Fast shutdown (SIGTERM: open connections are closed), SIGKILL to the group if that takes over 5 s; removes its directory. */
  stop(): Promise<void>;
}

/**
 * Starts nginx in a temporary prefix with the shipped config in front of `upstreams` on a free loopback port, and
 * resolves once it accepts connections (its master has bound the port and started its worker). Fails within 10 s.
 */
export async function startNginx(upstreams: readonly string[]): Promise<RunningNginx> {
  if (!existsSync(NGINX_BINARY)) throw new Error(`${NGINX_BINARY} is missing: apt-get install nginx (as .ci/run does)`);
  const shipped = await readFile(SHIPPED_CONFIG, 'utf8');
  let lastError: unknown;
  // freePort()'s port may be taken before nginx binds it: try another then.
  for (let attempt = 0; attempt < 3; attempt++) {
    const prefix = await mkdtemp(path.join(os.tmpdir(), 'parley-nginx-'));
    try {
      return await startIn(prefix, shipped, upstreams, await freePort());
    } catch (error) {
      await rm(prefix, { recursive: true, force: true });
      lastError = error;
      if (!(error instanceof Error && error.message.includes('Address already in use'))) throw error;
    }
  }
  throw lastError;
}

async function startIn(prefix: string, shipped: string, upstreams: readonly string[], port: number): Promise<RunningNginx> {
  const accessLogPath = path.join(prefix, 'access.log');
  const config = adaptShippedConfig(shipped, { upstreams, listen: `127.0.0.1:${port}`, accessLog: accessLogPath });
  await writeFile(path.join(prefix, 'parley.conf'), config);
  const temp = (name: string) => `${name}_temp_path ${path.join(prefix, name)};`;
  // The main file a distribution's nginx.conf would be; everything it writes stays in the prefix.
  const main = [
    // Workers would otherwise run as nobody, who cannot enter the temporary directory.
    process.getuid?.() === 0 ? 'user root;' : '',
    'worker_processes 1;',
    `pid ${path.join(prefix, 'nginx.pid')};`,
    'error_log stderr notice;',
    'events { worker_connections 1024; }',
    'http {',
    `  ${temp('client_body')} ${temp('proxy')} ${temp('fastcgi')} ${temp('uwsgi')} ${temp('scgi')}`,
    `  include ${path.join(prefix, 'parley.conf')};`,
    '}',
  ].join('\n');
  const mainPath = path.join(prefix, 'nginx.conf');
  await writeFile(mainPath, `${main}\n`);

  // A process group of its own, so that the master and its worker can be killed together whatever state they are in.
  const child = spawn(NGINX_BINARY, ['-p', `${prefix}/`, '-e', 'stderr', '-c', mainPath, '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  const killGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  // A test run that dies without its after hooks must not leave nginx holding a port.
  process.once('exit', killGroup);
  let errors = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      killGroup();
      reject(new Error(`nginx did not start within 10 s: ${errors}`));
    }, 10_000);
    const done = (error?: Error) => {
      clearTimeout(timer);
      child.stderr!.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve();
    };
    // The master binds the port before it starts its worker: from this line on, connections are accepted.
    const onData = (chunk: Buffer) => {
      errors += chunk.toString('utf8');
      if (/start worker process \d+/.test(errors)) done();
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      done(new Error(`nginx exited at start (${signal ?? `exit code ${code}`}): ${errors.trim()}\n--- parley.conf as run:\n${config}`));
    child.stderr!.on('data', onData);
    child.once('exit', onExit);
  });
  child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString('utf8')));

  let stopped: Promise<void> | undefined;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    graphqlUrl: `${origin}/graphql`,
    port,
    config,
    accessLog: () => readFile(accessLogPath, 'utf8').catch(() => ''),
    get errors() {
      return errors;
    },
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(killGroup, 5_000);
          await exited;
          clearTimeout(timer);
        }
        killGroup(); // a worker that outlived its master
        process.off('exit', killGroup);
        await rm(prefix, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

/** A Parley process started by `spawnParley`, with the port it listens on. */
export interface ParleyProcess {
  server: ServerProcess;
  port: number;
  /** `127.0.0.1:<port>`, for an upstream list. */
  address: string;
  /** The process's own origin (not through nginx), to ask one process for its /readyz or /metrics. */
  origin: string;
}

/**
 * Starts `count` Parley processes (node on src/main.ts, as `npm start`) on one database, one after another (each
 * migrates at start: never two at once), on free ports, trusting X-Forwarded-For from loopback as behind a local nginx.
 */
export async function spawnParley(count: number, env: Record<string, string | undefined>, started: ServerProcess[]): Promise<ParleyProcess[]> {
  const processes: ParleyProcess[] = [];
  for (let i = 0; i < count; i++) {
    const server = spawnServer({ PORT: '0', HOST: '127.0.0.1', TRUST_PROXY: 'loopback', NODE_ENV: 'production', LOG_LEVEL: 'info', ...env });
    started.push(server);
    const url = new URL((await server.waitForLog('Parley is listening', 60_000))['url'] as string);
    const port = Number(url.port);
    processes.push({ server, port, address: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` });
  }
  return processes;
}

/** For `after` hooks: SIGKILLs every process in `started` that is still running, and waits for each to be gone. */
export async function killLeftovers(started: readonly ServerProcess[]): Promise<void> {
  for (const server of started) {
    if (server.child.exitCode === null && server.child.signalCode === null && processExists(server.child.pid!)) server.child.kill('SIGKILL');
  }
  await Promise.all(started.map((server) => server.waitForExit(10_000).catch(() => undefined)));
}

/** Open WebSocket connections of one process, read from its own /metrics. */
export async function openSockets(parley: ParleyProcess): Promise<number> {
  const text = await (await fetch(`${parley.origin}/metrics`)).text();
  const line = /^parley_websocket_connections (\d+)/m.exec(text);
  if (!line) throw new Error(`no parley_websocket_connections in /metrics of ${parley.address}`);
  return Number(line[1]);
}
