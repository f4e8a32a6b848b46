import { backoffDelay, pause, type BackoffOptions } from './backoff.js';
import type { Connection } from './connection.js';
import { ParleyConnectionError, ParleyGraphQLError } from './errors.js';
import { ParleyPresenceDocument, type ParleyPresenceSubscription } from './__generated__/graphql.js';
import { queryText } from './operations.js';
import type { SocketSession } from './socket-session.js';

/** One user's presence as `presence(userIds)` sends it: the user, and their status and `lastSeenAt`. */
export type PresenceChange = ParleyPresenceSubscription['presence'];

export interface PresenceOptions {
  /**
   * The current state of each watched user (in the order asked) when the subscription starts, then each real
   * change; after every reconnect the current state of each again (presence is state, not a log: replace what
   * you show, nothing was missed). Awaited before the next change.
   */
  onChange(change: PresenceChange): void | Promise<void>;
  /**
   * The subscription ended for good (BAD_USER_INPUT for 0 or more than 100 ids, NOT_FOUND for an id of no user),
   * or `onChange` threw. Drops and transient errors are retried silently.
   */
  onError?(error: unknown): void;
}

export interface PresenceHandle {
  /** Ends the subscription; `onChange` is not called afterwards. */
  unsubscribe(): void;
}

/**
 * Follows `presence(userIds)` across sockets: subscribes again on every new socket with the same ids. No cursor:
 * the server starts each subscription with the current state of every user, so a reconnect brings the state
 * up to date instead of replaying what happened meanwhile.
 */
export class PresenceFollower implements PresenceHandle {
  private active = true;
  private stopOperation: (() => void) | undefined;
  private retries = 0;
  private delivery: Promise<void> = Promise.resolve();
  private readonly offSession: () => void;
  private readonly userIds: string[];

  constructor(
    private readonly connection: Connection,
    userIds: readonly string[],
    private readonly handlers: PresenceOptions,
    private readonly backoff: BackoffOptions,
  ) {
    this.userIds = [...userIds];
    this.offSession = connection.onSession((session) => this.attach(session));
  }

  unsubscribe(): void {
    this.active = false;
    this.offSession();
    this.stopOperation?.();
    this.stopOperation = undefined;
  }

  private attach(session: SocketSession): void {
    this.stopOperation?.();
    this.stopOperation = undefined;
    if (!this.active || !session.connected) return;
    let live = true; // this operation's results count until it is replaced or fails
    const stop = session.subscribe(
      { query: queryText(ParleyPresenceDocument), variables: { userIds: this.userIds } },
      {
        next: (result) => {
          if (!live) return;
          if (result.errors?.length) return fail(new ParleyGraphQLError(result.errors));
          const change = (result.data as ParleyPresenceSubscription | undefined)?.presence;
          if (!change) return;
          this.retries = 0;
          this.deliver(() => this.handlers.onChange(change));
        },
        error: (errors) => live && fail(new ParleyGraphQLError(errors)),
        complete: () => live && fail(new ParleyConnectionError('the server completed the presence subscription')),
      },
    );
    const cancel = () => {
      live = false;
      stop();
    };
    const fail = (error: unknown) => {
      cancel();
      if (this.stopOperation === cancel) this.stopOperation = undefined;
      this.failed(session, error);
    };
    this.stopOperation = cancel;
  }

  /** Runs `onChange` one at a time in arrival order; one that throws is reported and the subscription carries on. */
  private deliver(run: () => void | Promise<void>): void {
    this.delivery = this.delivery.then(async () => {
      if (!this.active) return;
      try {
        await run();
      } catch (error) {
        this.handlers.onError?.(error);
      }
    });
  }

  private failed(session: SocketSession, error: unknown): void {
    if (!this.active) return;
    if (error instanceof ParleyGraphQLError && error.permanent) {
      this.unsubscribe();
      this.handlers.onError?.(error);
      return;
    }
    // A drop is handled by the next socket's attach; anything else is retried on this socket after a backoff.
    void pause(backoffDelay(this.retries++, this.backoff), this.connection.closedSignal).then(() => {
      if (this.active && session.connected && this.stopOperation === undefined) this.attach(session);
    });
  }
}
