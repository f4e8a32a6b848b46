import { MigrationInterface, QueryRunner } from "typeorm";

export class ExternalIdentity1795788427501 implements MigrationInterface {
    name = 'ExternalIdentity1795788427501'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "users" ADD "external_issuer" text`);
        await queryRunner.query(`ALTER TABLE "users" ADD "external_subject" text`);
        await queryRunner.query(`ALTER TABLE "users" ALTER COLUMN "password_hash" DROP NOT NULL`);
        await queryRunner.query(`CREATE UNIQUE INDEX "users_external_identity_key" ON "users"  ("external_issuer", "external_subject") `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."users_external_identity_key"`);
        await queryRunner.query(`ALTER TABLE "users" ALTER COLUMN "password_hash" SET NOT NULL`);
        await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "external_subject"`);
        await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "external_issuer"`);
    }

}
