import { Inject, Injectable } from '@nestjs/common';
import type { Container, DeploymentConfigSpec } from '@paas/contracts/deployments';
import { parseByteQuantity } from '@paas/contracts/namespaces';
import { formatCpu, formatMemory, parseCpuQuantity, type LimitRange, type QuotaResourceName, type QuotaResources, type ResourceQuota } from '@paas/contracts/quotas';
import { ApiError } from '@paas/platform/api-error';
import { DEPLOY_SETTINGS, type DeploySettings } from '../deploy-settings';
import { DeployInformers } from '../informers';

/** What a DeploymentConfig asks of its namespace: its replicas, and their memory and CPU limits together (CPU undefined when a container sets none). */
export interface Ask {
  pods: number;
  memoryBytes: number;
  cpuMillis: number | undefined;
}

const NONE: Ask = { pods: 0, memoryBytes: 0, cpuMillis: 0 };

/** `replicas` pods, each with its container's limits; a container without a memory limit runs with `defaultMemoryBytes` and is counted so. */
export function askOf(spec: Pick<DeploymentConfigSpec, 'replicas' | 'template'>, defaultMemoryBytes: number): Ask {
  const [container] = spec.template.spec.containers;
  const limits = container?.resources?.limits;
  const cpu = limits?.cpuMillis;
  return { pods: spec.replicas, memoryBytes: spec.replicas * (limits?.memoryBytes ?? defaultMemoryBytes), cpuMillis: cpu === undefined ? undefined : spec.replicas * cpu };
}

export function sumAsks(asks: Ask[]): Ask {
  return asks.reduce((sum, ask) => ({
    pods: sum.pods + ask.pods,
    memoryBytes: sum.memoryBytes + ask.memoryBytes,
    cpuMillis: sum.cpuMillis === undefined || ask.cpuMillis === undefined ? undefined : sum.cpuMillis + ask.cpuMillis,
  }), NONE);
}

/** An ask in a quota's terms; CPU counts 0 for containers without a CPU limit (a quota on CPU refuses those first). */
export function quotaUsage(ask: Ask): Required<QuotaResources> {
  return { pods: String(ask.pods), 'limits.memory': formatMemory(ask.memoryBytes), 'limits.cpu': formatCpu(ask.cpuMillis ?? 0) };
}

/** The limits a LimitRange speaks of, by their quantity names and the template's fields. */
const LIMITED = [
  { name: 'memory', field: 'memoryBytes', parse: parseByteQuantity, format: formatMemory },
  { name: 'cpu', field: 'cpuMillis', parse: parseCpuQuantity, format: formatCpu },
] as const;

const forbidden = (name: string, why: string) => ApiError.of('Forbidden', `deploymentconfigs "${name}" is forbidden: ${why}`, { kind: 'DeploymentConfig', name });

/**
 * The namespace's LimitRanges applied to a template, after Kubernetes' LimitRanger: a
 * container without a memory or CPU limit gets the `default` one; a limit above `max` or below
 * `min` is refused (403, Kubernetes' words: `maximum memory usage per Container is 1Gi, but
 * limit is 2Gi`). Without a LimitRange the template is as given.
 */
export function applyLimitRanges(name: string, container: Container, ranges: LimitRange[]): Container {
  const items = ranges.flatMap((range) => range.spec.limits);
  const limits: { memoryBytes?: number; cpuMillis?: number } = { ...container.resources?.limits };
  for (const resource of LIMITED) {
    const fallback = items.map((item) => item.default?.[resource.name]).find((value) => value !== undefined);
    if (limits[resource.field] === undefined && fallback !== undefined) limits[resource.field] = resource.parse(fallback);
    const limit = limits[resource.field];
    for (const item of items) {
      const max = item.max?.[resource.name];
      const min = item.min?.[resource.name];
      if (max !== undefined && limit === undefined) throw forbidden(name, `${resource.name} max limit of ${max} per Container needs a ${resource.name} limit (resources.limits.${resource.field}, or a default in the LimitRange)`);
      if (max !== undefined && limit !== undefined && limit > (resource.parse(max) ?? Infinity)) throw forbidden(name, `maximum ${resource.name} usage per Container is ${max}, but limit is ${resource.format(limit)}`);
      if (min !== undefined && limit !== undefined && limit < (resource.parse(min) ?? 0)) throw forbidden(name, `minimum ${resource.name} usage per Container is ${min}, but limit is ${resource.format(limit)}`);
    }
  }
  if (!Object.keys(limits).length) return container;
  return { ...container, resources: { ...container.resources, limits } };
}

