import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * A message is stored only while its author is a member of its room, checked when the row is inserted with a
 * snapshot of its own: a send that waited for the room's lock behind a removal sees the removal (the statement's
 * own membership check reads the snapshot taken before it waited). Raised as messages_author_is_member.
 */
export class AuthorIsMember1796164586104 implements MigrationInterface {
    name = 'AuthorIsMember1796164586104'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE FUNCTION "parley_require_author_membership"() RETURNS trigger LANGUAGE plpgsql VOLATILE AS $$
            BEGIN
                IF NOT EXISTS (SELECT 1 FROM "room_memberships" WHERE "room_id" = NEW."room_id" AND "user_id" = NEW."author_id") THEN
                    RAISE EXCEPTION 'the author is not a member of the room'
                        USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'messages_author_is_member';
                END IF;
                RETURN NEW;
            END
        $$`);
        await queryRunner.query(`CREATE TRIGGER "messages_author_is_member" BEFORE INSERT ON "messages" FOR EACH ROW EXECUTE FUNCTION "parley_require_author_membership"()`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TRIGGER "messages_author_is_member" ON "messages"`);
        await queryRunner.query(`DROP FUNCTION "parley_require_author_membership"()`);
    }

}
