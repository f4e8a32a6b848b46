import { GraphQLError, type ValidationRule } from 'graphql';

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
 * Apollo's settings would not reach it). In production introspection is refused.
 */
export function extraValidationRules(production: boolean): ValidationRule[] {
  return production ? [NoIntrospectionRule] : [];
}
