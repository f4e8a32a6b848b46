import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Who owns a DATA_DIR: the content of `DATA_DIR/owner.json`. One live process at a time runs the embedded
 * PostgreSQL of a data directory; every other process leaves that PostgreSQL alone.
 */
export interface DataDirOwner {
  pid: number;
  /**
   * When the process started, in clock ticks since boot (`/proc/<pid>/stat` field 22), so that an unrelated process
   * that was given the same pid later is not mistaken for the owner. Null where there is no /proc.
   */
  startTime: number | null;
  /** What holds it: `server` (npm start) or `migrate`. */
  command: string;
  /** The owner's embedded PostgreSQL, once it accepts connections. */
  postgres?: { port: number; pid: number };
}

/** Raised when another live process owns the data directory. */
export class DataDirInUseError extends Error {
  override name = 'DataDirInUseError';

  constructor(
    readonly dataDir: string,
    readonly owner: DataDirOwner,
  ) {
    super(
      `DATA_DIR is in use by pid ${owner.pid} (${owner.command === 'server' ? 'a running Parley server' : `parley ${owner.command}`}): ` +
        `stop it first or choose another DATA_DIR (${dataDir})`,
    );
  }
}

/** Ownership of a data directory, held until released (or until this process is gone). */
export interface DataDirLock {
  readonly dataDir: string;
  /** The owner record of a process that had died holding the directory, when this lock took it over. */
  readonly previousOwner: DataDirOwner | undefined;
  /** Records the embedded PostgreSQL in the owner file, so that other processes can find it. */
  setPostgres(postgres: { port: number; pid: number }): Promise<void>;
  /** Removes the owner file if it is still this process's. Safe to call more than once. */
  release(): Promise<void>;
  /** The same, synchronously, for `process.on('exit')`. */
  releaseSync(): void;
}

const OWNER_FILE = 'owner.json';
const HAS_PROC = existsSync('/proc/self/stat');
/** Data directories this process holds, so that its own pid in an owner file is recognised as itself. */
const held = new Set<string>();

/**
 * Takes ownership of `dataDir` (which must exist): creates `owner.json` atomically, or takes it over when the
 * process it names is gone.
 * @throws DataDirInUseError when a live process (this one included) owns it.
 */
