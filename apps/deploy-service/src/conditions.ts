import type { Condition } from '@paas/contracts/meta';

/** Sets one condition, keeping its `lastTransitionTime` when its status does not change. */
export function setCondition(conditions: Condition[], next: Omit<Condition, 'lastTransitionTime'>, now: number): Condition[] {
  const current = conditions.find((c) => c.type === next.type);
  const lastTransitionTime = current && current.status === next.status ? current.lastTransitionTime : new Date(now).toISOString();
  const condition: Condition = { ...next, lastTransitionTime };
  if (current && current.status === condition.status && current.reason === condition.reason && current.message === condition.message) return conditions;
  return [...conditions.filter((c) => c.type !== next.type), condition];
}

export function conditionStatus(conditions: Condition[] | undefined, type: string): Condition['status'] | undefined {
  return conditions?.find((c) => c.type === type)?.status;
}
