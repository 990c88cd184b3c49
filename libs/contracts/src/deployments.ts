import { z } from 'zod';
import { envVar, labelsSchema, objectMetaInput, type Condition, type Labels, type Resource } from './meta';
import { imageStreamTagRef } from './builds';
import { configKey } from './config';

/**
 * A probe, as Kubernetes' `httpGet`, `tcpSocket` and `exec` probes (exactly one of them): a GET
 * that answers 200–399, a TCP connection that opens, or a command run in the container that
 * exits 0, within `timeoutSeconds`.
 */
export const probeSchema = z
  .object({
    httpGet: z
      .object({
        path: z.string().startsWith('/', 'must start with /').max(1024).default('/'),
        port: z.number().int().min(1).max(65535),
      })
      .optional(),
    tcpSocket: z.object({ port: z.number().int().min(1).max(65535) }).optional(),
    /** Run as is (no shell unless it names one), as the container's user. */
    exec: z.object({ command: z.array(z.string().min(1).max(4096)).min(1).max(64) }).optional(),
    initialDelaySeconds: z.number().int().min(0).max(3600).default(0),
    periodSeconds: z.number().min(0.1).max(300).default(10),
    timeoutSeconds: z.number().min(0.1).max(60).default(1),
    failureThreshold: z.number().int().min(1).max(100).default(3),
  })
  .refine((probe) => [probe.httpGet, probe.tcpSocket, probe.exec].filter(Boolean).length === 1, { message: 'exactly one of httpGet, tcpSocket and exec is required', path: ['httpGet'] });
export type Probe = z.infer<typeof probeSchema>;

const objectName = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label (lower case letters, digits and "-")').max(63);

/** One key of a ConfigMap or Secret of the pod's namespace; `optional`: a missing one leaves the variable out instead of holding the pod back. */
const keyRef = z.object({ name: objectName, key: configKey, optional: z.boolean().default(false) }).strict();
/** A whole ConfigMap or Secret of the pod's namespace. */
const objectRef = z.object({ name: objectName, optional: z.boolean().default(false) }).strict();

/**
 * A container's variable: a `value`, or `valueFrom` one key of a ConfigMap or Secret, read
 * when the container is created (a change of the ConfigMap reaches a container when it next
 * starts, as in Kubernetes).
 */
export const containerEnvVar = envVar
  .extend({
    value: z.string().max(32768).optional(),
    valueFrom: z
      .object({ configMapKeyRef: keyRef.optional(), secretKeyRef: keyRef.optional() })
      .strict()
      .refine((from) => [from.configMapKeyRef, from.secretKeyRef].filter(Boolean).length === 1, 'exactly one of configMapKeyRef and secretKeyRef is required')
      .optional(),
  })
  .refine((variable) => variable.value === undefined || variable.valueFrom === undefined, { message: 'value and valueFrom cannot both be set', path: ['valueFrom'] });
export type ContainerEnvVar = z.infer<typeof containerEnvVar>;

/** Every key of a ConfigMap or Secret as a variable (`prefix` before each name); keys that are not valid names are skipped, as Kubernetes does. */
export const envFromSource = z
  .object({
    prefix: z.string().max(253).regex(/^[-._a-zA-Z0-9]*$/, 'must consist of alphanumeric characters, "-", "_" or "."').optional(),
    configMapRef: objectRef.optional(),
    secretRef: objectRef.optional(),
  })
  .strict()
  .refine((source) => [source.configMapRef, source.secretRef].filter(Boolean).length === 1, { message: 'exactly one of configMapRef and secretRef is required', path: ['configMapRef'] });
export type EnvFromSource = z.infer<typeof envFromSource>;

