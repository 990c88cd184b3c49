import { z } from 'zod';
import { objectMetaInput, type Resource } from './meta';
import { parseByteQuantity } from './namespaces';

/**
 * ResourceQuota and LimitRange of a namespace, as Kubernetes has them, over what the platform
 * runs: pods (a DeploymentConfig's replicas), their memory limits and their CPU limits. The
 * deploy-service checks them when a DeploymentConfig is created, changed or scaled.
 */

/** A CPU quantity (`500m`, `2`, `0.5`) in millicores, rounded up; undefined when it is none. */
export function parseCpuQuantity(value: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(m?)$/.exec(value.trim());
  if (!match) return undefined;
  const millis = Math.ceil(Number(match[1]) * (match[2] ? 1 : 1000));
  return Number.isSafeInteger(millis) ? millis : undefined;
}

/** Millicores as Kubernetes writes them: `2`, `500m`. */
export function formatCpu(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

/** Bytes as Kubernetes writes a memory quantity: the largest binary unit that divides them (`512Mi`, `1Gi`), else bytes. */
export function formatMemory(bytes: number): string {
  for (const [unit, size] of [['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

export const memoryQuantity = z
  .union([z.string(), z.number()])
  .transform(String)
  .refine((value) => parseByteQuantity(value) !== undefined, 'must be a quantity of bytes such as 512Mi or 1Gi');
export const cpuQuantity = z
  .union([z.string(), z.number()])
  .transform(String)
  .refine((value) => parseCpuQuantity(value) !== undefined, 'must be a CPU quantity such as 500m or 2');
const podCount = z.union([z.string().regex(/^\d+$/, 'must be a whole number'), z.number().int().min(0)]).transform(String);

/** The resources a quota may limit (Kubernetes' names; `requests.*` are not tracked: pods here have limits only). */
export const quotaHard = z
  .object({ pods: podCount.optional(), 'limits.memory': memoryQuantity.optional(), 'limits.cpu': cpuQuantity.optional() })
  .strict();
export type QuotaResources = z.infer<typeof quotaHard>;
export type QuotaResourceName = keyof QuotaResources;

export const resourceQuotaInput = z.object({
  apiVersion: z.literal('v1').optional(),
  kind: z.literal('ResourceQuota').optional(),
  metadata: objectMetaInput,
  spec: z.object({ hard: quotaHard }),
});
export type ResourceQuotaSpec = z.infer<typeof resourceQuotaInput>['spec'];
/** `status.used` is what the namespace's DeploymentConfigs ask for now, counted when the quota is read. */
export type ResourceQuota = Resource<'ResourceQuota', ResourceQuotaSpec, { hard?: QuotaResources; used?: QuotaResources }>;

const containerResources = z.object({ memory: memoryQuantity.optional(), cpu: cpuQuantity.optional() }).strict();

export const limitRangeInput = z.object({
  apiVersion: z.literal('v1').optional(),
  kind: z.literal('LimitRange').optional(),
  metadata: objectMetaInput,
  spec: z.object({
    limits: z
      .array(
        z
          .object({
            /** Only `Container`: a pod here has one container. */
            type: z.literal('Container'),
            /** The limits a container that sets none gets. */
            default: containerResources.optional(),
            max: containerResources.optional(),
            min: containerResources.optional(),
          })
          .strict(),
      )
      .min(1)
      .max(10),
  }),
});
export type LimitRangeSpec = z.infer<typeof limitRangeInput>['spec'];
export type LimitRange = Resource<'LimitRange', LimitRangeSpec, Record<string, never>>;
