import { NoSchemaIntrospectionCustomRule, type ValidationRule } from 'graphql';

/** Rules added to GraphQL's standard ones on both transports. In production introspection is refused. */
export function extraValidationRules(production: boolean): ValidationRule[] {
  return production ? [NoSchemaIntrospectionCustomRule] : [];
}
