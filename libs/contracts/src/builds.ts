import { z } from 'zod';
import { IMAGE_STREAM_TAG_NAME } from './images';
import { dns1123Label, envVar, objectMetaInput, type Resource } from './meta';
import { parseByteQuantity } from './namespaces';
import { cpuQuantity, memoryQuantity, parseCpuQuantity } from './quotas';

/** A git URL (https, ssh, git, file) or an absolute path to a repository on the build host. */
export const gitUri = z
  .string()
  .min(1, 'must not be empty')
  .max(2048)
  .refine(
    (uri) => /^(https?|git|ssh|file):\/\/\S+$/.test(uri) || /^[\w.-]+@[\w.-]+:\S+$/.test(uri) || /^\/\S*$/.test(uri),
    'must be a git URL (https://, ssh://, git://, file://, user@host:path) or an absolute path',
  );

/** A branch, tag or commit; rejects what git itself would refuse or read as an option. */
export const gitRef = z
  .string()
  .min(1)
  .max(255)
  .regex(/^(?!-)(?!.*\.\.)(?!.*[~^:?*[\\\s])[\x21-\x7e]+$/, 'must be a valid git branch, tag or commit');

/** A path inside the repository: relative, never climbing out with `..`. */
export const pathInRepository = z
  .string()
  .max(1024)
  .regex(/^(?!\/)(?!.*(^|\/)\.\.(\/|$)).*$/, 'must be a relative path inside the repository');

/** A name for the one file of a Binary build's `asFile` upload: a plain file name, no directory. */
export const uploadedFileName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^(?!\.\.?$)[^/\\\0]+$/, 'must be a file name without a directory');

/**
 * Where a build's source comes from: a git repository (`Git`, the default), or files uploaded
 * with each build (`Binary`, OpenShift's: `POST .../buildconfigs/{name}/instantiatebinary` with
 * an archive of a directory, or one file named `binary.asFile`). Without a `type`, Binary when
 * `binary` is given and `git` is not.
 */
export const buildSourceSchema = z.preprocess(
  (source) => (source && typeof source === 'object' && !('type' in source) && 'binary' in source && !('git' in source) ? { ...source, type: 'Binary' } : source),
  z
    .object({
      type: z.enum(['Git', 'Binary']).default('Git'),
      git: z.object({ uri: gitUri, ref: gitRef.default('main') }).optional(),
      binary: z.object({ asFile: uploadedFileName.optional() }).optional(),
      contextDir: pathInRepository.optional(),
      /**
       * A Secret of the BuildConfig's namespace that lets git in (OpenShift's): for http(s),
       * `kubernetes.io/basic-auth` (`username`, `password`: a password or a token; `ca.crt` to trust
       * a private CA); for ssh, `kubernetes.io/ssh-auth` (`ssh-privatekey`; `known_hosts` to check
       * the host, which is not checked without it).
       */
      sourceSecret: z.object({ name: dns1123Label }).optional(),
    })
    .superRefine((source, ctx) => {
      if (source.type === 'Git' && !source.git) ctx.addIssue({ code: 'custom', path: ['git'], message: 'a Git source needs git.uri' });
      if (source.type === 'Binary' && source.git) ctx.addIssue({ code: 'custom', path: ['git'], message: 'a Binary source has no git: its files come with each build (instantiatebinary)' });
      if (source.type === 'Binary' && source.sourceSecret) ctx.addIssue({ code: 'custom', path: ['sourceSecret'], message: 'a Binary source fetches nothing: it has no source secret' });
      if (source.type === 'Git' && source.binary) ctx.addIssue({ code: 'custom', path: ['binary'], message: 'binary is for a source of type Binary' });
    }),
);
export type BuildSource = z.infer<typeof buildSourceSchema>;
export type GitSource = NonNullable<BuildSource['git']>;
/** A source whose files come from git. */
export type GitBuildSource = BuildSource & { git: GitSource };
export const isGitSource = (source: BuildSource): source is GitBuildSource => source.type !== 'Binary' && source.git !== undefined;

