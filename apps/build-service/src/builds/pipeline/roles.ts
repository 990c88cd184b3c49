import type { Readable } from 'node:stream';
import type { Build, BuildFailureReason } from '@paas/contracts/builds';
import type { Revision } from '../../adapters/git-cli';
import type { NodeEngine } from '../../nodes/build-nodes';

/** A build stage that failed for a reason the user can act on; anything else is InternalError. */
export class BuildFailure extends Error {
  constructor(
    readonly reason: BuildFailureReason,
    message: string,
    /**
     * The node's engine going away fails a stage so too (a container killed as the engine
     * stops its containers, a commit or push cut short): RunBuild asks the engine before it
     * records this as the build's own failure.
     */
    readonly engineMayHaveCaused = false,
  ) {
    super(message);
    this.name = 'BuildFailure';
  }
}

/** Where a stage writes what the user reads in `builds/<name>/log`. */
export interface BuildLogWriter {
  /** Resolves once the log can take more (backpressure): await it before producing more. */
  write(text: string | Buffer): Promise<void>;
  /** The last lines written, for a failure message. */
  tail(lines: number): string;
}

export interface BuildContext {
  build: Build;
  /** A private scratch directory, removed after the build. */
  workDir: string;
  log: BuildLogWriter;
  /** Aborted when the build's completion deadline passes, or its node is lost. */
  signal: AbortSignal;
  /** The node the build runs on: its engine runs the container, and pushes to the registry as it reaches it. */
  node: NodeEngine;
}

export interface FetchedSource {
  revision: Revision;
  /** The source tree (at `contextDir`, without what `.s2iignore` names) as an uncompressed tar, read once. */
  archive: () => Readable;
  /** The scripts the source brings in `.s2i/bin/` (by name: assemble, run, …), which win over the builder's. */
  scripts: string[];
  /** `.s2i/environment` as `NAME=value`: assemble runs with it, and the image keeps it. */
  environment: string[];
  /** A file of the source tree (relative to `contextDir`); undefined when there is none (or it is not a file). */
  readFile(relativePath: string): Promise<string | undefined>;
}

/** Fetches the source the build names (git). */
export interface SourceFetcher {
  fetch(ctx: BuildContext): Promise<FetchedSource>;
}

/** A container the assemble script ran in, and the command the image it becomes runs (the `run` script). */
export interface Assembled {
  containerId: string;
  run: string[];
  /** Whom assemble ran as: the image is committed to run as them too. */
  user: string;
}

/** What an assembler started before the source was at hand (the builder container). */
export interface Preparation {
  /** Stops it unless it is done (then a no-op); resolves once it has stopped. */
  cancel(reason: unknown): Promise<void>;
}

/** Runs the assemble script over the source; answers the container to commit. */
export interface Assembler {
  /** Starts what needs no source while the source is fetched; cancelled when no source comes. */
  prepare(ctx: BuildContext): Preparation;
  /** `prepared`: what `prepare` answered for this build (prepared anew when absent). */
  assemble(ctx: BuildContext, source: FetchedSource, prepared?: Preparation): Promise<Assembled>;
}

/** Turns the assembled container into the application image; answers `<repository>:<tag>`. */
export interface Committer {
  commit(ctx: BuildContext, assembled: Assembled, source: FetchedSource): Promise<{ imageReference: string }>;
}

/** Pushes the image to the platform registry; answers the digest it stored. */
export interface Pusher {
  push(ctx: BuildContext, imageReference: string): Promise<{ digest: string }>;
}

/** Runs the BuildConfig's postCommit hook in the committed image (as `user`); fails the build when it fails. */
export interface PostCommitRunner {
  run(ctx: BuildContext, imageReference: string, user: string): Promise<void>;
}

/** Builds the application image from the source in one go (the Docker strategy); answers `<repository>:<tag>` and whom it runs as. */
export interface ImageBuilder {
  build(ctx: BuildContext, source: FetchedSource): Promise<{ imageReference: string; user: string }>;
}

/** The roles one build strategy is made of: the image is assembled and committed (Source), or built (Docker). */
export type BuildStrategy = {
  source: SourceFetcher;
  postCommit: PostCommitRunner;
  pusher: Pusher;
} & ({ type: 'Source'; assembler: Assembler; committer: Committer } | { type: 'Docker'; builder: ImageBuilder });
