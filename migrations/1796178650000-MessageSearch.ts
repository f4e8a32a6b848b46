import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Message search (README "Search").
 *
 * `parley_search_text(body)` puts spaces around every Chinese, Japanese and Korean character and blanks ASCII
 * punctuation, so PostgreSQL's default text-search parser (which keeps a run of CJK characters as one token, and
 * `example.com` or `v1.2` whole) yields one lexeme per CJK character and one per word. A CJK query is then a phrase
 * of adjacent characters (`'北' <-> '京'`). The 'simple' configuration keeps it language-neutral (no stemming, no
 * stop words). The character ranges must stay in step with src/domain/search-text.ts.
 *
 * `messages.search_vector` stores the vector (a generated column: computed by the INSERT or UPDATE itself, also in
 * the group-commit statement), so ranking and phrase checks read it instead of re-parsing bodies.
 *
 * The GIN index is over `parley_room_lexemes(room_id, search_vector)`: every lexeme prefixed with the first 8 hex
 * digits of its room's id. A query for one viewer asks for `key1word | key2word | ...` over the viewer's rooms, so
 * the index finds only matches in those rooms, and a prefix (`dep:*`) scans only those rooms' entries instead of
 * every room's (a plain index plus a room filter costs as much as the word's matches in ALL rooms). Two rooms that
 * share a key only add candidates, which the room filter drops. Positions are not indexed: phrases are checked
 * against search_vector.
 */
/** As in the Message entity's `searchVector` column. */
const SEARCH_VECTOR = "to_tsvector('simple', parley_search_text(body))";

export class MessageSearch1796178650000 implements MigrationInterface {
  name = 'MessageSearch1796178650000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION parley_search_text(body text) RETURNS text
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
      RETURN regexp_replace(body,
        '([\\u1100-\\u11FF\\u2E80-\\u2FDF\\u3005-\\u3007\\u3021-\\u3029\\u3038-\\u303B\\u3040-\\u30FF\\u3130-\\u318F\\u31F0-\\u31FF\\u3400-\\u4DBF\\u4E00-\\u9FFF\\uA960-\\uA97F\\uAC00-\\uD7FF\\uF900-\\uFAFF\\uFF66-\\uFFDC\\U0001B000-\\U0001B16F\\U00020000-\\U0003FFFF])|[!-/:-@[-\`{-~]',
        ' \\1 ', 'g')`);
    await queryRunner.query(`
      CREATE FUNCTION parley_room_lexemes(room_id uuid, search_vector tsvector) RETURNS tsvector
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
      RETURN array_to_tsvector(string_to_array(
        left(room_id::text, 8) || array_to_string(tsvector_to_array(search_vector), ' ' || left(room_id::text, 8)), ' '))`);
    await queryRunner.query(`ALTER TABLE "messages" ADD "search_vector" tsvector GENERATED ALWAYS AS (${SEARCH_VECTOR}) STORED NOT NULL`);
    // TypeORM compares a generated column's expression with the one it recorded here (migration:generate).
    await queryRunner.query(
      `CREATE TABLE IF NOT EXISTS "typeorm_metadata" ("type" varchar NOT NULL, "database" varchar, "schema" varchar, "table" varchar, "name" varchar, "value" text)`,
    );
    await queryRunner.query(
      `INSERT INTO "typeorm_metadata" ("database", "schema", "table", "type", "name", "value")
       VALUES (current_database(), current_schema(), 'messages', 'GENERATED_COLUMN', 'search_vector', $1)`,
      [SEARCH_VECTOR],
    );
    await queryRunner.query(
      `CREATE INDEX "messages_search_idx" ON "messages" USING gin (parley_room_lexemes(room_id, search_vector))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."messages_search_idx"`);
    await queryRunner.query(
      `DELETE FROM "typeorm_metadata" WHERE "type" = 'GENERATED_COLUMN' AND "database" = current_database() AND "schema" = current_schema() AND "table" = 'messages' AND "name" = 'search_vector'`,
    );
    await queryRunner.query(`ALTER TABLE "messages" DROP COLUMN "search_vector"`);
    await queryRunner.query(`DROP FUNCTION parley_room_lexemes(uuid, tsvector)`);
    await queryRunner.query(`DROP FUNCTION parley_search_text(text)`);
  }
}
