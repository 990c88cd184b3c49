import type { Pod } from '@paas/contracts/deployments';

/** What the RC controller tells the readiness prober: which running pods to probe. */
export interface ReadinessTracker {
  /** Starts (or keeps) probing this pod's current container; a no-op without a probe. */
  watch(pod: Pod): void;
  forget(namespace: string, name: string): void;
}

export const READINESS_TRACKER = Symbol('READINESS_TRACKER');
