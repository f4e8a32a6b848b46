/** Cleanups that must run even when the process exits without stopping what it started (a fatal error, exit()). */
const exitCleanups = new Set<() => void>();
/** Runs `cleanup` if the process exits before the returned function is called. */
export function atExit(cleanup: () => void): () => void {
  if (exitCleanups.size === 0 && process.listeners('exit').every((l) => l !== runExitCleanups)) process.on('exit', runExitCleanups);
  exitCleanups.add(cleanup);
  return () => exitCleanups.delete(cleanup);
}
function runExitCleanups(): void {
  for (const cleanup of exitCleanups) cleanup();
}
