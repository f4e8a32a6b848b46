import { isInterfaceType, isObjectType, type GraphQLSchema } from 'graphql';

/** The directives schema.graphql uses to declare what the server must know about a field. */
export type FieldDirective = 'viewerDependent' | 'viewerDependentInDirectRooms' | 'roomStream' | 'sharedEvents';

/**
 * Every field carrying `@<directive>` in the schema's SDL, as `Type.field` (interfaces included). Read once at
 * start-up: the schema is the one place such facts are declared, so a new field cannot be forgotten in a list.
 */
export function fieldsWithDirective(schema: GraphQLSchema, directive: FieldDirective): ReadonlySet<string> {
  const found = new Set<string>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) && !isInterfaceType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      if (field.astNode?.directives?.some((d) => d.name.value === directive)) found.add(`${type.name}.${field.name}`);
    }
  }
  return found;
}
