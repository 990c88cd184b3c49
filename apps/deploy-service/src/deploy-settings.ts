/** Knobs of the reconcile loops, from the environment; tests pass their own. */
export interface DeploySettings {
  /** How long a pod removed from Endpoints keeps running so routers stop sending to it. */
  drainMs: number;
  /** Every this often every object is reconciled again, healing what no change reported (minutes: changes drive the work). */
  resyncMs: number;
  /** SIGTERM → SIGKILL grace when a pod's container is stopped. */
  graceSeconds: number;
  /** Most containers started or stopped by one reconcile of one controller. */
  batchSize: number;
  /** How often every node's engine is asked whether it is there. */
  nodeHeartbeatMs: number;
  /** A node whose engine has not answered for this long is NotReady: its pods are replaced elsewhere. */
  nodeGraceMs: number;
  now: () => number;
}

export const DEPLOY_SETTINGS = Symbol('DEPLOY_SETTINGS');

function numberFrom(value: string | undefined, fallback: number): number {
  const parsed = Number(value);
  return value !== undefined && value !== '' && Number.isFinite(parsed) && parsed >= 0 ? parsed : fallback;
}

export function loadDeploySettings(env: NodeJS.ProcessEnv = process.env): DeploySettings {
  return {
    drainMs: numberFrom(env.DEPLOY_DRAIN_MS, 1_000),
    resyncMs: numberFrom(env.DEPLOY_RESYNC_MS, 300_000),
    graceSeconds: numberFrom(env.DEPLOY_GRACE_SECONDS, 10),
    batchSize: numberFrom(env.DEPLOY_BATCH_SIZE, 10) || 10,
    nodeHeartbeatMs: numberFrom(env.DEPLOY_NODE_HEARTBEAT_MS, 1_000) || 1_000,
    nodeGraceMs: numberFrom(env.DEPLOY_NODE_GRACE_MS, 5_000) || 5_000,
    now: Date.now,
  };
}
