import { createSourceEventStream, GraphQLError, Kind, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { MessageType, stringifyMessage, type SubscribePayload } from 'graphql-ws';
import type { WebSocket } from 'ws';
import type { Authentication } from '../auth/authenticator.js';
import { isDatabaseUnavailable } from '../db/database-unavailable.js';
import { createContext } from '../graphql/context.js';
import { formatOperationErrors, formatResult } from '../graphql/format-result.js';
import { createDirectDelivery, DATABASE_UNAVAILABLE_CLOSE_CODE, DATABASE_UNAVAILABLE_CLOSE_REASON, type DirectDeliveryDeps } from './ws-direct-delivery.js';

/**
 * True when the operation is a subscription to a field marked `@roomStream` (named at the root; `roomStreamFields`
 * as fieldsWithDirective gives them): its resolver follows the room through the sink in the context
 * (`ctx.eventSink`), so the grouped fan-out can serve it.
 */
export function isDirectSubscription(operation: OperationDefinitionNode | null | undefined, roomStreamFields: ReadonlySet<string>): boolean {
  if (operation?.operation !== 'subscription') return false;
  const [root] = operation.selectionSet.selections;
  return root?.kind === Kind.FIELD && roomStreamFields.has(`Subscription.${root.name.value}`);
}

interface Active {
  /** The stream's handle once subscribing finished: `return()` unsubscribes. */
  handle?: AsyncGenerator<unknown, void>;
}

/**
 * One socket's room subscriptions, served outside graphql-ws's operation loop: the field's resolver registers a
 * direct delivery with the fan-out, which writes `next` frames to the socket itself, so a subscription holds no
 * suspended execution and no per-operation state beyond its fan-out subscriber. The frames are those graphql-ws
 * sends for the same operation: errors before the stream starts come as `next` + `complete`, an error that ends
 * it as `error`, a normal end as `complete`; a client's `complete` ends it silently.
 */
export class DirectSubscriptions {
  private readonly active = new Map<string, Active>();

  constructor(
    private readonly socket: WebSocket,
    private readonly deps: DirectDeliveryDeps,
  ) {}

  has(id: string): boolean {
    return this.active.has(id);
  }

  /** Subscriptions open (or starting) on the socket. */
  get size(): number {
    return this.active.size;
  }

  /** Subscribes operation `id`; resolves when it is registered or refused (the refusal sent to the client). */
  async start(id: string, prepared: { id: number; document: DocumentNode; viewerDependent: boolean }, payload: SubscribePayload, auth: Authentication): Promise<void> {
    const entry: Active = {};
    this.active.set(id, entry);
    const delivery = createDirectDelivery(
      {
        socket: this.socket,
        operationId: id,
        documentId: prepared.id,
        document: prepared.document,
        operationName: payload.operationName,
        variables: payload.variables,
        viewerDependent: prepared.viewerDependent,
        auth,
        end: (error) => this.ended(id, entry, error),
      },
      this.deps,
    );
    const result = await createSourceEventStream({
      schema: this.deps.schema,
      document: prepared.document,
      variableValues: payload.variables,
      operationName: payload.operationName,
      contextValue: createContext(this.deps.services, auth, { eventSink: delivery }),
    });
    const stillWanted = this.active.get(id) === entry;
    if (Symbol.asyncIterator in result) {
      const handle = result as AsyncGenerator<unknown, void>;
      if (stillWanted) entry.handle = handle;
      else void handle.return(); // completed, closed or ended while subscribing
      return;
    }
    if (!stillWanted) return;
    this.active.delete(id);
    this.send({ id, type: MessageType.Next, payload: formatResult(result, this.deps.formatError) });
    this.send({ id, type: MessageType.Complete });
  }

  /** The client's `complete`: ends the subscription without a reply. False for an id this socket does not serve. */
  complete(id: string): boolean {
    const entry = this.active.get(id);
    if (!entry) return false;
    this.active.delete(id);
    void entry.handle?.return();
    return true;
  }

  /** The socket closed: ends every subscription. */
  closeAll(): void {
    for (const entry of this.active.values()) void entry.handle?.return();
    this.active.clear();
  }

  private ended(id: string, entry: Active, error: unknown): void {
    if (this.active.get(id) !== entry) return;
    this.active.delete(id);
    if (isDatabaseUnavailable(error)) {
      // Not the subscription's fault and not final: a socket close stock clients retry, so they resume from the
      // last event they received instead of treating an `error` message as the end of the stream.
      this.socket.close(DATABASE_UNAVAILABLE_CLOSE_CODE, DATABASE_UNAVAILABLE_CLOSE_REASON);
      return;
    }
    if (error === undefined) {
      this.send({ id, type: MessageType.Complete });
      return;
    }
    const original = error instanceof Error ? error : new Error(String(error));
    const wrapped = new GraphQLError(original.message, { originalError: original });
    this.send({ id, type: MessageType.Error, payload: formatOperationErrors([wrapped], this.deps.formatError) });
  }

  private send(message: Parameters<typeof stringifyMessage>[0]): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(stringifyMessage(message));
  }
}
