import type { Build } from '@paas/contracts/builds';

/** Which attempt of a build runs (1 when absent). */
export const ATTEMPT_ANNOTATION = 'paas.dev/build-attempt';
/** A build whose runner died, or whose node was lost under it, is run once more; after that it ends. */
export const MAX_ATTEMPTS = 2;

export const attemptOf = (build: Build) => Number(build.metadata.annotations?.[ATTEMPT_ANNOTATION] ?? 1);

const IN_FLIGHT: Build['status']['phase'][] = ['Pending', 'Running'];

/**
 * The next attempt of `current`, if it is still the in-flight build `uid`: New again, with
 * no stages and no node (the controller places it anew), and `why` in its message.
 */
export function nextAttempt(current: Build, uid: string, why: string): Build | undefined {
  if (current.metadata.uid !== uid || !IN_FLIGHT.includes(current.status.phase)) return undefined;
  const attempt = attemptOf(current) + 1;
  const { nodeName: _node, ...status } = current.status;
  return {
    ...current,
    metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, [ATTEMPT_ANNOTATION]: String(attempt) } },
    status: { ...status, phase: 'New', stages: [], message: `attempt ${attempt}: ${why}` },
  };
}
