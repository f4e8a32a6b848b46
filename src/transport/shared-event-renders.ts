import {
  createSourceEventStream,
  execute,
  getOperationAST,
  Kind,
  subscribe,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
} from 'graphql';
import type { DocumentCache } from '../graphql/document-cache.js';
import { fieldsWithDirective } from '../graphql/schema-directives.js';
import type { FanOutCounters } from '../realtime/fan-out-counters.js';

/** Most renders (distinct documents and render variables) kept per event object. */
const MAX_RENDERS_PER_EVENT = 32;

type SubscribeResult = Promise<AsyncGenerator<ExecutionResult> | ExecutionResult>;

/**
 * graphql-ws's `subscribe` (for the subscriptions it serves itself). A subscription to a field marked
 * `@sharedEvents` (`presence`) whose selection reads no `@viewerDependent` field executes each event once per
 * document and render variables, for every subscriber the same event object reaches (a reconnect storm's initial
 * states are the same objects for every watcher of a user), instead of once per subscriber. Everything else is
 * graphql-js's own `subscribe`.
 */
export function createSharedEventSubscribe(schema: GraphQLSchema, documents: DocumentCache, counters: FanOutCounters): (args: ExecutionArgs) => SubscribeResult {
  const sharedFields = fieldsWithDirective(schema, 'sharedEvents');
  /** Renders of each event object by render key; dropped with the event once every subscriber is past it. */
  const renders = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();

  return async (args) => {
    const prepared = documents.preparedOf(args.document);
    const root = getOperationAST(args.document, args.operationName)?.selectionSet.selections[0];
    const shared =
      prepared?.ok && !prepared.viewerDependent && !prepared.directRoomDependent && root?.kind === Kind.FIELD && sharedFields.has(`Subscription.${root.name.value}`);
    if (!shared || !prepared.ok) return subscribe(args);
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source; // refused: an ExecutionResult with the errors
    const variables = args.variableValues ?? {};
    // An omitted variable (its default applies) is not the same as an explicit null.
    const key = JSON.stringify([prepared.id, args.operationName ?? null, prepared.renderVariables.map((name) => (Object.hasOwn(variables, name) ? [variables[name]] : []))]);
    const render = (event: unknown): Promise<ExecutionResult> => {
      counters.sharedEventDeliveries++;
      const run = async () => {
        counters.sharedEventRenders++;
        return execute({ ...args, rootValue: event });
      };
      if (typeof event !== 'object' || event === null) return run();
      let byKey = renders.get(event);
      if (!byKey) renders.set(event, (byKey = new Map()));
      let rendered = byKey.get(key);
      if (rendered) return rendered;
      rendered = run();
      // An event object can live long (a quiet user's last change): a client cycling through new documents must not
      // grow its renders without bound. Past the cap, renders are not kept.
      if (byKey.size < MAX_RENDERS_PER_EVENT) byKey.set(key, rendered);
      return rendered;
    };
    return mapEvents(source as AsyncGenerator<unknown>, render);
  };
}

/**
 * The source's events rendered one by one. Its `return` goes straight to the source: a subscription waiting for its
 * next event must still end at once when the client completes it (an async generator function would wait).
 */
function mapEvents(source: AsyncGenerator<unknown>, render: (event: unknown) => Promise<ExecutionResult>): AsyncGenerator<ExecutionResult> {
  const mapped: AsyncGenerator<ExecutionResult> = {
    async next() {
      const step = await source.next();
      return step.done ? { done: true, value: undefined } : { done: false, value: await render(step.value) };
    },
    async return() {
      await source.return(undefined);
      return { done: true, value: undefined };
    },
    async throw(error: unknown) {
      await source.return(undefined);
      throw error;
    },
    [Symbol.asyncIterator]() {
      return mapped;
    },
  };
  return mapped;
}