export type ArchiveFormat = 'tar' | 'tar.gz' | 'zip';
/** How many of an upload's first bytes tell its format: a tar's `ustar` magic is at byte 257. */
export const ARCHIVE_HEAD_BYTES = 263;

/** The archive format an upload's first bytes say: gzip (a tar inside), zip, or a POSIX/GNU tar; undefined for anything else. */
export function archiveFormatOf(head: Uint8Array): ArchiveFormat | undefined {
  const text = (from: number, to: number) => String.fromCharCode(...head.subarray(from, to));
  if (head[0] === 0x1f && head[1] === 0x8b) return 'tar.gz';
  if (['PK\x03\x04', 'PK\x05\x06'].includes(text(0, 4))) return 'zip';
  if (text(257, 262) === 'ustar') return 'tar';
  return undefined;
}

/** The JetStream object store bucket (on the bus) that holds Binary builds' uploads until their build has ended. */
export const BINARY_INPUT_BUCKET = 'paas-binary-inputs';

/** One upload of a Binary build, as the gateway stored it: the object's name in BINARY_INPUT_BUCKET, its size and SHA-256. */
export interface BinaryUpload {
  object: string;
  bytes: number;
  sha256: string;
  /** The upload is this one file (`?asFile=`), not an archive. */
  asFile?: string;
}

/** `buildconfigs.instantiatebinary`: a new Build of a Binary BuildConfig from an upload (OpenShift's BinaryBuildRequestOptions). */
export interface BinaryBuildRequest {
  namespace: string;
  name: string;
  upload: BinaryUpload;
  /** Who uploaded it (the build's author when the request names none). */
  uploader: string;
  /** What the request says of the files (`revision.commit`, `.message`, `.authorName`, `.authorEmail`), kept as the build's revision. */
  revision?: { commit?: string; message?: string; author?: string };
}

/**
 * `Builder` names an entry of the build-service's builder catalog (`nodejs`); `DockerImage` an
 * image the build nodes have; `ImageStreamTag` (`<stream>:<tag>`, of the BuildConfig's namespace
 * or of `namespace`) the image in the platform registry that the tag points at, pulled to the
 * build's node. Another namespace's tag is for the builds of namespaces it lets pull its images
 * (RegistryTokenRequest.forBuildsOf).
 */
export const builderRef = z
  .object({
    kind: z.enum(['Builder', 'DockerImage', 'ImageStreamTag']),
    name: z.string().min(1).max(255),
    namespace: dns1123Label.optional(),
  })
  .refine((from) => from.kind !== 'ImageStreamTag' || IMAGE_STREAM_TAG_NAME.test(from.name), {
    message: 'must be <imagestream>:<tag>',
    path: ['name'],
  })
  .refine((from) => from.kind === 'ImageStreamTag' || from.namespace === undefined, {
    message: 'only an ImageStreamTag comes from a namespace',
    path: ['namespace'],
  });
export type BuilderRef = z.infer<typeof builderRef>;

/**
 * new-app's `builder`, as `oc new-app` reads it: a catalog entry (`nodejs`), or a stream tag of
 * the namespace (`<stream>:<tag>`) or of another (`<ns>/<stream>:<tag>`).
 */
export function builderRefOfName(builder: string): BuilderRef {
  if (!builder.includes(':')) return { kind: 'Builder', name: builder };
  const slash = builder.indexOf('/');
  return slash === -1 ? { kind: 'ImageStreamTag', name: builder } : { kind: 'ImageStreamTag', namespace: builder.slice(0, slash), name: builder.slice(slash + 1) };
}

/** Why a BuildConfig may not push to the stream tag it builds with. */
export const BUILDS_INTO_ITS_BUILDER = 'a build cannot push to the ImageStreamTag it builds with (each build would start the next)';

