import {
  GraphQLError,
  TypeInfo,
  parse,
  validate,
  visit,
  visitWithTypeInfo,
  Kind,
  type ASTNode,
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
      /** It selects a field marked `@viewerDependentInDirectRooms` (only room streams know a room's kind). */
      readonly directRoomDependent: boolean;
      /**
       * Variables the document uses beyond its root field's arguments: for a subscription, those that can shape
       * how an event renders (the root field's arguments only choose which events arrive).
       */
      readonly renderVariables: readonly string[];
    }
  | { readonly ok: false; readonly errors: readonly GraphQLError[] };

/** Parses and validates each distinct document text once; keeps the most recently used `capacity` of them. */
export class DocumentCache {
  private readonly entries = new Map<string, PreparedDocument>();
  /** The prepared document of each parsed one handed out, for those who get the node back (graphql-ws). */
  private readonly byDocument = new WeakMap<DocumentNode, PreparedDocument>();
  private prepared = 0;
  private readonly viewerDependentFields: ReadonlySet<string>;
  private readonly directRoomDependentFields: ReadonlySet<string>;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly rules: readonly ValidationRule[],
    private readonly capacity = 1000,
  ) {
    this.viewerDependentFields = fieldsWithDirective(schema, 'viewerDependent');
    this.directRoomDependentFields = fieldsWithDirective(schema, 'viewerDependentInDirectRooms');
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
    const prepared = { ok: true as const, id: ++this.prepared, document, viewerDependent: this.selectsAny(document, this.viewerDependentFields), directRoomDependent: this.selectsAny(document, this.directRoomDependentFields), renderVariables: variablesBeyondRootArguments(document) };
    this.byDocument.set(document, prepared);
    return prepared;
  }

  /** The prepared form of a document this cache handed out; undefined for any other. */
  preparedOf(document: DocumentNode): PreparedDocument | undefined {
    return this.byDocument.get(document);
  }

  /** Whether the document selects one of `fields` (`Type.field`). */
  private selectsAny(document: DocumentNode, fields: ReadonlySet<string>): boolean {
    const typeInfo = new TypeInfo(this.schema);
    let found = false;
    visit(
      document,
      visitWithTypeInfo(typeInfo, {
        Field() {
          const parent = typeInfo.getParentType();
          const field = typeInfo.getFieldDef();
          if (parent && field && fields.has(`${parent.name}.${field.name}`)) found = true;
        },
      }),
    );
    return found;
  }
}

/** Variables used anywhere but in the arguments of the operations' root fields (each use counted once). */
function variablesBeyondRootArguments(document: DocumentNode): string[] {
  const uses = new Map<string, number>();
  const count = (node: ASTNode, into: Map<string, number>) =>
    visit(node, {
      VariableDefinition: () => false, // a definition is not a use
      Variable(variable) {
        into.set(variable.name.value, (into.get(variable.name.value) ?? 0) + 1);
      },
    });
  count(document, uses);
  const inRootArguments = new Map<string, number>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    for (const selection of definition.selectionSet.selections) {
      if (selection.kind === Kind.FIELD) for (const argument of selection.arguments ?? []) count(argument, inRootArguments);
    }
  }
  return [...uses].filter(([name, n]) => n > (inRootArguments.get(name) ?? 0)).map(([name]) => name);
}
