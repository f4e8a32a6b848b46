import { createDataSource } from './data-source.js';

// For the TypeORM CLI only (migration:generate, migration:show, ...): it needs a DataSource export.
// The server and `npm run migrate` use src/db/database.ts instead, which also handles the embedded database.
const url = process.env['DATABASE_URL'];
if (!url) throw new Error('DATABASE_URL must be set for the TypeORM CLI');

export default createDataSource({ url });
