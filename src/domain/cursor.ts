import { BadUserInputError } from './errors.js';

/** A position in a room's sequence. Opaque to clients: `base64url("m1:<roomId>:<seq>")`. */
export interface RoomPosition {
  roomId: string;
  seq: number;
}

const PREFIX = 'm1';

/** Encodes the cursor of the message at `seq` in `roomId`. */
export function encodeCursor(roomId: string, seq: number): string {
  return Buffer.from(`${PREFIX}:${roomId}:${seq}`).toString('base64url');
}

/**
 * Decodes a cursor that must belong to `roomId` and returns its seq.
 * @throws BadUserInputError naming `argumentName` when the cursor is malformed or from another room.
 */
export function decodeCursor(cursor: string, roomId: string, argumentName: string): number {
  const parts = Buffer.from(cursor, 'base64url').toString('utf8').split(':');
  const seq = Number(parts[2]);
  if (parts.length !== 3 || parts[0] !== PREFIX || !Number.isSafeInteger(seq) || seq < 0) {
    throw new BadUserInputError(`${argumentName} is not a valid cursor`, argumentName);
  }
  if (parts[1] !== roomId) {
    throw new BadUserInputError(`${argumentName} is a cursor of another room`, argumentName);
  }
  return seq;
}

/** A position in a user's own log (the inbox). Opaque to clients: `base64url("u1:<userId>:<seq>")`. */
const INBOX_PREFIX = 'u1';

/** Encodes the cursor of the inbox event at `seq` of `userId`'s log. */
export function encodeInboxCursor(userId: string, seq: number): string {
  return Buffer.from(`${INBOX_PREFIX}:${userId}:${seq}`).toString('base64url');
}

/**
 * Decodes an inbox cursor that must belong to `userId` and returns its seq.
 * @throws BadUserInputError naming `argumentName` when the cursor is malformed or another user's.
 */
export function decodeInboxCursor(cursor: string, userId: string, argumentName: string): number {
  const parts = Buffer.from(cursor, 'base64url').toString('utf8').split(':');
  const seq = Number(parts[2]);
  if (parts.length !== 3 || parts[0] !== INBOX_PREFIX || parts[1] !== userId || !Number.isSafeInteger(seq) || seq < 0) {
    throw new BadUserInputError(`${argumentName} is not a valid inbox cursor`, argumentName);
  }
  return seq;
}

/** As requireReached, for the viewer's own log. */
export function requireInboxReached(seq: number, lastSeq: number, argumentName: string): number {
  if (seq > lastSeq) throw new BadUserInputError(`${argumentName} is a cursor ahead of your inbox (it is at seq ${lastSeq})`, argumentName);
  return seq;
}

/**
 * Refuses a cursor naming a seq the room has not reached: no server ever handed it out, and a stream started after
 * it would wait silently for events that may never come.
 * @throws BadUserInputError naming `argumentName` when `seq` is past `lastSeq`.
 */
export function requireReached(seq: number, lastSeq: number, argumentName: string): number {
  if (seq > lastSeq) throw new BadUserInputError(`${argumentName} is a cursor ahead of the room (the room is at seq ${lastSeq})`, argumentName);
  return seq;
}