export const containerSchema = z.object({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(63),
  /** Empty until an ImageChange trigger resolves it. */
  image: z.string().max(1024).default(''),
  /** After `envFrom`: a name in both takes its value from here. */
  env: z.array(containerEnvVar).max(200).default([]),
  envFrom: z.array(envFromSource).max(20).optional(),
  ports: z.array(z.object({ containerPort: z.number().int().min(1).max(65535), protocol: z.literal('TCP').default('TCP') })).max(1).default([]),
  /** Until it succeeds the pod takes no traffic; after `failureThreshold` failures in a row it leaves the Endpoints. */
  readinessProbe: probeSchema.optional(),
  /** After `failureThreshold` failures in a row the container is stopped and started again (a restart, with back-off if it repeats). */
  livenessProbe: probeSchema.optional(),
  /**
   * While it has not succeeded once, readiness and liveness are not probed; after
   * `failureThreshold` failures in a row the container is restarted (a slow starter's budget:
   * `failureThreshold × periodSeconds`).
   */
  startupProbe: probeSchema.optional(),
  resources: z
    .object({ limits: z.object({ memoryBytes: z.number().int().min(4 << 20).optional(), cpuMillis: z.number().int().min(10).optional() }).default({}) })
    .optional(),
  securityContext: z
    .object({
      /** The image's files cannot be changed; `/tmp` stays writable (a small tmpfs, counted in the container's memory). */
      readOnlyRootFilesystem: z.boolean().default(false),
    })
    .strict()
    .optional(),
});
export type Container = z.infer<typeof containerSchema>;

export const podTemplateSchema = z.object({
  metadata: z.object({ labels: labelsSchema.default({}) }).default({ labels: {} }),
  spec: z.object({
    containers: z.array(containerSchema).length(1, 'exactly one container is supported'),
    /** Only nodes with all these labels take the pods (every node has `kubernetes.io/hostname: <its name>`). */
    nodeSelector: labelsSchema.optional(),
  }),
});
export type PodTemplate = z.infer<typeof podTemplateSchema>;

const INT_OR_PERCENT = 'must be an integer ≥ 0 or a percentage such as "25%"';
/** Kubernetes' IntOrString as a rolling update reads it: a count of pods, or a percentage of `spec.replicas`. */
export const intOrPercent = z.union(
  [z.number(INT_OR_PERCENT).int(INT_OR_PERCENT).min(0, INT_OR_PERCENT), z.string().regex(/^(0|[1-9][0-9]{0,5})%$/, INT_OR_PERCENT)],
  { error: INT_OR_PERCENT },
);
export type IntOrPercent = z.infer<typeof intOrPercent>;

function notOver100Percent(value: IntOrPercent): boolean {
  return typeof value === 'number' || Number.parseInt(value, 10) <= 100;
}

export const deploymentTriggerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ConfigChange') }),
  z.object({
    type: z.literal('ImageChange'),
    imageChangeParams: z.object({
      automatic: z.boolean().default(true),
      containerNames: z.array(z.string()).min(1),
      from: imageStreamTagRef,
      /** The last image this trigger rolled out; set by the deploy-service. */
      lastTriggeredImage: z.string().optional(),
    }),
  }),
]);
export type DeploymentTrigger = z.infer<typeof deploymentTriggerSchema>;

/**
 * A lifecycle hook of a rollout, as OpenShift's: `execNewPod` runs `command` once in a new
 * container of the revision's image (the named container's, with its environment and `env`
 * added), and the rollout goes on when it exits 0. When it does not, `failurePolicy` decides:
 * `Abort` fails the revision (the last complete one serves again), `Retry` runs it again until
 * it succeeds (within the strategy's `timeoutSeconds`), `Ignore` goes on. (`tagImages` hooks are
 * not supported.)
 */
export const lifecycleHookSchema = z
  .object({
    failurePolicy: z.enum(['Abort', 'Retry', 'Ignore']),
    execNewPod: z
      .object({
        /** Run as is (no shell unless it names one), instead of the image's entrypoint and command. */
        command: z.array(z.string().min(1).max(4096)).min(1).max(64),
        env: z.array(envVar).max(100).default([]),
        /** The template's container whose image and environment it takes. */
        containerName: z.string().min(1).max(63),
      })
      .strict(),
  })
  .strict();
export type LifecycleHook = z.infer<typeof lifecycleHookSchema>;
export type HookType = 'pre' | 'mid' | 'post';

