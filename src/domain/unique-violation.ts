/** True when `error` is a violation (of any kind) of the named constraint or trigger-raised check. */
export function isConstraintViolation(error: unknown, constraint: string): boolean {
  return (error as { driverError?: { constraint?: string } } | null)?.driverError?.constraint === constraint;
}

/** True when `error` is PostgreSQL's unique violation (23505) on `constraint` (any constraint when omitted). */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const driverError = (error as { driverError?: { code?: string; constraint?: string } } | null)?.driverError;
  return driverError?.code === '23505' && (constraint === undefined || driverError.constraint === constraint);
}
