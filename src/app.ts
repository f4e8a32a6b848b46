import type { AddressInfo } from 'node:net';
import { Authenticator } from './auth/authenticator.js';
import { ExternalTokenVerifier } from './auth/external-tokens.js';
import { resolveJwtSecret } from './auth/jwt-secret.js';
import { PasswordHasher } from './auth/passwords.js';
import { TokenService } from './auth/tokens.js';
import type { Config } from './config.js';
import { locateDatabase } from './db/database.js';
import { createDataSource } from './db/data-source.js';
import type { QueryObserver } from './db/query-observer.js';
import { AccountErasure } from './domain/account-erasure.js';
import { AccountsService } from './domain/accounts.service.js';
import { systemClock, type Clock } from './domain/clock.js';
import { BlocksService } from './domain/blocks.service.js';
import { DirectoryService } from './domain/directory.service.js';
import { DirectRoomsService } from './domain/direct-rooms.service.js';
import { MessageSearchService } from './domain/message-search.service.js';
import { MessagesService } from './domain/messages.service.js';
import { SearchIndexer } from './domain/search-indexer.js';
import { PresenceService } from './domain/presence.service.js';
import { RoomMembersService } from './domain/room-members.js';
import { ReactionsService } from './domain/reactions.service.js';
import { ReadStateService } from './domain/read-state.service.js';
import type { DeliveredRoomEvent, RoomEvent, RoomEvents } from './domain/room-events.js';
import { RoomStreamService } from './domain/room-stream.service.js';
import { RoomsService } from './domain/rooms.service.js';
import { TypingService } from './domain/typing.service.js';
import type { Services } from './domain/services.js';
import { UsersService } from './domain/users.service.js';
import { createErrorFormatter } from './graphql/errors.js';
import { buildSchema } from './graphql/schema.js';
import { createLogger, type Logger } from './logger.js';
import { InProcessStreamEventBus, SerializingStreamEventBus, type StreamEventBus } from './realtime/stream-event-bus.js';
import { roomStream, SIGNED_OUT_STREAM, userStream } from './realtime/stream-keys.js';
import { InboxService } from './domain/inbox.service.js';
import { RoomActivity } from './domain/room-activity.js';
import type { PresenceChange } from './domain/presence.js';
import type { FanOutCounters } from './realtime/fan-out-counters.js';
import { StreamFanOut } from './realtime/stream-fan-out.js';
import type { DeliveredUserEvent, UserEvent, UserEvents } from './domain/user-events.js';
import { noMessageNotifications, type MessageNotifications } from './domain/message-notifications.js';
import { webhookNotifications } from './notifications/offline-notifications.js';
import type pg from 'pg';
import { healthRoutes, within } from './transport/health.js';
import { createHttpTransport } from './transport/http.js';
import { createMetrics, metricsRoute, observeCommitToSocket, observeSends, timeHttpRequests, type MetricsAggregation } from './transport/metrics.js';
import { clientAddressOf } from './transport/client-address.js';
import { OriginPolicy } from './transport/origin-policy.js';
import { createWsTransport } from './transport/ws.js';
import { createPresenceStore, createRateLimits, crossProcessBus, type BusEvent } from './shared-state.js';

export interface AppOptions {
  /** Default: a pino logger built from the config. */
  logger?: Logger;
  /** Sees every SQL statement (tests count them). Default none. */
  observeQuery?: QueryObserver;
  /** Time for typing expiry and throttling and for closing sockets when their token expires. Default the system clock. */
  clock?: Clock;
  /**
   * Every published event reaches the fan-out as a copy decoded from its text form, as it would through a bus
   * between processes (tests prove with it that what is published is plain data). Default off.
   */
  serializeStreamEvents?: boolean;
  /** The message of the line logged once the port is bound. Default `Parley is listening` (a cluster worker's differs). */
  listeningMessage?: string;
  /** What GET /metrics serves instead of this app's registry alone (a cluster worker: every worker's sum). Default none. */
  aggregateMetrics?: MetricsAggregation;
}

