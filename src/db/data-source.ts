import path from 'node:path';
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import type { Logger } from '../logger.js';
import { MessageMention } from './entities/message-mention.entity.js';
import { MessageReaction } from './entities/message-reaction.entity.js';
import { Message } from './entities/message.entity.js';
import { RoomEventRecord } from './entities/room-event.entity.js';
import { RoomInvitation } from './entities/room-invitation.entity.js';
import { RoomMembership } from './entities/room-membership.entity.js';
import { Room } from './entities/room.entity.js';
import { UserBlock } from './entities/user-block.entity.js';
import { UserEventRecord } from './entities/user-event.entity.js';
import { User } from './entities/user.entity.js';
import { TypeOrmPinoLogger, type QueryObserver } from './query-observer.js';

/** Every entity, for the DataSource and the migration generator. */
export const ENTITIES = [User, Room, RoomMembership, RoomInvitation, Message, MessageReaction, RoomEventRecord, UserBlock, UserEventRecord, MessageMention];

// A glob built from a path, not a URL: the CLI finds nothing when the braces are URL-encoded.
const MIGRATIONS_GLOB = path.join(import.meta.dirname, '../../migrations/*.{ts,js}');

export interface DataSourceOptions {
  url: string;
  logger?: Logger;
  /** Sees every SQL statement; default none. */
  observeQuery?: QueryObserver;
  /** Connection pool size. Default 10. */
  poolSize?: number;
  /** Longest wait for a new connection before a statement fails. Default 5 s. */
  connectTimeoutMs?: number;
}

/** A DataSource for Parley's schema; not initialized. `synchronize` is always off: migrations own the schema. */
export function createDataSource(options: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    entities: ENTITIES,
    migrations: [MIGRATIONS_GLOB],
    migrationsTableName: 'migrations',
    synchronize: false,
    uuidExtension: 'pgcrypto',
    poolSize: options.poolSize ?? 10,
    // While PostgreSQL is unreachable, a request fails within this time instead of waiting for a connection.
    connectTimeoutMS: options.connectTimeoutMs ?? 5000,
    ...(options.logger ? { logger: new TypeOrmPinoLogger(options.logger, options.observeQuery) } : {}),
  });
}
