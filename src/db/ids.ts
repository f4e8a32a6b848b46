const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a syntactically valid UUID. Other strings cannot name a row, so callers treat them as not found. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
