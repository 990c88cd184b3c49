import path from 'node:path';
import { loadConfig } from '@paas/platform/config';
import { DEFAULT_MAX_LOG_BYTES } from './adapters/build-log-files';
import { DEFAULT_BUILD_CONTAINER_LIMITS, type BuildContainerLimits } from './adapters/docker-container-runtime';
import type { ArchiveLimits } from './builds/pipeline/binary-archive';

export const BUILD_SETTINGS = Symbol('BUILD_SETTINGS');

export interface BuildSettings {
  /** `host:port` of the platform registry that build output is pushed to. */
  registryHost: string;
  /** Build logs (`<ns>/<name>.log`) and per-build scratch directories. */
  buildsDir: string;
  /** The builder catalog: a BuildConfig's `from: {kind: Builder, name}` → local image. */
  builders: Record<string, string>;
  /**
   * Whether a BuildConfig may name a repository on the build host's disk (an absolute path or
   * `file://`): `BUILD_LOCAL_SOURCES=allow`, which `npm run up` (a development machine) sets;
   * refused otherwise, as such a source reads whatever the build-service can read.
   */
  allowLocalSources: boolean;
  /**
   * The build strategies BuildConfigs may use (`BUILD_STRATEGIES`, comma-separated; both by
   * default). A Docker build runs the Dockerfile's steps as its `USER`, root included, with the
   * engine's default capabilities (docs/security.md): an operator may allow Source only.
   */
  strategies: BuildStrategyType[];
  /** Longest a `git ls-remote` check may take while validating a BuildConfig. */
  gitCheckTimeoutMs: number;
  /** A build log stops growing here, with one "log truncated" line. */
  logMaxBytes: number;
  /** What one build container may use. */
  containerLimits: BuildContainerLimits;
  /** Builds one replica runs at once; more wait New until a slot is free. */
  concurrency: number;
  /** Every this often every build is reconciled again (changes drive the work; this heals what they missed). */
  resyncMs: number;
  /** How long a build waits (New) for a Ready, schedulable node before it fails as NoNodeAvailable. */
  nodeWaitMs: number;
  /** What a Binary build's archive may unpack to: entries (BUILD_BINARY_MAX_ENTRIES, 100,000) and bytes (BUILD_BINARY_MAX_UNPACKED_BYTES, 1 GiB). */
  binaryLimits: ArchiveLimits;
  /**
   * Whether a catalog builder's next build on a node finds its container started ahead
   * (WarmBuilders: one idle container per builder in use and node); `BUILD_WARM_CONTAINERS=off`:
   * each build starts its own.
   */
  warmContainers: boolean;
}

export const BUILD_STRATEGY_TYPES = ['Source', 'Docker'] as const;
export type BuildStrategyType = (typeof BUILD_STRATEGY_TYPES)[number];

export const BUILDER_CATALOG: Record<string, string> = { nodejs: 'paas-builder/nodejs:latest', python: 'paas-builder/python:latest', static: 'paas-builder/static:latest' };

export function loadBuildSettings(env: NodeJS.ProcessEnv = process.env): BuildSettings {
  const config = loadConfig(env);
  return {
    registryHost: config.registryHost,
    buildsDir: path.join(config.home, 'data', 'builds'),
    builders: BUILDER_CATALOG,
    allowLocalSources: env.BUILD_LOCAL_SOURCES === 'allow',
    strategies: strategiesFrom(env.BUILD_STRATEGIES),
    // Under the RPC client's default 10 s, so a slow remote is a 422 and not a 504.
    gitCheckTimeoutMs: Number(env.BUILD_GIT_CHECK_TIMEOUT_MS) || 8_000,
    logMaxBytes: Number(env.BUILD_LOG_MAX_BYTES) || DEFAULT_MAX_LOG_BYTES,
    containerLimits: {
      memoryBytes: Number(env.BUILD_MEMORY_BYTES) || DEFAULT_BUILD_CONTAINER_LIMITS.memoryBytes,
      pidsLimit: Number(env.BUILD_PIDS_LIMIT) || DEFAULT_BUILD_CONTAINER_LIMITS.pidsLimit,
    },
    concurrency: Number(env.BUILD_CONCURRENCY) || 4,
    warmContainers: env.BUILD_WARM_CONTAINERS !== 'off',
    resyncMs: Number(env.BUILD_RESYNC_MS) || 300_000,
    nodeWaitMs: Number(env.BUILD_NODE_WAIT_MS) || 600_000,
    binaryLimits: {
      maxEntries: Number(env.BUILD_BINARY_MAX_ENTRIES) || 100_000,
      maxUnpackedBytes: Number(env.BUILD_BINARY_MAX_UNPACKED_BYTES) || 1024 ** 3,
    },
  };
}

/** `BUILD_STRATEGIES` (`Source,Docker`): a name that is no strategy stops the service at start, rather than silently allowing less. */
function strategiesFrom(value: string | undefined): BuildStrategyType[] {
  if (!value?.trim()) return [...BUILD_STRATEGY_TYPES];
  const names = value.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(BUILD_STRATEGY_TYPES as readonly string[]).includes(name));
  if (unknown.length) throw new Error(`BUILD_STRATEGIES: unknown strategy ${unknown.join(', ')} (known: ${BUILD_STRATEGY_TYPES.join(', ')})`);
  return names as BuildStrategyType[];
}
