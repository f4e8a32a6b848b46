import cluster, { type Worker } from 'node:cluster';
import { resolveJwtSecret } from '../auth/jwt-secret.js';
import type { Config } from '../config.js';
import { locateDatabase, type DatabaseLocation } from '../db/database.js';
import { createDataSource } from '../db/data-source.js';
import type { Logger } from '../logger.js';
import { isParleyMessage, sendToWorker, type WorkerMessage } from './messages.js';
import { ClusterMetrics } from './metrics-aggregation.js';
import { RestartBackoff } from './restart-backoff.js';

/** One of the WORKERS places a worker runs in; a worker that exits unexpectedly is replaced in its slot. */
interface Slot {
  worker: Worker | undefined;
  forkedAt: number;
  listening: boolean;
  /** Whether a worker of this slot has listened yet: one that exits before that fails the start-up. */
  listenedOnce: boolean;
  backoff: RestartBackoff;
  restartTimer: NodeJS.Timeout | undefined;
}

interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

type Lifecycle =
  | { state: 'starting'; listening: () => void; failed: (error: Error) => void }
  | { state: 'running' }
  | { state: 'stopping'; done: Promise<void> };

/**
 * The node:cluster primary of WORKERS=N (N > 1): it serves nothing itself. It owns the embedded PostgreSQL when
 * DATABASE_URL is unset, applies migrations once, and forks N workers that each run the single-process app on the
 * shared port with DATABASE_URL, MIGRATE_ON_START=false and one JWT_SECRET. A worker that exits unexpectedly is
 * restarted after a backoff (100 ms doubling to 10 s, reset after 30 s up). `shutDown` forwards the signal to every
 * worker (SIGTERM drains each, SIGINT stops each at once), waits for them, then stops the embedded PostgreSQL.
 */