/**
 * Whether the namespace's quotas let a DeploymentConfig go from asking `before` to asking
 * `after` while the others ask `others`, after Kubernetes' quota admission: only a growth is
 * checked (scaling down always passes), each resource a quota names against its `hard`
 * figure; refused as a 403 in Kubernetes' words (`exceeded quota: compute, requested:
 * limits.memory=1Gi, used: limits.memory=3Gi, limited: limits.memory=4Gi`), and with `must
 * specify limits.cpu` when a quota on CPU meets a container without a CPU limit.
 */
export function checkQuotas(name: string, quotas: ResourceQuota[], others: Ask, before: Ask, after: Ask): void {
  const used = sumAsks([others, before]);
  for (const quota of quotas) {
    const hard = quota.spec.hard;
    if (hard['limits.cpu'] !== undefined && after.pods > 0 && after.cpuMillis === undefined) throw forbidden(name, `failed quota: ${quota.metadata.name}: must specify limits.cpu`);
    const exceeded: { resource: QuotaResourceName; requested: string; used: string; limited: string }[] = [];
    const check = (resource: QuotaResourceName, amount: (ask: Ask) => number, limit: number | undefined, format: (value: number) => string) => {
      const grows = amount(after) - amount(before);
      if (limit === undefined || grows <= 0 || amount(used) + grows <= limit) return;
      exceeded.push({ resource, requested: format(grows), used: format(amount(used)), limited: format(limit) });
    };
    check('pods', (ask) => ask.pods, hard.pods === undefined ? undefined : Number(hard.pods), String);
    check('limits.memory', (ask) => ask.memoryBytes, hard['limits.memory'] === undefined ? undefined : parseByteQuantity(hard['limits.memory']), formatMemory);
    check('limits.cpu', (ask) => ask.cpuMillis ?? 0, hard['limits.cpu'] === undefined ? undefined : parseCpuQuantity(hard['limits.cpu']), formatCpu);
    if (!exceeded.length) continue;
    const list = (field: 'requested' | 'used' | 'limited') => exceeded.map((e) => `${e.resource}=${e[field]}`).join(',');
    throw forbidden(name, `exceeded quota: ${quota.metadata.name}, requested: ${list('requested')}, used: ${list('used')}, limited: ${list('limited')}`);
  }
}

/**
 * The admission of a DeploymentConfig's desired state against its namespace's LimitRanges and
 * ResourceQuotas, from the deploy-service's caches, on create, update and scale: the spec with
 * LimitRange defaults filled in, or a 403. Checked, not reserved: two writes on two replicas at
 * the same moment may together pass a quota by one of them (docs/architecture.md).
 */
@Injectable()
export class QuotaAdmission {
  constructor(
    @Inject(DeployInformers) private readonly cache: Pick<DeployInformers, 'dcs' | 'resourceQuotas' | 'limitRanges'>,
    @Inject(DEPLOY_SETTINGS) private readonly settings: Pick<DeploySettings, 'podMemoryBytes'>,
  ) {}

  /** `spec` of DC `name` as it may be stored; `current` the spec stored now (undefined on create). */
  admit(namespace: string, name: string, spec: DeploymentConfigSpec, current?: DeploymentConfigSpec): DeploymentConfigSpec {
    const ranges = this.cache.limitRanges.list({ namespace });
    const containers = spec.template.spec.containers.map((container) => applyLimitRanges(name, container, ranges));
    const admitted = { ...spec, template: { ...spec.template, spec: { ...spec.template.spec, containers } } };
    const quotas = this.cache.resourceQuotas.list({ namespace });
    if (quotas.length) {
      const others = this.cache.dcs.list({ namespace }).filter((dc) => dc.metadata.name !== name);
      const ask = (s: DeploymentConfigSpec) => askOf(s, this.settings.podMemoryBytes);
      checkQuotas(name, quotas, sumAsks(others.map((dc) => ask(dc.spec))), current ? ask(current) : NONE, ask(admitted));
    }
    return admitted;
  }

  /** What the namespace's DeploymentConfigs ask now, in a quota's terms (its `status.used`). */
  used(namespace: string): Required<QuotaResources> {
    return quotaUsage(sumAsks(this.cache.dcs.list({ namespace }).map((dc) => askOf(dc.spec, this.settings.podMemoryBytes))));
  }
}
