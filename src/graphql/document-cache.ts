import {
  GraphQLError,
  TypeInfo,
  parse,
  validate,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';
import { fieldsWithDirective } from './schema-directives.js';
import { PARSE_OPTIONS } from './validation-rules.js';

/** A parsed, validated document and what the fan-out needs to know about it. */
export type PreparedDocument =
  | {
      readonly ok: true;
      /** Distinguishes this document from every other one the cache has seen (a short stand-in for its text). */
      readonly id: number;
      readonly document: DocumentNode;
      /** It selects a field marked `@viewerDependent`: rendered per viewer instead of once for everyone. */
      readonly viewerDependent: boolean;
    }
  | { readonly ok: false; readonly errors: readonly GraphQLError[] };

/** Parses and validates each distinct document text once; keeps the most recently used `capacity` of them. */
export class DocumentCache {
  private readonly entries = new Map<string, PreparedDocument>();
  private prepared = 0;
  private readonly viewerDependentFields: ReadonlySet<string>;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly rules: readonly ValidationRule[],
    private readonly capacity = 1000,
  ) {
    this.viewerDependentFields = fieldsWithDirective(schema, 'viewerDependent');
  }

  get(query: string): PreparedDocument {
    const cached = this.entries.get(query);
    if (cached) {
      this.entries.delete(query); // move to the most recent end
      this.entries.set(query, cached);
      return cached;
    }
    const prepared = this.prepare(query);
    this.entries.set(query, prepared);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return prepared;
  }

  private prepare(query: string): PreparedDocument {
    let document: DocumentNode;
    try {
      document = parse(query, PARSE_OPTIONS);
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      return {
        ok: false,
        errors: [new GraphQLError(error.message, { source: error.source, positions: error.positions, extensions: { code: 'GRAPHQL_PARSE_FAILED' } })],
      };
    }
    const errors = validate(this.schema, document, this.rules);
    if (errors.length > 0) return { ok: false, errors };
    return { ok: true, id: ++this.prepared, document, viewerDependent: this.selectsViewerDependentField(document) };
  }

  private selectsViewerDependentField(document: DocumentNode): boolean {
    const typeInfo = new TypeInfo(this.schema);
    const viewerDependent = this.viewerDependentFields;
    let found = false;
    visit(
      document,
      visitWithTypeInfo(typeInfo, {
        Field() {
          const parent = typeInfo.getParentType();
          const field = typeInfo.getFieldDef();
          if (parent && field && viewerDependent.has(`${parent.name}.${field.name}`)) found = true;
        },
      }),
    );
    return found;
  }
}
