import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * State shared by the processes of one deployment when no Redis is configured (README "Running several
 * processes"): presence with its grace period, the per-user socket cap (src/realtime/postgres-presence-state.ts)
 * and the rate limits (rate-limiter-flexible's RateLimiterPostgres table, created here instead of by the library).
 * These are coordination tables, not part of the entity model: no entity maps them, so the entity/migration check
 * leaves them alone. Presence rows are a few dozen bytes per user ever connected; process rows live as long as
 * their process (a lapsed one is deleted by the next sweep).
 */
export class CrossProcessState1796200000000 implements MigrationInterface {
  name = 'CrossProcessState1796200000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "parley_processes" (
        "id" uuid PRIMARY KEY,
        "started_at" timestamptz NOT NULL DEFAULT now(),
        "heartbeat_at" timestamptz NOT NULL DEFAULT now(),
        "expires_at" timestamptz NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE "presence_states" (
        "user_id" uuid PRIMARY KEY,
        "sockets" integer NOT NULL DEFAULT 0,
        "gone_at" timestamptz,
        "grace_process_id" uuid,
        "manual_status" varchar(16),
        "manual_since" timestamptz,
        "shown_status" varchar(16),
        "shown_last_seen_at" timestamptz
      )`);
    // What the sweep looks for: users shown present with no socket left.
    await queryRunner.query(`CREATE INDEX "presence_states_in_grace" ON "presence_states" ("gone_at") WHERE "sockets" = 0 AND "shown_status" IN ('ONLINE', 'AWAY')`);
    await queryRunner.query(`
      CREATE TABLE "presence_sockets" (
        "process_id" uuid NOT NULL,
        "user_id" uuid NOT NULL,
        "sockets" integer NOT NULL,
        PRIMARY KEY ("process_id", "user_id")
      )`);
    // RateLimiterPostgres's own layout: key = "<prefix>:<limit>:<subject>", expire in epoch milliseconds.
    await queryRunner.query(`
      CREATE TABLE "rate_limits" (
        "key" varchar(255) PRIMARY KEY,
        "points" integer NOT NULL DEFAULT 0,
        "expire" bigint
      )`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "rate_limits"`);
    await queryRunner.query(`DROP TABLE "presence_sockets"`);
    await queryRunner.query(`DROP TABLE "presence_states"`);
    await queryRunner.query(`DROP TABLE "parley_processes"`);
  }
}
