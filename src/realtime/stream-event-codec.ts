/**
 * What crosses between a writer and the fan-out as text: a stream key and a plain event (ids, seqs, values and the
 * snapshots a publisher attached; Dates kept as Dates). A bus between processes carries this; the in-process bus
 * needs no copy, and SerializingStreamEventBus proves, in tests, that nothing published depends on object identity.
 */
export function encodeStreamEvent(stream: string, event: unknown): string {
  return JSON.stringify({ stream, event }, function (this: Record<string, unknown>, key, value: unknown) {
    const original = this[key]; // JSON.stringify has already turned a Date into a string by the time `value` is seen
    return original instanceof Date ? { $date: original.toISOString() } : value;
  });
}

export function decodeStreamEvent<TEvent>(text: string): { stream: string; event: TEvent } {
  return JSON.parse(text, (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && '$date' in value && Object.keys(value).length === 1) {
      return new Date((value as { $date: string }).$date);
    }
    return value;
  }) as { stream: string; event: TEvent };
}
