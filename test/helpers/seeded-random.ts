/** A small deterministic PRNG (an LCG), so a test's mix of operations is the same on every run. Values in [0, 1). */
export function seededRandom(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    return x / 2 ** 31;
  };
}
