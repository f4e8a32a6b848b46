import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Message search is indexed asynchronously (README "Search"): maintained by the send itself, it cost saturated sends
 * 17% of their throughput (BENCHMARKS.md, "Search"), over the 10% the search issue allows.
 *
 * `messages.search_vector` stops being a generated column and becomes a plain nullable one, filled after the send
 * by the search indexer (src/domain/search-indexer.ts) or by the first search of the message's room, whichever
 * comes first; NULL means "not indexed yet". Existing rows keep their vectors (DROP EXPRESSION rewrites nothing).
 * `messages_search_pending_idx` finds the rows still to index, per room; deleted messages are never pending.
 * The GIN index stays: parley_room_lexemes is STRICT, so a NULL vector gives no lexeme and matches nothing.
 */
const SEARCH_VECTOR = "to_tsvector('simple', parley_search_text(body))";

export class AsyncSearchIndex1796178700000 implements MigrationInterface {
  name = 'AsyncSearchIndex1796178700000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "messages" ALTER COLUMN "search_vector" DROP EXPRESSION`);
    await queryRunner.query(`ALTER TABLE "messages" ALTER COLUMN "search_vector" DROP NOT NULL`);
    await queryRunner.query(
      `DELETE FROM "typeorm_metadata" WHERE "type" = 'GENERATED_COLUMN' AND "database" = current_database() AND "schema" = current_schema() AND "table" = 'messages' AND "name" = 'search_vector'`,
    );
    await queryRunner.query(
      `CREATE INDEX "messages_search_pending_idx" ON "messages" ("room_id") WHERE "search_vector" IS NULL AND "deleted_at" IS NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    // Back to a generated column: re-added (a table rewrite) with the GIN index over it.
    await queryRunner.query(`DROP INDEX "public"."messages_search_pending_idx"`);
    await queryRunner.query(`DROP INDEX "public"."messages_search_idx"`);
    await queryRunner.query(`ALTER TABLE "messages" DROP COLUMN "search_vector"`);
    await queryRunner.query(`ALTER TABLE "messages" ADD "search_vector" tsvector GENERATED ALWAYS AS (${SEARCH_VECTOR}) STORED NOT NULL`);
    await queryRunner.query(
      `INSERT INTO "typeorm_metadata" ("database", "schema", "table", "type", "name", "value")
       VALUES (current_database(), current_schema(), 'messages', 'GENERATED_COLUMN', 'search_vector', $1)`,
      [SEARCH_VECTOR],
    );
    await queryRunner.query(
      `CREATE INDEX "messages_search_idx" ON "messages" USING gin (parley_room_lexemes(room_id, search_vector))`,
    );
  }
}