/** The stream tag a builder reference names, with its namespace (`namespace`, the BuildConfig's, when it names none); undefined for any other kind. */
export function builderStreamTag(from: BuilderRef | undefined, namespace: string): { namespace: string; name: string } | undefined {
  return from?.kind === 'ImageStreamTag' ? { namespace: from.namespace ?? namespace, name: from.name } : undefined;
}

export const imageStreamTagRef = z.object({
  kind: z.literal('ImageStreamTag'),
  /** `<imagestream>:<tag>` in the same namespace. */
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?:[\w][\w.-]{0,127}$/, 'must be <imagestream>:<tag>'),
});
export type ImageStreamTagRef = z.infer<typeof imageStreamTagRef>;

export const buildTriggerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ConfigChange') }),
  /** A new image on the builder's ImageStreamTag (`sourceStrategy.from`) starts a build (OpenShift's `imageChange: {}`). */
  z.object({ type: z.literal('ImageChange'), imageChange: z.object({}).strict().default({}) }),
  z.object({
    type: z.enum(['Generic', 'GitHub']),
    secret: z.string().min(8, 'must be at least 8 characters').max(128).regex(/^[\w-]+$/),
  }),
]);

/** The webhooks a BuildConfig answers, as OpenShift names them on the URL (`.../webhooks/{secret}/{type}`). */
export const WEBHOOK_TYPES = ['generic', 'github'] as const;
export type WebhookType = (typeof WEBHOOK_TYPES)[number];

/**
 * A webhook call as the gateway hands it over: the secret from its URL, the headers that
 * matter, and the body as received (text, so that GitHub's HMAC is checked over its bytes).
 */
export interface WebhookRequest {
  namespace: string;
  name: string;
  type: WebhookType;
  secret: string;
  /** The request's Content-Type, when it has a body. */
  contentType?: string;
  /** `X-GitHub-Event` (`push`, `ping`, ...). */
  githubEvent?: string;
  /** `X-Hub-Signature-256`: `sha256=<hex HMAC of the body with the secret>`. */
  signature?: string;
  body?: string;
}

/**
 * A command run in the new image before it is pushed (OpenShift's `postCommit`, e.g. the app's
 * tests): `script` through `/bin/sh -ic`, or `command` (the image's entrypoint replaced) with
 * `args`, or `args` alone after the image's entrypoint. A non-zero exit fails the build as
 * PostCommitHookFailed and nothing is pushed.
 */
export const postCommitSchema = z
  .object({
    script: z.string().min(1).max(64 * 1024).optional(),
    command: z.array(z.string().max(4096)).min(1).max(100).optional(),
    args: z.array(z.string().max(4096)).max(100).optional(),
  })
  .refine((hook) => !(hook.script && hook.command), 'give a script or a command, not both')
  .refine((hook) => Boolean(hook.script || hook.command || hook.args?.length), 'give a script, a command or args');
export type PostCommit = z.infer<typeof postCommitSchema>;

/**
 * What new-app builds a repository with when the request names no builder (`oc new-app`'s
 * detection): its Dockerfile, or the catalog builder that its files call for (`package.json`:
 * nodejs), with the file that decided.
 */
export type DetectedStrategy = { type: 'Docker'; because: string } | { type: 'Source'; builder: string; because: string };

/** A builder of the build-service's catalog, as `GET /api/v1/builders` shows it. */
export interface CatalogBuilder {
  /** What new-app's `builder` and `sourceStrategy.from: {kind: Builder}` name it by. */
  name: string;
  /** The image its builds run. */
  image: string;
  /** The image's `io.k8s.display-name`, `io.k8s.description` and `io.openshift.tags` labels. */
  displayName?: string;
  description?: string;
  tags: string[];
  /** The files new-app picks it by, when a repository names no builder. */
  detectedBy: string[];
  /** What the image's s2i `usage` script prints (as `s2i usage` shows it); absent when it has none, it fails, or no build node has the image. */
  usage?: string;
}

export interface CatalogBuilderList {
  apiVersion: 'v1';
  kind: 'BuilderList';
  items: CatalogBuilder[];
}

