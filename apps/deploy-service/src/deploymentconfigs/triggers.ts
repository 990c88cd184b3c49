import type { DeploymentConfigSpec, DeploymentTrigger, PodTemplate } from '@paas/contracts/deployments';
import { isDeepStrictEqual } from 'node:util';

export type ImageChangeTrigger = Extract<DeploymentTrigger, { type: 'ImageChange' }>;

export function imageChangeTriggers(spec: DeploymentConfigSpec): ImageChangeTrigger[] {
  return spec.triggers.filter((t): t is ImageChangeTrigger => t.type === 'ImageChange');
}

/** A container still without an image waits for its ImageChange trigger. */
export function waitingForImage(spec: DeploymentConfigSpec): boolean {
  return spec.template.spec.containers.some((c) => !c.image);
}

/** ConfigChange rolls out a template change once every container has an image. */
export function rollsOutOnConfigChange(spec: DeploymentConfigSpec): boolean {
  return spec.triggers.some((t) => t.type === 'ConfigChange') && !waitingForImage(spec);
}

export function templateChanged(before: PodTemplate, after: PodTemplate): boolean {
  return !isDeepStrictEqual(before, after);
}

/**
 * An update keeps what the ImageChange triggers resolved: a container the user leaves
 * without an image keeps its current one, and a trigger keeps its `lastTriggeredImage`.
 */
export function carryResolvedImages(current: DeploymentConfigSpec, next: DeploymentConfigSpec): DeploymentConfigSpec {
  const containers = next.template.spec.containers.map((container) => {
    const previous = current.template.spec.containers.find((c) => c.name === container.name);
    return !container.image && previous?.image ? { ...container, image: previous.image } : container;
  });
  const triggers = next.triggers.map((trigger) => {
    if (trigger.type !== 'ImageChange' || trigger.imageChangeParams.lastTriggeredImage) return trigger;
    const previous = imageChangeTriggers(current).find((t) => t.imageChangeParams.from.name === trigger.imageChangeParams.from.name);
    const last = previous?.imageChangeParams.lastTriggeredImage;
    return last ? { ...trigger, imageChangeParams: { ...trigger.imageChangeParams, lastTriggeredImage: last } } : trigger;
  });
  return { ...next, triggers, template: { ...next.template, spec: { ...next.template.spec, containers } } };
}

/** Points the trigger's containers at `image` and records it as the trigger's last image. */
export function applyTriggeredImage(spec: DeploymentConfigSpec, from: string, image: string): DeploymentConfigSpec {
  let names: string[] = [];
  const triggers = spec.triggers.map((trigger) => {
    if (trigger.type !== 'ImageChange' || trigger.imageChangeParams.from.name !== from) return trigger;
    names = [...names, ...trigger.imageChangeParams.containerNames];
    return { ...trigger, imageChangeParams: { ...trigger.imageChangeParams, lastTriggeredImage: image } };
  });
  const containers = spec.template.spec.containers.map((c) => (names.includes(c.name) ? { ...c, image } : c));
  return { ...spec, triggers, template: { ...spec.template, spec: { ...spec.template.spec, containers } } };
}
