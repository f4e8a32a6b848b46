import type { DataSource, EntityManager } from 'typeorm';
import { Message } from '../db/entities/message.entity.js';
import { lockRoomAccess, type RoomAccess } from '../db/queries/room-accesses.js';
import { appendRoomEvent, type NewRoomEvent } from './room-log.js';
import { NotFoundError } from './errors.js';
import { isUuid } from '../db/ids.js';
import { isVisible, membershipOrFail } from './room-access.js';
import type { PersistedRoomEvent, RoomEvents } from './room-events.js';
import type { Viewer } from './viewer.js';
import { userEventOfRoomEvent } from './membership-user-events.js';
import { appendUserEvent } from './user-log.js';
import type { PersistedUserEvent, UserEvents } from './user-events.js';

/** What a change to a room sees and may do, inside its transaction, with the room locked. */
export interface RoomChange {
  readonly tx: EntityManager;
  /** The room and where the viewer stands in it, read under the lock: it holds until the change commits. */
  readonly access: RoomAccess;
  /**
   * Appends an event at the room's next seq; it is published once the change has committed. A membership change
   * (joined, invited, left, removed) also goes to its target's own log (the inbox), in the same transaction.
   */
  append(event: NewRoomEvent): Promise<PersistedRoomEvent>;
}

/** A change to one message: a RoomChange of the message's room, by a member. */
export interface MessageChange extends RoomChange {
  /** The message as stored now, read under the room's lock. */
  readonly message: Message;
}

/**
 * The one path every change to a room takes (memberships, renames, edits, deletions, reactions): lock the room,
 * check the viewer's access under the lock, apply, append the events, commit, then publish. Changes of a room are
 * thus serialized, checked against the state they apply to, and each event's payload is the state at its seq.
 * (Sends take the same lock inside their single statement: see message-inserts.)
 */
export class RoomChanges {
  constructor(
    private readonly db: DataSource,
    private readonly events: RoomEvents,
    private readonly userEvents: UserEvents,
  ) {}

  /**
   * Runs `apply` for a room the viewer can see and publishes what it appended after commit.
   * @throws NotFoundError (of `what`, default the room) when the viewer cannot see the room; whatever `apply`
   *   throws, with nothing stored or published.
   */
  async inRoom<T>(viewer: Viewer, roomId: string, apply: (change: RoomChange) => Promise<T>, what = 'Room'): Promise<T> {
    return this.locked(viewer, roomId, (access, tx, append) => {
      if (!access || !isVisible(access)) throw new NotFoundError(what);
      return apply({ tx, access, append });
    });
  }

  /**
   * As inRoom, for a change the system makes to a user's traces in a room whether or not the user can still see
   * it (deleting an account removes its reactions from private rooms it has left): `access` is the user's
   * standing in the room, and `apply` decides what it may do. Returns null, changing nothing, for a room that does
   * not exist.
   */
  async onBehalfOf<T>(user: Viewer, roomId: string, apply: (change: RoomChange) => Promise<T>): Promise<T | null> {
    return this.locked(user, roomId, async (access, tx, append) => (access ? apply({ tx, access, append }) : null));
  }

  /** Locks the room, loads `viewer`'s access and runs `apply` in one transaction; publishes its events after commit. */
  private async locked<T>(
    viewer: Viewer,
    roomId: string,
    apply: (access: RoomAccess | null, tx: EntityManager, append: RoomChange['append']) => Promise<T>,
  ): Promise<T> {
    const appended: PersistedRoomEvent[] = [];
    const appendedForUsers: PersistedUserEvent[] = [];
    const result = await this.db.transaction(async (tx) => {
      const access = await lockRoomAccess(tx, viewer, roomId);
      const append = async (event: NewRoomEvent) => {
        const persisted = await appendRoomEvent(tx, roomId, event);
        if (access) access.room.lastSeq = persisted.seq;
        appended.push(persisted);
        const forUser = userEventOfRoomEvent(persisted);
        if (forUser) {
          const userEvent = await appendUserEvent(tx, forUser.userId, forUser.event);
          if (userEvent) appendedForUsers.push(userEvent);
        }
        return persisted;
      };
      return apply(access, tx, append);
    });
    for (const event of appended) this.events.publish(roomId, event);
    for (const event of appendedForUsers) this.userEvents.publish(event.userId, event);
    return result;
  }

  /**
   * Runs `apply` on a message of a room the viewer is a member of (checked under the room's lock).
   * @throws NotFoundError for an unknown message or one of a room the viewer cannot see; ForbiddenError for a
   *   room the viewer can see but is not a member of (any more).
   */
  async toMessage<T>(viewer: Viewer, messageId: string, apply: (change: MessageChange) => Promise<T>): Promise<T> {
    // A message never moves to another room, so its room can be looked up before the lock.
    const found = isUuid(messageId) ? await this.db.manager.findOne(Message, { where: { id: messageId }, select: { id: true, roomId: true } }) : null;
    if (!found) throw new NotFoundError('Message');
    return this.inRoom(
      viewer,
      found.roomId,
      async (change) => {
        membershipOrFail(change.access);
        const message = await change.tx.findOneByOrFail(Message, { id: messageId });
        return apply({ ...change, message });
      },
      'Message',
    );
  }
}