/** `buildconfigs.detect`: the repository new-app was given, and the strategy it asked for, if any. */
export interface DetectRequest {
  git: string;
  ref: string;
  contextDir?: string;
  strategy?: 'Source' | 'Docker';
}

/**
 * What each of a build's containers may use (OpenShift's `spec.resources`, limits only, in
 * Kubernetes quantities): `memory` (the build-service's BUILD_MEMORY_BYTES when absent, 2Gi),
 * which placement also holds on the build's node, and `cpu` (no limit when absent).
 */
export const buildResourcesSchema = z
  .object({
    limits: z
      .object({
        memory: memoryQuantity.refine((value) => (parseByteQuantity(value) ?? 0) >= 64 << 20, 'must be at least 64Mi').optional(),
        cpu: cpuQuantity.refine((value) => (parseCpuQuantity(value) ?? 0) >= 100, 'must be at least 100m').optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type BuildResources = z.infer<typeof buildResourcesSchema>;

/** A build's containers' limits in engine terms, and whether they may reach the network. */
export interface BuildContainerResources {
  memoryBytes?: number;
  cpuMillis?: number;
  networkDisabled: boolean;
}

export function buildContainerResources(spec: Pick<BuildConfigSpec, 'resources' | 'network'>): BuildContainerResources {
  const memory = spec.resources?.limits?.memory;
  const cpu = spec.resources?.limits?.cpu;
  return {
    ...(memory === undefined ? {} : { memoryBytes: parseByteQuantity(memory) }),
    ...(cpu === undefined ? {} : { cpuMillis: parseCpuQuantity(cpu) }),
    networkDisabled: spec.network === 'Disabled',
  };
}

export const RUN_POLICIES = ['Serial', 'SerialLatestOnly', 'Parallel'] as const;
export type RunPolicy = (typeof RUN_POLICIES)[number];

/** Source-to-image: the builder image's `assemble` over the source, committed with its `run` as the command. */
export const sourceBuildStrategy = z.object({
  type: z.literal('Source'),
  sourceStrategy: z.object({
    from: builderRef,
    env: z.array(envVar).max(100).default([]),
    /**
     * s2i's incremental build: what the previous image's `save-artifacts` writes is handed to
     * `assemble` (in `<destination>/artifacts`). Off when absent (builds stored before it).
     */
    incremental: z.boolean().optional(),
  }),
});

/**
 * The repository's own Dockerfile, built by the node's engine with the source (at `contextDir`)
 * as its context: `dockerfilePath` inside it (`Dockerfile`), `buildArgs` for its `ARG`s, and
 * `noCache` to build every step again. Its `FROM` images must be on the node (nothing is pulled).
 */
export const dockerBuildStrategy = z.object({
  type: z.literal('Docker'),
  dockerStrategy: z
    .object({
      dockerfilePath: pathInRepository.min(1).default('Dockerfile'),
      buildArgs: z.array(envVar).max(100).default([]),
      noCache: z.boolean().default(false),
    })
    .prefault({}),
});
export type DockerBuildStrategy = z.infer<typeof dockerBuildStrategy>;

/** How a build makes its image; without a `type`, Docker when `dockerStrategy` is given, else Source. */
export const buildStrategySchema = z.preprocess(
  (strategy) =>
    strategy && typeof strategy === 'object' && !('type' in strategy) ? { ...strategy, type: 'dockerStrategy' in strategy ? 'Docker' : 'Source' } : strategy,
  z.discriminatedUnion('type', [sourceBuildStrategy, dockerBuildStrategy], { error: 'must be Source or Docker' }),
);
export type BuildStrategySpec = z.infer<typeof buildStrategySchema>;

export const buildConfigSpecSchema = z.object({
  source: buildSourceSchema,
  strategy: buildStrategySchema,
  output: z.object({ to: imageStreamTagRef }),
  triggers: z.array(buildTriggerSchema).max(10).default([{ type: 'ConfigChange' }]),
  /**
   * How its builds run side by side (OpenShift's): `Serial` one at a time in the order they were
   * started; `SerialLatestOnly` the same, but a build still waiting is cancelled once a newer one
   * is started; `Parallel` each as soon as there is room.
   */
  runPolicy: z.enum(RUN_POLICIES).default('Serial'),
  /** How many of its ended builds are kept (the newest), with their logs: Complete ones, and Failed, Error or Cancelled ones (OpenShift's defaults). */
  successfulBuildsHistoryLimit: z.number().int().min(0).max(1000).default(5),
  failedBuildsHistoryLimit: z.number().int().min(0).max(1000).default(5),
  postCommit: postCommitSchema.optional(),
  resources: buildResourcesSchema.optional(),
  /**
   * `Disabled`: the build's containers have no network but loopback (the build-service still
   * fetches the source); an assemble that downloads dependencies then fails. `Enabled` when absent.
   */
  network: z.enum(['Enabled', 'Disabled']).optional(),
  /** Seconds a build may run before it is stopped and marked Failed. */
  completionDeadlineSeconds: z.number().int().min(10).max(6 * 3600).default(1800),
});
export type BuildConfigSpec = z.infer<typeof buildConfigSpecSchema>;

export const buildConfigInput = z.object({
  apiVersion: z.literal('v1').optional(),
  kind: z.literal('BuildConfig').optional(),
  metadata: objectMetaInput,
  spec: buildConfigSpecSchema
    .refine(
      (spec) => !spec.triggers.some((trigger) => trigger.type === 'ImageChange') || (spec.strategy.type === 'Source' && spec.strategy.sourceStrategy.from.kind === 'ImageStreamTag'),
      { message: 'an ImageChange trigger follows the builder\'s ImageStreamTag: give sourceStrategy.from of kind ImageStreamTag', path: ['triggers'] },
    )
    // Another namespace's tag of the same name is another tag (one naming its own namespace is checked by the build-service).
    .refine((spec) => spec.strategy.type !== 'Source' || spec.strategy.sourceStrategy.from.kind !== 'ImageStreamTag' || spec.strategy.sourceStrategy.from.namespace !== undefined || spec.strategy.sourceStrategy.from.name !== spec.output.to.name, {
      message: BUILDS_INTO_ITS_BUILDER,
      path: ['output', 'to', 'name'],
    }),
});
export type BuildConfigInput = z.infer<typeof buildConfigInput>;

export interface BuildConfigStatus {
  lastVersion: number;
  /** The image each builder stream tag last started a build with (OpenShift's), so that one image starts one build. */
  imageChangeTriggers?: { from: string; lastTriggeredImageID: string }[];
}
export type BuildConfig = Resource<'BuildConfig', BuildConfigSpec, BuildConfigStatus>;

export const BUILD_PHASES = ['New', 'Pending', 'Running', 'Complete', 'Failed', 'Error', 'Cancelled'] as const;
export type BuildPhase = (typeof BUILD_PHASES)[number];
export const TERMINAL_BUILD_PHASES: readonly BuildPhase[] = ['Complete', 'Failed', 'Error', 'Cancelled'];

/**
 * The stages of a build, in order, each timed in the Build's status: FetchSource, then Assemble
 * and Commit (Source strategy) or Build (Docker), then PostCommit (only with a postCommit hook)
 * and Push.
 */
export const BUILD_STAGES = ['FetchSource', 'Assemble', 'Commit', 'Build', 'PostCommit', 'Push'] as const;
export type BuildStageName = (typeof BUILD_STAGES)[number];

export interface BuildStage {
  name: BuildStageName;
  startTime: string;
  durationMilliseconds: number;
}

/** Machine-readable reasons a Build fails, shown with a human message. */
export const BUILD_FAILURE_REASONS = [
  'FetchSourceFailed',
  /** Binary strategy: the upload is not an archive that can be read, or holds what a source may not (a path out of the tree, a link, a device, too much). */
  'InvalidBinaryInput',
  'InvalidContextDirectory',
  /** The source's `.s2i/environment` has a line that is not `NAME=value`. */
  'InvalidS2IEnvironment',
  'BuilderImageNotFound',
  /** The builder's `io.openshift.s2i.scripts-url` is not an `image://` path (no other kind is fetched). */
  'InvalidScriptsURL',
  'AssembleFailed',
  'CommitFailed',
  /** Docker strategy: the source has no file at `dockerStrategy.dockerfilePath` (in `contextDir`). */
  'DockerfileNotFound',
  /** Docker strategy: the engine failed the Dockerfile (a step exited non-zero, a bad instruction, a `FROM` image not on the node). */
  'DockerBuildFailed',
  /** The BuildConfig's postCommit hook exited non-zero in the new image (nothing pushed). */
  'PostCommitHookFailed',
  'PushImageToRegistryFailed',
  'BuildTimedOut',
  'BuildPodDeleted',
  /** No Ready, schedulable node came to run it on within the build-service's wait (BUILD_NODE_WAIT_MS). */
  'NoNodeAvailable',
  /** The node it ran on went NotReady (or was removed) while it ran, on its last attempt. */
  'NodeLost',
  /** Cancelled (`POST .../builds/{name}/cancel`): the phase is Cancelled, not Failed. */
  'CancelledBuild',
  'InternalError',
] as const;
export type BuildFailureReason = (typeof BUILD_FAILURE_REASONS)[number];

/**
 * Labels of build containers and of the images builds make: the build-service puts them on the
 * builder container and on the commit (which also copies the container's labels), so an image
 * on a node says it is a platform build, which one, and of which platform instance
 * (`paas.dev/instance`). The deploy-service's image garbage collection reads them.
 */
export const BUILD_IMAGE_LABELS = {
  /** `<namespace>.<build>` */
  build: 'paas.dev/build',
  managedBy: 'paas.dev/managed-by',
  /** Set on builder images (apps/build-service/builders/<name>/build-image.sh), and inherited by what they build. */
  builder: 'paas.dev/builder',
} as const;
/** `paas.dev/managed-by` of build containers and of the images they are committed as. */
export const BUILD_MANAGER = 'build-service';

export interface BuildSpec extends Omit<BuildConfigSpec, 'runPolicy' | 'successfulBuildsHistoryLimit' | 'failedBuildsHistoryLimit'> {
  /** Its BuildConfig's when it was started; builds made before runPolicy existed have none, and run as Serial. */
  runPolicy?: RunPolicy;
  /** Its BuildConfig's when it was started (5 each for builds made before they existed). */
  successfulBuildsHistoryLimit?: number;
  failedBuildsHistoryLimit?: number;
  /**
   * The commit actually built, once the source is fetched. A webhook sets `commit` when it
   * starts the build (the pushed commit, OpenShift's `spec.revision`): that commit is fetched,
   * not whatever the branch points at by then.
   */
  revision?: { commit?: string; message?: string; author?: string };
  /** Binary source: the upload this build is made from (deleted once the build has ended). */
  binary?: BinaryUpload;
  triggeredBy: { message: string }[];
}

export interface BuildStatus {
  phase: BuildPhase;
  /** Asked to stop (OpenShift's `status.cancelled`): the build-service stops its container and ends it as Cancelled. */
  cancelled?: boolean;
  reason?: BuildFailureReason;
  message?: string;
  startTimestamp?: string;
  completionTimestamp?: string;
  durationMilliseconds?: number;
  /** The node whose engine runs (ran) the build, set when a build-service replica claims it (Pending). */
  nodeName?: string;
  stages: BuildStage[];
  /** `127.0.0.1:5000/<namespace>/<imagestream>:<tag>` */
  outputDockerImageReference: string;
  output?: { to: { imageDigest: string } };
}
export type Build = Resource<'Build', BuildSpec, BuildStatus>;

export interface BuildLog {
  /** The log text from byte `offset` on. */
  log: string;
  offset: number;
  /** Where the next read should start. */
  nextOffset: number;
  phase: BuildPhase;
}