export async function lockDataDir(dataDir: string, command: string): Promise<DataDirLock> {
  const file = path.join(dataDir, OWNER_FILE);
  const me: DataDirOwner = { pid: process.pid, startTime: processStartTime(process.pid), command };
  let previousOwner: DataDirOwner | undefined;
  for (let attempt = 0; attempt < 10; attempt++) {
    if (await createExclusive(file, JSON.stringify(me))) {
      held.add(dataDir);
      return ownedLock(dataDir, file, me, previousOwner);
    }
    const current = await readRaw(file);
    if (current === undefined) continue; // released in the meantime: try again
    const owner = parseOwner(current);
    if (owner && isOwnerAlive(owner, dataDir)) throw new DataDirInUseError(dataDir, owner);
    // The owner is gone (or the file is unreadable): move its file aside atomically and check that what was moved
    // is what was judged stale, since another process may have taken the directory over in the meantime.
    const aside = `${file}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await rename(file, aside);
    } catch (error) {
      if (isCode(error, 'ENOENT')) continue;
      throw error;
    }
    const moved = await readRaw(aside);
    if (moved !== current) await link(aside, file).catch(() => {}); // someone's fresh lock: put it back
    await unlink(aside).catch(() => {});
    if (moved === current && owner) previousOwner = owner;
  }
  throw new Error(`could not take ownership of DATA_DIR ${dataDir}: ${file} keeps changing`);
}

/**
 * The live owner of `dataDir`, if any (another process; this one is reported too if it holds the directory).
 */
export async function liveOwnerOf(dataDir: string): Promise<DataDirOwner | undefined> {
  const raw = await readRaw(path.join(dataDir, OWNER_FILE));
  const owner = raw === undefined ? undefined : parseOwner(raw);
  return owner && isOwnerAlive(owner, dataDir) ? owner : undefined;
}

function ownedLock(dataDir: string, file: string, me: DataDirOwner, previousOwner: DataDirOwner | undefined): DataDirLock {
  let record = me;
  let released = false;
  const stillMine = (raw: string | undefined) => {
    const owner = raw === undefined ? undefined : parseOwner(raw);
    return owner?.pid === me.pid && owner.startTime === me.startTime;
  };
  return {
    dataDir,
    previousOwner,
    async setPostgres(postgres) {
      if (released) return;
      record = { ...record, postgres };
      // Replaced atomically: a reader sees the old record or the new one, never half of one.
      const temp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(temp, JSON.stringify(record), { mode: 0o644 });
      await rename(temp, file);
    },
    async release() {
      if (released) return;
      released = true;
      held.delete(dataDir);
      if (stillMine(await readRaw(file))) await unlink(file).catch(() => {});
    },
    releaseSync() {
      if (released) return;
      released = true;
      held.delete(dataDir);
      let raw: string | undefined;
      try {
        raw = readFileSync(file, 'utf8');
      } catch {
        return;
      }
      if (stillMine(raw)) {
        try {
          unlinkSync(file);
        } catch {
          // already gone
        }
      }
    },
  };
}

/** Creates `file` with `content` only if it does not exist; the content is complete the moment the file appears. */
async function createExclusive(file: string, content: string): Promise<boolean> {
  const temp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, content, { mode: 0o644 });
  try {
    await link(temp, file); // atomic, and fails with EEXIST when the file exists
    return true;
  } catch (error) {
    if (isCode(error, 'EEXIST')) return false;
    if (!isCode(error, 'EPERM') && !isCode(error, 'ENOTSUP') && !isCode(error, 'EOPNOTSUPP')) throw error;
    // A file system without hard links: an exclusive create, written right after.
    try {
      await writeFile(file, content, { flag: 'wx', mode: 0o644 });
      return true;
    } catch (fallbackError) {
      if (isCode(fallbackError, 'EEXIST')) return false;
      throw fallbackError;
    }
  } finally {
    await unlink(temp).catch(() => {});
  }
}

async function readRaw(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (isCode(error, 'ENOENT')) return undefined;
    throw error;
  }
}

function parseOwner(raw: string): DataDirOwner | undefined {
  try {
    const value = JSON.parse(raw) as Partial<DataDirOwner>;
    if (!Number.isInteger(value.pid) || (value.pid as number) <= 0) return undefined;
    return {
      pid: value.pid as number,
      startTime: typeof value.startTime === 'number' ? value.startTime : null,
      command: typeof value.command === 'string' ? value.command : 'server',
      ...(value.postgres && Number.isInteger(value.postgres.port) ? { postgres: value.postgres } : {}),
    };
  } catch {
    return undefined;
  }
}

/** Whether the process an owner record names still runs: same pid, same start time, not a zombie. */
function isOwnerAlive(owner: DataDirOwner, dataDir: string): boolean {
  // This process's own pid in the file is a record left by an earlier process that had the same pid (in a
  // container the server is often pid 1 every time), unless this process holds the directory right now.
  if (owner.pid === process.pid) return held.has(dataDir);
  if (!processExists(owner.pid)) return false;
  if (!HAS_PROC) return true; // the pid alone has to do
  const stat = procStat(owner.pid);
  if (stat === undefined || stat.state === 'Z') return false; // gone since, or dead and not yet reaped
  return owner.startTime === null || owner.startTime === stat.startTime;
}

/** `kill(pid, 0)`: true when the process exists, also when it belongs to another user. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isCode(error, 'EPERM');
  }
}

/** The start time of a process in clock ticks since boot, or null where there is no /proc. */
export function processStartTime(pid: number): number | null {
  return procStat(pid)?.startTime ?? null;
}

/** State and start time from `/proc/<pid>/stat`; undefined when it cannot be read. */
function procStat(pid: number): { state: string; startTime: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Field 2 (the command) is in parentheses and may itself contain spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const startTime = Number(fields[19]); // field 22; fields[0] is field 3
  return Number.isFinite(startTime) ? { state: fields[0] ?? '', startTime } : undefined;
}

function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code;
}