/** A started server. */
export interface RunningApp {
  /** `http://host:port/graphql`; the WebSocket endpoint is the same URL with `ws:`. */
  url: string;
  port: number;
  /** Live figures of the fan-out, for tests and benchmarks. */
  stats(): AppStats;
  /**
   * The graceful stop for SIGTERM: /readyz answers 503 at once; after DRAIN_DELAY the server stops as `stop()` does,
   * except that sockets are closed with 1012 (service restart) so clients reconnect, elsewhere, and resume. A `stop()`
   * meanwhile cuts the delay short. Resolves when stopped.
   */
  drain(): Promise<void>;
  /**
   * Stops accepting, closes sockets with 1001, drains HTTP, closes the database pool and stops the embedded
   * PostgreSQL. Safe to call more than once; every call resolves when the first one finishes.
   */
  stop(): Promise<void>;
}

export interface AppStats {
  counters: FanOutCounters;
  /** Rooms with at least one subscriber. */
  subscribedRooms: number;
  /** Room subscriptions in all. */
  subscriptions: number;
  sockets: number;
}

type Lifecycle =
  | { state: 'running' }
  | { state: 'draining'; done: Promise<void>; endDelay: () => void }
  | { state: 'stopping'; done: Promise<void> };

/** How long /readyz waits for `SELECT 1` before it calls the database unreachable. */
const READY_QUERY_TIMEOUT_MS = 1000;

/**
 * The composition root: opens the database (embedded when DATABASE_URL is unset), migrates it when configured,
 * builds the services and serves GraphQL over HTTP and WebSocket on `config.port`.
 * @throws when the database cannot be reached or migrated, or the port cannot be bound; whatever had started
 *   by then is stopped first.
 */
