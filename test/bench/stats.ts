export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The middle value; with an even count, the mean of the two middle ones (two rounds: their mean, not the larger). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Waits for `condition`, checking every few ms; false when `timeoutMs` passes first. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return true;
}

/** A message of about 200 bytes carrying its send time, as every benchmark message does. */
export function benchMessage(sentAt: number, sequence: number): string {
  const head = `t=${sentAt.toFixed(3)};n=${sequence};`;
  return head + 'x'.repeat(Math.max(0, 200 - head.length));
}