export const deploymentConfigSpecSchema = z.object({
  replicas: z.number().int().min(0).max(100).default(1),
  selector: labelsSchema,
  template: podTemplateSchema,
  triggers: z.array(deploymentTriggerSchema).max(10).default([{ type: 'ConfigChange' }]),
  strategy: z
    .object({
      /** `Rolling` replaces pods a few at a time; `Recreate` stops every old pod before the first new one starts. */
      type: z.enum(['Rolling', 'Recreate']).default('Rolling'),
      /** Read by `Rolling` only; defaulted whichever the type. */
      rollingParams: z
        .object({
          /** Pods beyond `replicas` the new revision may start: a count, or a percentage of `replicas` rounded up. */
          maxSurge: intOrPercent.default(1),
          /** Pods below `replicas` the old revisions may lose before new ones are ready: a count, or a percentage rounded down. */
          maxUnavailable: intOrPercent.refine(notOver100Percent, 'a percentage must not exceed 100%').default(0),
          timeoutSeconds: z.number().int().min(10).default(600),
          /**
           * The least time between two steps of a rollout (each scaling of a revision up or down):
           * a slower, steadier rollout. Left out, 0 (OpenShift's default is 1 s): every step
           * already waits for the pods it counts on to be ready.
           */
          updatePeriodSeconds: z.number().int().min(0).max(3600).optional(),
          /** Runs before the new revision gets its first pod; the rollout waits for it. */
          pre: lifecycleHookSchema.optional(),
          /** Runs once the new revision's pods are all ready and the old ones gone; the revision is Complete only after it. */
          post: lifecycleHookSchema.optional(),
        })
        .default({ maxSurge: 1, maxUnavailable: 0, timeoutSeconds: 600 }),
      /** Read by `Recreate`; without it the rollout's timeout is 600 s. */
      recreateParams: z
        .object({
          timeoutSeconds: z.number().int().min(10).default(600),
          /** Before the old revisions are scaled down. */
          pre: lifecycleHookSchema.optional(),
          /** Once no pod of an old revision is left, before the new one is scaled up (a schema migration's place). */
          mid: lifecycleHookSchema.optional(),
          /** Once the new revision's pods are all ready. */
          post: lifecycleHookSchema.optional(),
        })
        .optional(),
    })
    .default({ type: 'Rolling', rollingParams: { maxSurge: 1, maxUnavailable: 0, timeoutSeconds: 600 } }),
  paused: z.boolean().default(false),
  /**
   * A revision that makes no progress (no pod of it becoming ready) for this long fails and the
   * previous complete revision serves again; one whose pod crash-loops fails at once.
   */
  progressDeadlineSeconds: z.number().int().min(1).max(3600).default(60),
  /**
   * How long a new pod must have been Ready before the rollout counts it as available (and so
   * scales an older revision down for it): a pod that answers its probe and then falls over
   * within this time never costs the old revision a pod. Routers send it traffic once Ready.
   */
  minReadySeconds: z.number().int().min(0).max(3600).default(0),
  /**
   * How many old revisions to keep (as OpenShift's DeploymentConfig): older ones are deleted once
   * scaled to 0 with no pod left. The newest and the last complete one are always kept.
   */
  revisionHistoryLimit: z.number().int().min(0).max(1000).default(10),
});
export type DeploymentConfigSpec = z.infer<typeof deploymentConfigSpecSchema>;

/** The hooks the DC's strategy runs: Rolling's `pre` and `post`, Recreate's `pre`, `mid` and `post`. */
export function lifecycleHooksOf(strategy: DeploymentConfigSpec['strategy']): Partial<Record<HookType, LifecycleHook>> {
  const params = strategy.type === 'Recreate' ? strategy.recreateParams : strategy.rollingParams;
  const hooks: Partial<Record<HookType, LifecycleHook>> = {};
  for (const type of ['pre', 'mid', 'post'] as const) {
    const hook = (params as Partial<Record<HookType, LifecycleHook>> | undefined)?.[type];
    if (hook) hooks[type] = hook;
  }
  return hooks;
}

