import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { resolvers } from './resolvers/index.js';

/** schema.graphql sits at the repository root: two levels up from src/graphql, three from dist/src/graphql. */
function schemaPath(): string {
  const candidates = ['../../schema.graphql', '../../../schema.graphql'].map((p) => path.join(import.meta.dirname, p));
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) throw new Error(`schema.graphql not found (looked at ${candidates.join(', ')})`);
  return found;
}

/** The executable schema: schema.graphql (the contract) with Parley's resolvers. */
export function buildSchema(): GraphQLSchema {
  return makeExecutableSchema({ typeDefs: readFileSync(schemaPath(), 'utf8'), resolvers });
}