export class ClusterPrimary {
  private lifecycle: Lifecycle;
  private readonly started: Promise<void>;
  private readonly slots: Slot[];
  /** Live workers and their exit. */
  private readonly exits = new Map<Worker, Promise<ExitStatus>>();
  private readonly metrics: ClusterMetrics;
  private preparing: Promise<unknown> | undefined;
  private database: DatabaseLocation | undefined;
  private workerEnv: NodeJS.ProcessEnv = {};
  private url: string | undefined;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
  ) {
    let listening!: () => void;
    let failed!: (error: Error) => void;
    this.started = new Promise<void>((resolve, reject) => ((listening = resolve), (failed = reject)));
    this.lifecycle = { state: 'starting', listening, failed };
    this.slots = Array.from({ length: config.workers }, () => ({
      worker: undefined,
      forkedAt: 0,
      listening: false,
      listenedOnce: false,
      backoff: new RestartBackoff(),
      restartTimer: undefined,
    }));
    this.metrics = new ClusterMetrics(() => this.slots.flatMap((slot) => (slot.listening && slot.worker ? [slot.worker] : [])), log);
  }

  /**
   * Prepares the database, forks the workers and resolves once every one listens (logged as `Parley is listening`
   * with `url` and `workers`), or once a shutdown cut the start-up short.
   * @throws when the database cannot be started or migrated, or a worker exits before it listens; the workers
   *   started by then and the embedded PostgreSQL are stopped first.
   */
  async start(): Promise<void> {
    try {
      const prepared = (this.preparing = this.prepareWorkers());
      this.workerEnv = await prepared;
      if (this.lifecycle.state === 'stopping') return; // shutDown stops what was prepared
      this.log.info({ workers: this.slots.length }, 'starting workers');
      for (const slot of this.slots) this.fork(slot);
      await this.started;
    } catch (error) {
      if (this.lifecycle.state !== 'stopping') {
        this.lifecycle = { state: 'stopping', done: this.stopEverything('SIGINT') };
        await this.lifecycle.done.catch(() => {});
      }
      throw error;
    }
    if (this.lifecycle.state !== 'starting') return;
    this.lifecycle = { state: 'running' };
    this.log.info(
      { url: this.url, subscriptions: this.url?.replace(/^http/, 'ws'), workers: this.slots.length, database: this.database?.description },
      'Parley is listening',
    );
  }

  /**
   * Sends `signal` to every worker (SIGTERM: each drains; SIGINT: each stops at once), restarts none, waits for
   * them to exit and stops the embedded PostgreSQL. Safe to call more than once and at any time; during start-up
   * it waits for the database step in flight. Resolves when everything has stopped.
   * @throws when a worker's own shutdown failed (it exited with a non-zero code); everything is stopped anyway.
   */
  shutDown(signal: NodeJS.Signals): Promise<void> {
    switch (this.lifecycle.state) {
      case 'stopping':
        return this.lifecycle.done;
      case 'starting':
      case 'running': {
        const starting = this.lifecycle.state === 'starting' ? this.lifecycle : undefined;
        const done = this.stopEverything(signal).then(() => this.log.info('stopped'));
        this.lifecycle = { state: 'stopping', done };
        starting?.listening(); // start() has nothing more to wait for
        return done;
      }
      default:
        return this.lifecycle satisfies never;
    }
  }

  /** Starts (or finds) the database, migrates it once and returns what every worker gets on top of this environment. */
  private async prepareWorkers(): Promise<NodeJS.ProcessEnv> {
    this.database = await locateDatabase(this.config, this.log);
    if (this.config.migrateOnStart) await migrateOnce(this.database.url, this.log);
    // A secret generated in DATA_DIR is read once here, so every worker signs and checks tokens with the same one.
    const jwtSecret = await resolveJwtSecret(this.config);
    return { DATABASE_URL: this.database.url, MIGRATE_ON_START: 'false', JWT_SECRET: jwtSecret };
  }

  private fork(slot: Slot): void {
    const worker = cluster.fork(this.workerEnv);
    Object.assign(slot, { worker, forkedAt: Date.now(), listening: false, restartTimer: undefined });
    this.exits.set(worker, new Promise<ExitStatus>((resolve) => worker.once('exit', (code: number | null, signal: NodeJS.Signals | null) => resolve({ code, signal }))));
    worker.on('message', (message: unknown) => {
      if (isParleyMessage<WorkerMessage>(message)) this.received(slot, worker, message);
    });
    // An IPC send to a worker that is exiting; its exit is handled below.
    worker.on('error', (error: Error) => this.log.debug({ err: error, worker: worker.id }, 'worker channel error'));
    worker.once('exit', (code: number | null, signal: NodeJS.Signals | null) => this.exited(slot, worker, { code, signal }));
  }

  private received(slot: Slot, worker: Worker, message: WorkerMessage): void {
    switch (message.parley) {
      case 'listening':
        slot.listening = slot.listenedOnce = true;
        this.url ??= message.url;
        if (this.lifecycle.state === 'starting' && this.slots.every((s) => s.listening)) this.lifecycle.listening();
        return;
      case 'metrics-request':
        void this.metrics.aggregate().then((text) => sendToWorker(worker, { parley: 'metrics-result', requestId: message.requestId, text }));
        return;
      case 'metrics-report':
        this.metrics.received(worker, message.requestId, message.metrics);
        return;
      default:
        return message satisfies never;
    }
  }

  private exited(slot: Slot, worker: Worker, status: ExitStatus): void {
    this.exits.delete(worker);
    this.metrics.workerGone(worker);
    if (slot.worker === worker) Object.assign(slot, { worker: undefined, listening: false });
    const exit = status.signal ? `killed by ${status.signal}` : `exit code ${status.code}`;
    switch (this.lifecycle.state) {
      case 'stopping':
        this.log.info({ worker: worker.id, exit }, 'worker stopped');
        return;
      case 'starting':
        if (!slot.listenedOnce) {
          this.lifecycle.failed(new Error(`worker ${worker.id} exited (${exit}) before it was listening`));
          return;
        }
        break;
      case 'running':
        break;
      default:
        return this.lifecycle satisfies never;
    }
    const delayMs = slot.backoff.delayAfter(Date.now() - slot.forkedAt);
    this.log.warn({ worker: worker.id, pid: worker.process.pid, exit, restartInMs: delayMs }, 'worker exited unexpectedly: restarting it');
    slot.restartTimer = setTimeout(() => {
      this.metrics.workerRestarted();
      this.fork(slot);
    }, delayMs);
  }

  private async stopEverything(signal: NodeJS.Signals): Promise<void> {
    await this.preparing?.catch(() => {}); // its database, if it got one, is stopped below
    for (const slot of this.slots) clearTimeout(slot.restartTimer);
    const exits = [...this.exits];
    for (const [worker] of exits) {
      try {
        worker.process.kill(signal);
      } catch {
        // already gone: its exit is on its way
      }
    }
    const statuses = await Promise.all(exits.map(([, exited]) => exited));
    try {
      await this.database?.stop();
    } finally {
      const failed = statuses.filter((status) => status.code !== null && status.code !== 0).length;
      if (failed > 0) throw new Error(`${failed} of ${statuses.length} workers did not stop cleanly`);
    }
  }
}

/** Applies pending migrations before any worker starts, so that N workers do not race to apply them. */
async function migrateOnce(url: string, log: Logger): Promise<void> {
  const dataSource = createDataSource({ url, logger: log, poolSize: 1 });
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    if (applied.length > 0) log.info({ migrations: applied.map((m) => m.name) }, 'applied migrations');
  } finally {
    await dataSource.destroy();
  }
}
