import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Directory, direct rooms, blocking, presence and account deletion. Generated, plus what TypeORM's decorators
 * cannot express (after the generated statements):
 * - rooms.member_count backfilled and kept by a trigger on room_memberships (the directory orders by it);
 * - the directory index over public rooms that have members;
 * - usernames unique among live accounts only (a deleted account's placeholder frees its name), in the C collation
 *   so that the same index serves lookups, prefix search (LIKE 'abc%') and the directory's order (usernames are
 *   ASCII, so C order is alphabetical);
 * - the message insert trigger also refuses a send to a DIRECT room whose other participant blocked the author or
 *   was deleted (parley_direct_peer_refuses, raised as messages_direct_peer_accepts).
 */
export class People1796166588248 implements MigrationInterface {
    name = 'People1796166588248'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "user_blocks" ("blocker_id" uuid NOT NULL, "blocked_id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_48667515438e7d0f0fed998b193" PRIMARY KEY ("blocker_id", "blocked_id"))`);
        await queryRunner.query(`CREATE INDEX "user_blocks_blocked_id_idx" ON "user_blocks"  ("blocked_id") `);
        await queryRunner.query(`CREATE INDEX "message_reactions_user_id_idx" ON "message_reactions"  ("user_id") `);
        await queryRunner.query(`ALTER TABLE "users" ADD "last_seen_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`ALTER TABLE "users" ADD "deleted_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`ALTER TABLE "rooms" ADD "member_count" integer NOT NULL DEFAULT '0'`);
        await queryRunner.query(`ALTER TABLE "rooms" ADD "direct_user_low_id" uuid`);
        await queryRunner.query(`ALTER TABLE "rooms" ADD "direct_user_high_id" uuid`);
        await queryRunner.query(`ALTER TABLE "room_memberships" ADD "hidden_seq" integer`);
        await queryRunner.query(`CREATE UNIQUE INDEX "rooms_direct_pair_key" ON "rooms"  ("direct_user_low_id", "direct_user_high_id") `);
        await queryRunner.query(`ALTER TABLE "rooms" ADD CONSTRAINT "rooms_direct_pair_check" CHECK (("kind" = 'DIRECT') = ("direct_user_low_id" IS NOT NULL AND "direct_user_high_id" IS NOT NULL) AND "direct_user_low_id" <= "direct_user_high_id")`);
        await queryRunner.query(`ALTER TABLE "user_blocks" ADD CONSTRAINT "FK_dfcd8a81016d1de587fbd2d70bf" FOREIGN KEY ("blocker_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "user_blocks" ADD CONSTRAINT "FK_7a0806a54f0ad9ced3e247cacd1" FOREIGN KEY ("blocked_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        // No membership may change between the count and the trigger that keeps it (a server may run meanwhile).
        await queryRunner.query(`LOCK TABLE "room_memberships" IN SHARE ROW EXCLUSIVE MODE`);
        await queryRunner.query(`UPDATE "rooms" r SET "member_count" = (SELECT count(*) FROM "room_memberships" m WHERE m."room_id" = r."id")`);
        await queryRunner.query(`CREATE FUNCTION "parley_count_members"() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    UPDATE "rooms" SET "member_count" = "member_count" + 1 WHERE "id" = NEW."room_id";
                ELSE
                    UPDATE "rooms" SET "member_count" = "member_count" - 1 WHERE "id" = OLD."room_id";
                END IF;
                RETURN NULL;
            END
        $$`);
        await queryRunner.query(`CREATE TRIGGER "room_memberships_count" AFTER INSERT OR DELETE ON "room_memberships" FOR EACH ROW EXECUTE FUNCTION "parley_count_members"()`);
        await queryRunner.query(`CREATE INDEX "rooms_directory_idx" ON "rooms" ("member_count" DESC, lower("name"), "id") WHERE "kind" = 'PUBLIC' AND "member_count" > 0`);
        await queryRunner.query(`DROP INDEX "public"."users_username_lower_key"`);
        await queryRunner.query(`CREATE UNIQUE INDEX "users_username_lower_key" ON "users" ((lower("username") COLLATE "C")) WHERE "deleted_at" IS NULL`);
        // One definition of "this DM refuses the author's messages", for the trigger and the group-commit statement.
        await queryRunner.query(`CREATE FUNCTION "parley_direct_peer_refuses"(room uuid, author uuid) RETURNS boolean LANGUAGE sql STABLE AS $$
            SELECT EXISTS (
                SELECT 1 FROM "rooms" r
                JOIN "users" p ON p."id" = CASE WHEN r."direct_user_low_id" = author THEN r."direct_user_high_id" ELSE r."direct_user_low_id" END
                WHERE r."id" = room AND r."kind" = 'DIRECT' AND p."id" <> author
                  AND (p."deleted_at" IS NOT NULL OR EXISTS (SELECT 1 FROM "user_blocks" b WHERE b."blocker_id" = p."id" AND b."blocked_id" = author))
            )
        $$`);
        await queryRunner.query(`CREATE OR REPLACE FUNCTION "parley_require_author_membership"() RETURNS trigger LANGUAGE plpgsql VOLATILE AS $$
            BEGIN
                IF NOT EXISTS (SELECT 1 FROM "room_memberships" WHERE "room_id" = NEW."room_id" AND "user_id" = NEW."author_id") THEN
                    RAISE EXCEPTION 'the author is not a member of the room'
                        USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'messages_author_is_member';
                END IF;
                IF "parley_direct_peer_refuses"(NEW."room_id", NEW."author_id") THEN
                    RAISE EXCEPTION 'the other participant of the direct room blocked the author or was deleted'
                        USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'messages_direct_peer_accepts';
                END IF;
                RETURN NEW;
            END
        $$`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE OR REPLACE FUNCTION "parley_require_author_membership"() RETURNS trigger LANGUAGE plpgsql VOLATILE AS $$
            BEGIN
                IF NOT EXISTS (SELECT 1 FROM "room_memberships" WHERE "room_id" = NEW."room_id" AND "user_id" = NEW."author_id") THEN
                    RAISE EXCEPTION 'the author is not a member of the room'
                        USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'messages_author_is_member';
                END IF;
                RETURN NEW;
            END
        $$`);
        await queryRunner.query(`DROP FUNCTION "parley_direct_peer_refuses"(uuid, uuid)`);
        await queryRunner.query(`DROP INDEX "public"."users_username_lower_key"`);
        // Placeholders share one name; the old index holds every row, so each gets a name of its own.
        await queryRunner.query(`UPDATE "users" SET "username" = 'deleted_' || left(replace("id"::text, '-', ''), 24) WHERE "deleted_at" IS NOT NULL`);
        await queryRunner.query(`CREATE UNIQUE INDEX "users_username_lower_key" ON "users" (lower("username"))`);
        await queryRunner.query(`DROP INDEX "public"."rooms_directory_idx"`);
        await queryRunner.query(`DROP TRIGGER "room_memberships_count" ON "room_memberships"`);
        await queryRunner.query(`DROP FUNCTION "parley_count_members"()`);
        await queryRunner.query(`ALTER TABLE "user_blocks" DROP CONSTRAINT "FK_7a0806a54f0ad9ced3e247cacd1"`);
        await queryRunner.query(`ALTER TABLE "user_blocks" DROP CONSTRAINT "FK_dfcd8a81016d1de587fbd2d70bf"`);
        await queryRunner.query(`ALTER TABLE "rooms" DROP CONSTRAINT "rooms_direct_pair_check"`);
        await queryRunner.query(`DROP INDEX "public"."rooms_direct_pair_key"`);
        await queryRunner.query(`ALTER TABLE "room_memberships" DROP COLUMN "hidden_seq"`);
        await queryRunner.query(`ALTER TABLE "rooms" DROP COLUMN "direct_user_high_id"`);
        await queryRunner.query(`ALTER TABLE "rooms" DROP COLUMN "direct_user_low_id"`);
        await queryRunner.query(`ALTER TABLE "rooms" DROP COLUMN "member_count"`);
        await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "deleted_at"`);
        await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "last_seen_at"`);
        await queryRunner.query(`DROP INDEX "public"."message_reactions_user_id_idx"`);
        await queryRunner.query(`DROP INDEX "public"."user_blocks_blocked_id_idx"`);
        await queryRunner.query(`DROP TABLE "user_blocks"`);
    }

}
