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

/**
 * The most bytes of blobs the registry keeps for the repositories of a namespace (each blob
 * counted once however many of them link it), as a Kubernetes quantity (`5Gi`, `500Mi`,
 * `1073741824`); without it the registry's default applies. Only cluster-admins may set,
 * change or remove it.
 */
export const REGISTRY_QUOTA_ANNOTATION = 'paas.dev/registry-storage-quota';

const QUANTITY = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;
const QUANTITY_FACTORS: Record<string, number> = {
  '': 1,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** A Kubernetes quantity of bytes (`5Gi`, `1.5G`, `1048576`) as a whole number of bytes (rounded up); undefined when it is none. */
export function parseByteQuantity(value: string): number | undefined {
  const match = QUANTITY.exec(value.trim());
  if (!match) return undefined;
  const bytes = Math.ceil(Number(match[1]) * QUANTITY_FACTORS[match[2] ?? '']);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Bytes for people: `1.5 GiB`, `300 MiB`, `512 B`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : Number(value.toFixed(value < 10 ? 2 : 1))} ${units[unit]}`;
}
