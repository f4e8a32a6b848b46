import { MigrationInterface, QueryRunner } from "typeorm";

export class Inbox1796178418595 implements MigrationInterface {
    name = 'Inbox1796178418595'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "message_mentions" ("message_id" uuid NOT NULL, "user_id" uuid NOT NULL, "room_id" uuid NOT NULL, "seq" integer NOT NULL, "active" boolean NOT NULL DEFAULT true, CONSTRAINT "PK_2b86ffdf34d7fb988951d8096b8" PRIMARY KEY ("message_id", "user_id"))`);
        await queryRunner.query(`CREATE INDEX "message_mentions_user_room_seq_idx" ON "message_mentions"  ("user_id", "room_id", "seq") `);
        await queryRunner.query(`CREATE TYPE "public"."user_event_kind" AS ENUM('MENTIONED', 'INVITED_TO_ROOM', 'JOINED_ROOM', 'REMOVED_FROM_ROOM')`);
        await queryRunner.query(`CREATE TABLE "user_events" ("user_id" uuid NOT NULL, "seq" integer NOT NULL, "kind" "public"."user_event_kind" NOT NULL, "room_id" uuid NOT NULL, "actor_id" uuid, "message_id" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_67df162dad1fcd211d69e498573" PRIMARY KEY ("user_id", "seq"))`);
        await queryRunner.query(`ALTER TABLE "users" ADD "last_event_seq" integer NOT NULL DEFAULT '0'`);
        await queryRunner.query(`ALTER TABLE "message_mentions" ADD CONSTRAINT "FK_704c2dc52c37d26393dae070253" FOREIGN KEY ("message_id") REFERENCES "messages"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "message_mentions" ADD CONSTRAINT "FK_2ce356b13332ca02bfe96ae1e3d" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "user_events" ADD CONSTRAINT "FK_ee5fe78baa6daa8bd2fa2392f53" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "user_events" DROP CONSTRAINT "FK_ee5fe78baa6daa8bd2fa2392f53"`);
        await queryRunner.query(`ALTER TABLE "message_mentions" DROP CONSTRAINT "FK_2ce356b13332ca02bfe96ae1e3d"`);
        await queryRunner.query(`ALTER TABLE "message_mentions" DROP CONSTRAINT "FK_704c2dc52c37d26393dae070253"`);
        await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "last_event_seq"`);
        await queryRunner.query(`DROP TABLE "user_events"`);
        await queryRunner.query(`DROP TYPE "public"."user_event_kind"`);
        await queryRunner.query(`DROP INDEX "public"."message_mentions_user_room_seq_idx"`);
        await queryRunner.query(`DROP TABLE "message_mentions"`);
    }

}