export const deploymentConfigInput = z.object({
  apiVersion: z.literal('v1').optional(),
  kind: z.literal('DeploymentConfig').optional(),
  metadata: objectMetaInput,
  spec: deploymentConfigSpecSchema,
});
export type DeploymentConfigInput = z.infer<typeof deploymentConfigInput>;

/**
 * `oc rollback` / `oc rollout undo` (OpenShift's DeploymentConfigRollback): which revision's
 * template to roll out again; 0 or none, the last Complete one before the latest.
 */
export const deploymentConfigRollbackInput = z
  .object({
    apiVersion: z.string().max(64).optional(),
    kind: z.literal('DeploymentConfigRollback').optional(),
    name: z.string().max(253).optional(),
    spec: z.object({ revision: z.number().int().min(0).default(0) }).default({ revision: 0 }),
  })
  .default({ spec: { revision: 0 } });
export type DeploymentConfigRollbackInput = z.infer<typeof deploymentConfigRollbackInput>;

export interface DeploymentConfigStatus {
  latestVersion: number;
  /**
   * Why `latestVersion` last moved (OpenShift's `status.details.message`), written with it: the
   * revision's cause, whichever of the writer and the reconciler creates its RC first.
   */
  details?: { message: string };
  observedGeneration: number;
  replicas: number;
  readyReplicas: number;
  updatedReplicas: number;
  conditions: Condition[];
}
export type DeploymentConfig = Resource<'DeploymentConfig', DeploymentConfigSpec, DeploymentConfigStatus>;

/** Annotations and labels that tie revisions and pods to their deployment, as OpenShift names them. */
export const DEPLOYMENT_LABELS = {
  deploymentConfig: 'deploymentconfig',
  deployment: 'deployment',
} as const;
export const DEPLOYMENT_ANNOTATIONS = {
  version: 'openshift.io/deployment-config.latest-version',
  phase: 'openshift.io/deployment.phase',
  cause: 'openshift.io/deployment.cause',
  /** `oc rollout cancel`: set on the newest revision while it rolls out; it fails, and the last complete one serves again. */
  cancelled: 'openshift.io/deployment.cancelled',
  /** Why a revision failed (`CrashLoopBackOff`, `ProgressDeadlineExceeded`, `RolloutCancelled`), and in words. */
  statusReason: 'openshift.io/deployment.status-reason',
  statusMessage: 'paas.dev/deployment.status-message',
  /** When the revision was last asked for more pods (ISO time): progress, as a pod becoming ready is. */
  scaledUpAt: 'paas.dev/deployment.scaled-up-at',
  /** When the DC controller last changed the revision's replicas, up or down (ISO time): `updatePeriodSeconds` counts from it. */
  scaledAt: 'paas.dev/deployment.scaled-at',
} as const;

/** The Ready condition's reason while a container that failed its liveness probe is being restarted. */
export const LIVENESS_PROBE_FAILED = 'LivenessProbeFailed';
/** A pod's reason while its container is restarted for failing its startup probe. */
export const STARTUP_PROBE_FAILED = 'StartupProbeFailed';

/** A pod's `status.reason` while its container waits to start again after stopping once more. */
export const CRASH_LOOP_BACK_OFF = 'CrashLoopBackOff';

export type DeploymentPhase = 'New' | 'Pending' | 'Running' | 'Complete' | 'Failed';

export interface ReplicationControllerSpec {
  replicas: number;
  selector: Labels;
  template: PodTemplate;
}
export interface ReplicationControllerStatus {
  replicas: number;
  readyReplicas: number;
  observedGeneration: number;
}
export type ReplicationController = Resource<'ReplicationController', ReplicationControllerSpec, ReplicationControllerStatus>;

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

/** The label every node carries with its own name, as Kubernetes names it. */
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

export interface PodSpec {
  containers: Container[];
  nodeSelector?: Labels;
  /** The Docker engine that runs it. */
  nodeName: string;
}
/** How a container's run ended, as Kubernetes' `state.terminated` says it. */
export interface ContainerTermination {
  exitCode: number;
  /** `OOMKilled` (killed for going over its memory limit), `Completed` (exit code 0) or `Error`. */
  reason: 'OOMKilled' | 'Completed' | 'Error';
  startedAt?: string;
  finishedAt?: string;
  containerID: string;
}

