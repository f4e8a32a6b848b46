import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { GraphQLError, type ParseOptions, type ValidationContext, type ValidationRule } from 'graphql';

/** Limits every document must keep, on HTTP and WebSocket alike. */
export const DOCUMENT_LIMITS = {
  /** Tokens in a document, enforced by the parser before anything else is done with it. */
  tokens: 1000,
  /** Nesting of selections (fragments followed). */
  depth: 10,
  aliases: 15,
  directives: 50,
  /**
   * graphql-armor's cost (objects 2, scalars 1, growing by 1.5× per level of depth): a client's full room list
   * with 50 messages each, their authors, reactions and reply targets costs about 10,600.
   */
  cost: 20_000,
} as const;

/** Parser options for both transports: a document over the token limit is refused while it is read. */
export const PARSE_OPTIONS: ParseOptions = { maxTokens: DOCUMENT_LIMITS.tokens };

/** Refuses `__schema` and `__type` (`__typename` stays allowed), once per field, on either transport. */
export const NoIntrospectionRule: ValidationRule = (context) => ({
  Field(node) {
    if (node.name.value === '__schema' || node.name.value === '__type') {
      context.reportError(new GraphQLError('Introspection is disabled on this server', { nodes: [node] }));
    }
  },
});

/**
 * Rules added to GraphQL's standard ones, the same on HTTP and WebSocket (graphql-ws validates on its own, so
 * Apollo's settings would not reach it): the document limits, and in production no introspection. Introspection
 * itself (allowed outside production) is exempt from the depth and cost limits: the playground's query is deep.
 */
export function extraValidationRules(production: boolean): ValidationRule[] {
  // graphql-armor's rules throw by default, which would end validation at the first one; report instead.
  const reported = { propagateOnRejection: false, onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)] };
  const limits = [
    maxDepthRule({ n: DOCUMENT_LIMITS.depth, ignoreIntrospection: true, ...reported }),
    maxAliasesRule({ n: DOCUMENT_LIMITS.aliases, ...reported }),
    maxDirectivesRule({ n: DOCUMENT_LIMITS.directives, ...reported }),
    costLimitRule({ maxCost: DOCUMENT_LIMITS.cost, ignoreIntrospection: true, ...reported }),
  ] as unknown as ValidationRule[];
  return production ? [...limits, NoIntrospectionRule] : limits;
}
