import { setTimeout as delay } from 'node:timers/promises';
import { execute, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { WebSocket } from 'ws';
import type { Authentication } from '../auth/authenticator.js';
import { isDatabaseUnavailable } from '../db/database-unavailable.js';
import type { DeliveredRoomEvent } from '../domain/room-events.js';
import type { Services } from '../domain/services.js';
import type { Viewer } from '../domain/viewer.js';
import type { FanOutCounters } from '../realtime/fan-out-counters.js';
import type { EventSink, Rendered } from '../realtime/stream-subscriber.js';
import { sendTextFrame } from './ws-text-frame.js';
import { createContext } from '../graphql/context.js';
import type { ErrorFormatter } from '../graphql/errors.js';
import { formatResult } from '../graphql/format-result.js';

/**
 * Close code for a subscriber whose socket buffer passed the limit: 1013 "Try Again Later", which graphql-ws
 * clients retry. The client reconnects and resumes from its last cursor; nobody else waits for it.
 */
export const SLOW_CONSUMER_CLOSE_CODE = 1013;
export const SLOW_CONSUMER_CLOSE_REASON = 'Slow consumer: reconnect and resume from your last cursor';

/**
 * Close code for the sockets of subscribers that could not be given an event because the database stayed
 * unreachable while it was rendered: 1013 as well, so graphql-ws clients retry, and resume from their cursor
 * (nothing after the last event they received was skipped).
 */
export const DATABASE_UNAVAILABLE_CLOSE_CODE = 1013;
export const DATABASE_UNAVAILABLE_CLOSE_REASON = 'Database unavailable: reconnect and resume from your last cursor';

/**
 * How long an event's render is retried while the database is unreachable (the room's other events wait behind
 * it), and the waits between attempts. An attempt that itself waits for a connection may end up to the pool's
 * connect timeout (5 s) past the deadline.
 */
const RENDER_RETRY_DEADLINE_MS = 4000;
const RENDER_RETRY_DELAYS_MS = [100, 250, 500, 1000];

/** An event could not be rendered because the database stayed unreachable. */
export class RenderUnavailableError extends Error {
  constructor(cause: unknown) {
    super('the database stayed unavailable while an event was rendered', { cause });
  }
}

export interface DirectDeliveryInput {
  socket: WebSocket;
  operationId: string;
  /** The document's id in the document cache: equal ids mean equal texts. */
  documentId: number;
  document: DocumentNode;
  operationName: string | null | undefined;
  variables: Record<string, unknown> | null | undefined;
  /** The selection reads fields that depend on the viewer: render per viewer instead of once for everyone. */
  viewerDependent: boolean;
  auth: Authentication;
  /** The subscription ended: with an error to report, or without. */
  end(error?: unknown): void;
}

export interface DirectDeliveryDeps {
  schema: GraphQLSchema;
  services: Services;
  formatError: ErrorFormatter;
  counters: FanOutCounters;
  /** Largest socket buffer before the subscriber is dropped, in bytes. */
  maxBufferedBytes: number;
}

/**
 * Writes a subscription's events straight to its socket as graphql-ws `next` frames: the payload is rendered (one
 * GraphQL execution, one JSON serialization) once per group of subscribers with the same document, variables and,
 * for viewer-dependent selections, viewer; each frame splices the subscriber's operation id in front of it.
 */
export function createDirectDelivery(input: DirectDeliveryInput, deps: DirectDeliveryDeps): EventSink<DeliveredRoomEvent> {
  const viewer: Viewer | null = input.auth.kind === 'user' ? input.auth.viewer : null;
  const variables = input.variables ?? {};
  const groupKey = [
    input.documentId,
    input.operationName ?? '',
    JSON.stringify(variables),
    input.viewerDependent ? (viewer?.id ?? '') : '',
  ].join('\u0000');
  // Byte-for-byte what graphql-ws's stringifyMessage({ id, type: 'next', payload }) produces: this subscriber's
  // prefix, then the payload and the closing brace, encoded once for the whole group.
  const framePrefix = `{"id":${JSON.stringify(input.operationId)},"type":"next","payload":`;
  const framePrefixBytes = Buffer.byteLength(framePrefix);
  const { socket } = input;

  // A field that reads the database while it is unreachable must not turn into an error payload the subscriber is
  // then moved past: retry the render, and when the outage lasts, fail so the transport closes the socket.
  const render = async (event: DeliveredRoomEvent): Promise<Rendered> => {
    const deadline = Date.now() + RENDER_RETRY_DEADLINE_MS;
    for (let attempt = 0; ; attempt++) {
      const result = await execute({
        schema: deps.schema,
        document: input.document,
        rootValue: event,
        contextValue: createContext(deps.services, input.auth),
        variableValues: variables,
        operationName: input.operationName,
      });
      const outage = result.errors?.find((error) => isDatabaseUnavailable(error.originalError));
      if (!outage) return Buffer.from(`${JSON.stringify(formatResult(result, deps.formatError))}}`);
      const wait = RENDER_RETRY_DELAYS_MS[Math.min(attempt, RENDER_RETRY_DELAYS_MS.length - 1)]!;
      if (Date.now() + wait > deadline) throw new RenderUnavailableError(outage.originalError);
      await delay(wait);
    }
  };

  const writeRendered = (payload: Rendered): void => {
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > deps.maxBufferedBytes) {
      deps.counters.slowConsumersDropped++;
      socket.close(SLOW_CONSUMER_CLOSE_CODE, SLOW_CONSUMER_CLOSE_REASON);
      // The close frame queues behind the unread data; a client that reads nothing would hold the socket until
      // ws's 30 s close timeout, so cut it after a short grace.
      setTimeout(() => socket.terminate(), 1000).unref();
      return;
    }
    sendTextFrame(socket, framePrefix, framePrefixBytes, Buffer.isBuffer(payload) ? payload : Buffer.from(payload));
  };

  return {
    groupKey,
    render,
    writeRendered,
    deliver: async (event) => writeRendered(await render(event)),
    end: input.end,
  };
}
