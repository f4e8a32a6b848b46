import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * An account. Usernames of live accounts are unique ignoring case (a partial functional index created by the
 * migrations). A deleted account stays as a placeholder row (`deletedAt` set, username `deleted user`, no
 * credentials) so that its messages and the events naming it stay readable.
 */
@Entity({ name: 'users' })
@Index('users_username_lower_key', { synchronize: false })
@Index('users_external_identity_key', ['externalIssuer', 'externalSubject'], { unique: true })
export class User {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 32 })
  username: string;

  /** argon2id PHC string; null for a user who signs in with the app's own identity provider only. */
  @Column({ name: 'password_hash', type: 'text', nullable: true })
  passwordHash: string | null;

  /** For a user first seen in a token of the app's identity provider: that token's `iss` and `sub`. */
  @Column({ name: 'external_issuer', type: 'text', nullable: true })
  externalIssuer: string | null;

  @Column({ name: 'external_subject', type: 'text', nullable: true })
  externalSubject: string | null;

  /** Tokens carry the version they were issued under; signing out raises it, which revokes every earlier token. */
  @Column({ name: 'token_version', type: 'integer', default: 0 })
  tokenVersion: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** When the user was last connected: written when the user goes offline, never per heartbeat. */
  @Column({ name: 'last_seen_at', type: 'timestamptz', nullable: true })
  lastSeenAt: Date | null;

  /** Seq of the last event of the user's own log (user_events): the per-user counter, gap-free. */
  @Column({ name: 'last_event_seq', type: 'integer', default: 0 })
  lastEventSeq: number;

  /** When the account was deleted; the row is then the account's placeholder. */
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt: Date | null;
}
