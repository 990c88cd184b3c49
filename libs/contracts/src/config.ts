import { z } from 'zod';
import { objectMetaInput, type ObjectMeta } from './meta';

/**
 * ConfigMaps and Secrets, as Kubernetes has them (`/api/v1/namespaces/{ns}/configmaps` and
 * `/secrets`): named sets of keys a pod's container reads through `env[].valueFrom` and
 * `envFrom` (deployments.ts). The deploy-service stores them; a Secret's data only encrypted.
 */

/** Kubernetes' key rule: letters, digits, `-`, `_` and `.`, at most 253 characters. */
export const configKey = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[-._a-zA-Z0-9]+$/, 'must consist of alphanumeric characters, "-", "_" or "."')
  .refine((key) => key !== '.' && key !== '..', 'must not be "." or ".."');

/**
 * All of an object's values together, at most (Kubernetes allows 1 MiB; the bus's messages
 * carry a whole object, and an env var is read from them, so less is kept here).
 */
export const MAX_CONFIG_BYTES = 256 * 1024;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// The message never quotes the value: a Secret's data must not come back in an error.
const base64Value = z.string().regex(BASE64, 'must be base64 (standard alphabet, padded)');

const valuesOf = (map: Record<string, string> | undefined) => Object.entries(map ?? {});
const sizeOf = (...maps: (Record<string, string> | undefined)[]) => maps.flatMap(valuesOf).reduce((sum, [key, value]) => sum + key.length + value.length, 0);
const tooLarge = { message: `the keys and values together must be at most ${MAX_CONFIG_BYTES} bytes` };

export const configMapInput = z
  .object({
    apiVersion: z.literal('v1').optional(),
    kind: z.literal('ConfigMap').optional(),
    metadata: objectMetaInput,
    data: z.record(configKey, z.string()).default({}),
    /** Values that are not UTF-8 text, base64. */
    binaryData: z.record(configKey, base64Value).default({}),
    /** Set, the data can no longer change (only the metadata); the object may still be deleted. */
    immutable: z.boolean().optional(),
  })
  .refine((input) => sizeOf(input.data, input.binaryData) <= MAX_CONFIG_BYTES, { ...tooLarge, path: ['data'] })
  .refine((input) => !Object.keys(input.binaryData).some((key) => key in input.data), { message: 'a key may not be in both data and binaryData', path: ['binaryData'] });
export type ConfigMapInput = z.infer<typeof configMapInput>;

export interface ConfigMap {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: ObjectMeta;
  data: Record<string, string>;
  binaryData?: Record<string, string>;
  immutable?: boolean;
}

export const secretInput = z
  .object({
    apiVersion: z.literal('v1').optional(),
    kind: z.literal('Secret').optional(),
    metadata: objectMetaInput,
    /** `Opaque` unless given; Kubernetes' typed secrets (`kubernetes.io/basic-auth`, ...) are kept as named, not checked. */
    type: z
      .string()
      .max(253)
      .regex(/^[-._a-zA-Z0-9/]+$/, 'must consist of alphanumeric characters, "-", "_", "." or "/"')
      .default('Opaque'),
    /** Values base64. */
    data: z.record(configKey, base64Value).default({}),
    /** Values as text, written into `data` (a key in both takes this one); never read back. */
    stringData: z.record(configKey, z.string()).default({}),
    immutable: z.boolean().optional(),
  })
  .refine((input) => sizeOf(input.data, input.stringData) <= MAX_CONFIG_BYTES, { ...tooLarge, path: ['data'] });
export type SecretInput = z.infer<typeof secretInput>;

export interface Secret {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: ObjectMeta;
  type: string;
  /** Values base64, as Kubernetes shows them. */
  data: Record<string, string>;
  immutable?: boolean;
}

/** Why a container cannot be created from its configuration: the pod waits with this reason (and an Event says what is missing). */
export const CREATE_CONTAINER_CONFIG_ERROR = 'CreateContainerConfigError';
