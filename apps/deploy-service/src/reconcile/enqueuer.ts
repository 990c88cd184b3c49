import type { Labels } from '@paas/contracts/meta';

/** How one controller asks for another object to be reconciled: only keys travel. */
export interface Enqueuer {
  deploymentConfig(namespace: string, name: string): void;
  replicationController(namespace: string, name: string): void;
  endpoints(namespace: string, service: string): void;
  /** The Endpoints of every Service in `namespace` whose selector matches one of these label sets. */
  endpointsSelecting(namespace: string, podLabels: Labels[]): void;
}

export const ENQUEUER = Symbol('ENQUEUER');