export async function startApp(config: Config, options: AppOptions = {}): Promise<RunningApp> {
  const log = options.logger ?? createLogger(config);
  const cleanups: (() => Promise<void>)[] = [];
  const unwind = async () => {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => log.error({ err: error }, 'error while stopping'));
    }
  };

  // Read by /readyz, which is served from the moment the port is bound.
  let lifecycle: Lifecycle = { state: 'running' };
  try {
    const database = await locateDatabase(config, log);
    cleanups.push(() => database.stop());
    const dataSource = createDataSource({ url: database.url, logger: log, ...(options.observeQuery ? { observeQuery: options.observeQuery } : {}) });
    await dataSource.initialize();
    cleanups.push(() => dataSource.destroy());
    if (config.migrateOnStart) {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      if (applied.length > 0) log.info({ migrations: applied.map((m) => m.name) }, 'applied migrations');
    }

    const tokens = new TokenService(await resolveJwtSecret(config), config.jwtTtlSeconds);
    // One bus for every stream: rooms' logs and users' own logs, published after commit; between processes too when
    // BUS is on (see crossProcessBus).
    const afterBusCheck = { run: async () => {} }; // set once the WebSocket transport exists
    const crossProcess = config.bus === 'off' ? undefined : crossProcessBus(config, database.url, dataSource, log, () => afterBusCheck.run());
    const bus: StreamEventBus<BusEvent> =
      crossProcess ?? (options.serializeStreamEvents ? new SerializingStreamEventBus<BusEvent>() : new InProcessStreamEventBus<BusEvent>());
    const events: RoomEvents = { publish: (roomId, event) => bus.publish(roomStream(roomId), event) };
    const userEvents: UserEvents = { publish: (userId, event) => bus.publish(userStream(userId), event) };
    // RoomActivity is worked out in each process for its own inboxes, from room events every process hears.
    const localUserEvents: UserEvents = crossProcess ? { publish: (userId, event) => crossProcess.publishHere(userStream(userId), event) } : userEvents;
    const clock = options.clock ?? systemClock;
    const commitToSocket = { observe: (_event: { at?: Date; seq?: number | undefined }) => {} }; // set once metrics exist
    // The same fan-out code for both kinds of stream; each follows only its own kind, so sees only its events.
    const fanOut = new StreamFanOut<DeliveredRoomEvent>(bus as StreamEventBus<RoomEvent>, { onFannedOut: (event) => commitToSocket.observe(event) });
    const inboxFanOut = new StreamFanOut<DeliveredUserEvent>(bus as StreamEventBus<UserEvent>);
    const roomActivity = new RoomActivity(bus, localUserEvents, clock, config.inboxActivityThrottleMs, log);
    if (crossProcess) {
      crossProcess.addPositions((stream) => fanOut.lowestLiveSeq(stream));
      crossProcess.addPositions((stream) => inboxFanOut.lowestLiveSeq(stream));
      await crossProcess.start();
      cleanups.push(() => crossProcess.stop());
    }
    const notifications: MessageNotifications = config.notifyWebhook
      ? webhookNotifications(config.notifyWebhook, dataSource, log, (userId) => ws.isConnected(userId), cleanups) // ws: created below, asked only after a send
      : noMessageNotifications;
    const metrics = createMetrics({
      sockets: () => ws.socketCount(), // ws: created below, read only at scrape time
      subscriptions: () => ({ room: fanOut.totalSubscribers(), inbox: inboxFanOut.totalSubscribers() }),
      counters: fanOut.counters,
      bus: crossProcess ? () => ({ counters: crossProcess.counters, listening: crossProcess.listening() }) : undefined,
      pool: () => {
        const pool = (dataSource.driver as unknown as { master?: pg.Pool }).master;
        return { total: pool?.totalCount ?? 0, idle: pool?.idleCount ?? 0, waiting: pool?.waitingCount ?? 0 };
      },
    });
    commitToSocket.observe = observeCommitToSocket(metrics);
    const limits = createRateLimits(config, dataSource, log, cleanups);
    const passwords = new PasswordHasher();
    const users = new UsersService(dataSource, passwords, tokens, limits);
    // Fills in the search vectors sends leave out; stopped (waiting for a batch in flight) before the pool closes.
    const searchIndexer = new SearchIndexer(dataSource, clock, { delayMs: config.searchIndexDelayMs, intervalMs: config.searchIndexIntervalMs }, log);
    searchIndexer.start();
    cleanups.push(() => searchIndexer.stop());
    const presenceStore = await createPresenceStore(config, dataSource, bus as unknown as StreamEventBus<PresenceChange>, log, cleanups);
    const services: Services = {
      users,
      rooms: new RoomsService(dataSource, events, limits, userEvents),
      messages: new MessagesService(dataSource, events, limits, { maxLength: config.messageMaxLength, groupCommit: config.sendGroupCommit, observeSend: observeSends(metrics) }, log, userEvents, notifications, searchIndexer),
      reactions: new ReactionsService(dataSource, events, userEvents),
      readState: new ReadStateService(dataSource, events, clock),
      typing: new TypingService(dataSource, events, clock),
      roomStream: new RoomStreamService(dataSource, fanOut, { replayLimit: config.replayLimit }),
      presence: new PresenceService(dataSource, presenceStore, clock, { offlineGraceMs: config.presenceOfflineGraceMs, throttleMs: config.presenceThrottleMs }, log),
      accounts: new AccountsService(dataSource, passwords, tokens, limits, users, new AccountErasure(dataSource, events, userEvents)),
      directory: new DirectoryService(dataSource, limits),
      directRooms: new DirectRoomsService(dataSource, limits, userEvents),
      inbox: new InboxService(dataSource, inboxFanOut, roomActivity, { replayLimit: config.replayLimit }),
      members: new RoomMembersService(dataSource),
      blocks: new BlocksService(dataSource),
      messageSearch: new MessageSearchService(dataSource, limits, log),
    };
    cleanups.push(async () => {
      services.typing.dispose();
      services.readState.dispose();
    });
    // Runs after the sockets have closed (cleanups run in reverse) and before the pool does: stops grace timers and
    // waits for presence writes in flight.
    cleanups.push(() => services.presence.dispose());
    services.blocks.onChange((blockerId, blockedId, blocked) => services.presence.blockChanged(blockerId, blockedId, blocked));
    const external = config.externalIdentity ? new ExternalTokenVerifier(config.externalIdentity) : undefined;
    const authenticator = new Authenticator(tokens, users, {}, external);
    // A sign-out (or password change, or deletion) in any process closes the user's sockets and drops cached tokens in all.
    users.onSignOut((userId) => bus.publish(SIGNED_OUT_STREAM, { kind: 'SIGNED_OUT', userId } as unknown as BusEvent));
    bus.subscribe(SIGNED_OUT_STREAM, (event) => {
      const { userId } = event as unknown as { userId: string };
      authenticator.forgetUser(userId);
      ws.signedOut(userId); // ws: created below, before any request can sign out
    });
    // A sign-out message the bus lost: each check compares the sockets' token versions with the users' (ws: below).
    afterBusCheck.run = async () => {
      for (const userId of await ws.revalidate((ids) => users.tokenVersions(ids))) authenticator.forgetUser(userId);
      const cached = authenticator.cachedUsers();
      if (cached.length > 0) authenticator.forgetStale(await users.tokenVersions(cached), cached);
    };
    const schema = buildSchema();
    const production = config.nodeEnv === 'production';
    const formatError = createErrorFormatter(log, { hideSuggestions: production });
    const origins = new OriginPolicy(config.corsOrigins);
    const clientAddress = clientAddressOf(config.trustProxy);

    const readiness = async (): Promise<string | undefined> => {
      if (lifecycle.state !== 'running') return 'draining';
      try {
        await within(dataSource.query('SELECT 1'), READY_QUERY_TIMEOUT_MS, 'the database');
      } catch (error) {
        return `database unreachable: ${error instanceof Error ? error.message : String(error)}`;
      }
      if (crossProcess && !crossProcess.listening()) return `bus unreachable: not listening on ${config.bus}`;
      return undefined;
    };
    const http = createHttpTransport({
      schema,
      services,
      authenticator,
      formatError,
      production,
      playground: config.playground,
      origins,
      clientAddressOf: clientAddress,
      bodyLimit: config.httpBodyLimit,
      operationalRoutes: [healthRoutes(readiness), metricsRoute(metrics, config.metricsToken, options.aggregateMetrics?.(metrics.registry))],
      timeRequests: timeHttpRequests(metrics),
    });
    const ws = createWsTransport({
      httpServer: http.httpServer,
      schema,
      services,
      authenticator,
      formatError,
      log,
      production,
      counters: fanOut.counters,
      maxBufferedBytes: config.wsMaxBufferedBytes,
      origins,
      clientAddressOf: clientAddress,
      maxPayload: config.wsMaxPayload,
      connectionInitTimeoutMs: config.wsConnectionInitTimeoutMs,
      connectTimeoutMs: config.wsConnectTimeoutMs,
      keepAliveMs: config.wsKeepAliveMs,
      maxOperationsPerSocket: config.wsMaxSubscriptionsPerSocket,
      maxSocketsPerUser: config.wsMaxSocketsPerUser,
      clock,
    });
    http.apollo.addPlugin(ws.drainPlugin);
    await http.start();
    cleanups.push(() => http.apollo.stop()); // drains HTTP and closes every socket with 1001

    await new Promise<void>((resolve, reject) => {
      http.httpServer.once('error', reject);
      http.httpServer.listen(config.port, config.host, () => {
        http.httpServer.off('error', reject);
        resolve();
      });
    });
    const { port } = http.httpServer.address() as AddressInfo;
    const url = `http://${config.urlHost}:${port}/graphql`;
    log.info({ url, subscriptions: url.replace(/^http/, 'ws'), database: database.description }, options.listeningMessage ?? 'Parley is listening');

    const beginStopping = () => {
      log.info('stopping');
      const done = unwind().then(() => log.info('stopped'));
      lifecycle = { state: 'stopping', done };
      return done;
    };
    const stop = (): Promise<void> => {
      switch (lifecycle.state) {
        case 'draining':
          lifecycle.endDelay(); // the drain's own call to stop() then finds it stopping
          return beginStopping();
        case 'running':
          return beginStopping();
        case 'stopping':
          return lifecycle.done;
        default:
          return lifecycle satisfies never;
      }
    };
    return {
      url,
      port,
      stats: () => ({
        counters: fanOut.counters,
        subscribedRooms: fanOut.streamCount(),
        subscriptions: fanOut.totalSubscribers() + inboxFanOut.totalSubscribers(),
        sockets: ws.socketCount(),
      }),
      drain() {
        if (lifecycle.state !== 'running') return lifecycle.done;
        log.info({ delayMs: config.drainDelayMs }, 'draining');
        ws.restarting();
        let endDelay!: () => void;
        const delayed = new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, config.drainDelayMs);
          endDelay = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        const done = delayed.then(stop);
        lifecycle = { state: 'draining', done, endDelay };
        return done;
      },
      stop,
    };
  } catch (error) {
    await unwind();
    throw error;
  }
}