export interface ContainerState {
  waiting?: { reason: string; message?: string };
  running?: { startedAt: string };
  terminated?: ContainerTermination;
}

/** Kubernetes' `status.containerStatuses[]`: what the API answers (made from the pod's stored status when it is read). */
export interface ContainerStatus {
  name: string;
  image: string;
  /** `docker://<id>`, as the kubelet writes it. */
  containerID?: string;
  ready: boolean;
  started: boolean;
  restartCount: number;
  state: ContainerState;
  /** The run before this one, once there was one: its exit code and why it ended. */
  lastState: ContainerState;
}

export interface PodStatus {
  phase: PodPhase;
  conditions: Condition[];
  /** The address of the pod's node: with `hostPort`, where the router reaches the pod. */
  hostIP?: string;
  /** The container's own address on its node's network: probes go straight there when they can. */
  podIP?: string;
  /** The port the pod's container port is published on, at `hostIP`. */
  hostPort?: number;
  containerID?: string;
  startTime?: string;
  restartCount: number;
  reason?: string;
  message?: string;
  /** How the container's previous run ended (stored; shown as `containerStatuses[0].lastState`). */
  lastTermination?: ContainerTermination;
  /** In API answers only. */
  containerStatuses?: ContainerStatus[];
}
export type Pod = Resource<'Pod', PodSpec, PodStatus>;

/** `GET pods/{name}/log`'s query, as `kubectl logs` sends it. */
export interface PodLogOptions {
  /** The last lines only. */
  tailLines?: number;
  /** Each line starts with its RFC 3339 time (nanoseconds). */
  timestamps?: boolean;
  /** The container that stopped before the current one (a crash-looping pod's last run). */
  previous?: boolean;
  /** Only what was written after this RFC 3339 time (exclusive; how a follower continues). */
  sinceTime?: string;
}

export interface PodLog {
  log: string;
  /** Whether the container read is running: a follower stops once it is not and nothing more comes. */
  running: boolean;
}

/** `GET deploymentconfigs/{name}/log`'s query (`oc logs dc/<name>`): the log of one revision's rollout. */
export interface DeploymentLogOptions {
  /** The revision; the newest when left out. */
  version?: number;
  /** The last lines only. */
  tailLines?: number;
  /** Each line starts with its RFC 3339 time. */
  timestamps?: boolean;
}

/** What a revision's rollout did, step by step, from line `offset` on. */
export interface DeploymentLog {
  log: string;
  version: number;
  /** The line the next read starts at (a follower's `offset`). */
  nextOffset: number;
  /** The revision's phase. */
  phase: DeploymentPhase;
  /** The rollout has ended and its log says all it will: a follower stops once nothing more comes. */
  complete: boolean;
}

export const serviceSpecSchema = z.object({
  selector: labelsSchema,
  ports: z
    .array(z.object({ name: z.string().max(63).default('http'), port: z.number().int().min(1).max(65535), targetPort: z.number().int().min(1).max(65535) }))
    .min(1)
    .max(1),
});
export type ServiceSpec = z.infer<typeof serviceSpecSchema>;

export const serviceInput = z.object({
  apiVersion: z.literal('v1').optional(),
  kind: z.literal('Service').optional(),
  metadata: objectMetaInput,
  spec: serviceSpecSchema,
});
export type ServiceInput = z.infer<typeof serviceInput>;
export type Service = Resource<'Service', ServiceSpec, Record<string, never>>;

export interface EndpointAddress {
  ip: string;
  port: number;
  targetRef: { kind: 'Pod'; name: string; uid: string };
}
/** Endpoints: the ready addresses of a Service (pods each publish their own host port). */
export interface Endpoints {
  apiVersion: 'v1';
  kind: 'Endpoints';
  metadata: Resource<'Endpoints', unknown, unknown>['metadata'];
  addresses: EndpointAddress[];
  notReadyAddresses: EndpointAddress[];
}
