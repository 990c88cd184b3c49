import { parseByteQuantity } from '@paas/contracts/namespaces';
import { SettingError } from '@paas/platform/bus-settings';
import { DEFAULT_POD_USER } from './adapters/docker-runtime';

/** Knobs of the reconcile loops and the pods' limits, from the environment; tests pass their own. */
export interface DeploySettings {
  /** How long a pod removed from Endpoints keeps running at least, before the routers are asked whether they let go of it. */
  drainMs: number;
  /** Past this much drain a pod's container is stopped even if a router still holds it (`DEPLOY_DRAIN_TIMEOUT_MS`, 30 s). */
  drainTimeoutMs: number;
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
  /** The memory limit of a pod whose template sets none (`DEPLOY_POD_MEMORY_LIMIT`, 512Mi); the scheduler counts it too. */
  podMemoryBytes: number;
  /** Pods a node takes at most (`DEPLOY_MAX_PODS`, 110 as the kubelet's default): its `pods` capacity. */
  maxPodsPerNode: number;
  /** Most processes (threads included) a pod may have (`DEPLOY_POD_PIDS_LIMIT`, 1024). */
  podPidsLimit: number;
  /** Who a pod runs as when its image would run it as root (`DEPLOY_POD_USER`, `1001:0`): pods never run as root. */
  podUser: string;
  /**
   * A container that stopped is started again at once the first time, then after this, doubling
   * per restart up to `restartBackoffMaxMs` (`CrashLoopBackOff` meanwhile), as the kubelet does.
   */
  restartBackoffMs: number;
  restartBackoffMaxMs: number;
  /** How often unused images of the platform are removed from every Ready node (`DEPLOY_IMAGE_GC_INTERVAL_MS`, 5 min; 0: never). */
  imageGcIntervalMs: number;
  /** How long such an image must have been unused (and have existed) before it goes (`DEPLOY_IMAGE_GC_MIN_AGE_MS`, 10 min). */
  imageGcMinAgeMs: number;
  now: () => number;
}

export const DEPLOY_SETTINGS = Symbol('DEPLOY_SETTINGS');

function numberFrom(value: string | undefined, fallback: number): number {
  const parsed = Number(value);
  return value !== undefined && value !== '' && Number.isFinite(parsed) && parsed >= 0 ? parsed : fallback;
}

/** A whole number within bounds, or a SettingError naming the variable: a typo must not quietly become a default. */
function wholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) throw new SettingError(`${name} must be a whole number from ${min} to ${max}, not "${value}"`);
  return parsed;
}

/** Docker refuses a memory limit below 6 MiB; the DeploymentConfig schema asks at least 4 MiB of a template. */
const MIN_POD_MEMORY = 6 * 1024 ** 2;
const USER = /^(?:[a-z_][a-z0-9_-]{0,31}|\d{1,10})(?::(?:[a-z_][a-z0-9_-]{0,31}|\d{1,10}))?$/;

export function loadDeploySettings(env: NodeJS.ProcessEnv = process.env): DeploySettings {
  const memory = env.DEPLOY_POD_MEMORY_LIMIT || '512Mi';
  const podMemoryBytes = parseByteQuantity(memory);
  if (podMemoryBytes === undefined || podMemoryBytes < MIN_POD_MEMORY) {
    throw new SettingError(`DEPLOY_POD_MEMORY_LIMIT must be a quantity of bytes of at least 6Mi (e.g. 512Mi, 1Gi), not "${memory}"`);
  }
  const podUser = env.DEPLOY_POD_USER || DEFAULT_POD_USER;
  const [uid] = podUser.split(':');
  if (!USER.test(podUser) || uid === '0' || uid === 'root') {
    throw new SettingError(`DEPLOY_POD_USER must name a non-root user as uid[:gid] (e.g. 1001:0), not "${podUser}"`);
  }
  const restartBackoffMs = wholeNumber(env, 'DEPLOY_RESTART_BACKOFF_MS', 10_000, 0, 3_600_000);
  return {
    drainMs: numberFrom(env.DEPLOY_DRAIN_MS, 1_000),
    drainTimeoutMs: wholeNumber(env, 'DEPLOY_DRAIN_TIMEOUT_MS', 30_000, 0, 3_600_000),
    resyncMs: numberFrom(env.DEPLOY_RESYNC_MS, 300_000),
    graceSeconds: numberFrom(env.DEPLOY_GRACE_SECONDS, 10),
    batchSize: numberFrom(env.DEPLOY_BATCH_SIZE, 10) || 10,
    nodeHeartbeatMs: numberFrom(env.DEPLOY_NODE_HEARTBEAT_MS, 1_000) || 1_000,
    nodeGraceMs: numberFrom(env.DEPLOY_NODE_GRACE_MS, 5_000) || 5_000,
    podMemoryBytes,
    podPidsLimit: wholeNumber(env, 'DEPLOY_POD_PIDS_LIMIT', 1024, 16, 4_194_304),
    maxPodsPerNode: wholeNumber(env, 'DEPLOY_MAX_PODS', 110, 1, 10_000),
    podUser,
    restartBackoffMs,
    restartBackoffMaxMs: wholeNumber(env, 'DEPLOY_RESTART_BACKOFF_MAX_MS', 300_000, restartBackoffMs, 86_400_000),
    imageGcIntervalMs: wholeNumber(env, 'DEPLOY_IMAGE_GC_INTERVAL_MS', 300_000, 0, 86_400_000),
    imageGcMinAgeMs: wholeNumber(env, 'DEPLOY_IMAGE_GC_MIN_AGE_MS', 600_000, 0, 7 * 86_400_000),
    now: Date.now,
  };
}
