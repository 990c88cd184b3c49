import type { Build } from '@paas/contracts/builds';

/** Which attempt of a build runs (1 when absent). */
export const ATTEMPT_ANNOTATION = 'paas.dev/build-attempt';
/** A build whose runner died, or whose node was lost under it, is run once more; after that it ends. */
export const MAX_ATTEMPTS = 2;

export const attemptOf = (build: Build) => Number(build.metadata.annotations?.[ATTEMPT_ANNOTATION] ?? 1);
/** The node an earlier attempt was lost with: the next attempt goes elsewhere when it can (the node may not be NotReady yet). */
export const LOST_NODE_ANNOTATION = 'paas.dev/build-lost-node';

export const lostNodeOf = (build: Build) => build.metadata.annotations?.[LOST_NODE_ANNOTATION];

const IN_FLIGHT: Build['status']['phase'][] = ['Pending', 'Running'];

/**
 * The next attempt of `current`, if it is still the in-flight build `uid`: New again, with
 * no stages and no node (the controller places it anew, away from `lostNode` when given),
 * and `why` in its message.
 */
export function nextAttempt(current: Build, uid: string, why: string, lostNode?: string): Build | undefined {
  if (current.metadata.uid !== uid || !IN_FLIGHT.includes(current.status.phase)) return undefined;
  const attempt = attemptOf(current) + 1;
  const { nodeName: _node, ...status } = current.status;
  const lost: Record<string, string> = lostNode ? { [LOST_NODE_ANNOTATION]: lostNode } : {};
  return {
    ...current,
    metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, [ATTEMPT_ANNOTATION]: String(attempt), ...lost } },
    status: { ...status, phase: 'New', stages: [], message: `attempt ${attempt}: ${why}` },
  };
}
