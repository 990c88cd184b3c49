import { z } from 'zod';
import { objectMetaInput, type Resource } from './meta';

/** A project: the namespace every other resource lives in. Owned by the api-gateway. */
export const namespaceInput = z.object({
  apiVersion: z.literal('v1').optional(),
  kind: z.literal('Namespace').optional(),
  metadata: objectMetaInput.omit({ namespace: true }),
});
export type NamespaceInput = z.infer<typeof namespaceInput>;

export type Namespace = Resource<'Namespace', Record<string, never>, { phase: 'Active' | 'Terminating' }>;
