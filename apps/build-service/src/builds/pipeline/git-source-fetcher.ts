import { createReadStream } from 'node:fs';
import path from 'node:path';
import { isGitSource } from '@paas/contracts/builds';
import { GitError, type CommitEntry, type Git, type Revision } from '../../adapters/git-cli';
import type { SourceSecrets } from '../../adapters/source-secrets';
import { redactCredentials } from './redact-credentials';
import { BuildFailure, type BuildContext, type FetchedSource, type SourceFetcher } from './roles';

/**
 * Fetches one commit of the build's git source (depth 1) and tars its tree at `contextDir`;
 * for an s2i build, also reads what the source says to s2i (`.s2i/environment`, `.s2iignore`,
 * `.s2i/bin`). A Docker build's context is the whole tree (the engine reads `.dockerignore`).
 */
export class GitSourceFetcher implements SourceFetcher {
  constructor(
    private readonly git: Git,
    private readonly secrets: SourceSecrets,
    private readonly options: { s2i: boolean } = { s2i: true },
  ) {}

  async fetch(ctx: BuildContext): Promise<FetchedSource> {
    const { source } = ctx.build.spec;
    if (!isGitSource(source)) throw new BuildFailure('FetchSourceFailed', `the source is of type ${source.type}, not Git`);
    const repoDir = path.join(ctx.workDir, 'repo.git');
    const shownUri = redactCredentials(source.git.uri);
    await ctx.log.write(`Cloning "${shownUri}" (ref ${source.git.ref}) ...\n`);
    const credentials = await this.secrets.credentials(ctx.build.metadata.namespace, source).catch((error: Error) => {
      throw new BuildFailure('FetchSourceFailed', `cannot fetch ${shownUri} with its source secret: ${error.message}`);
    });
    if (credentials) await ctx.log.write(`\tUsing the source secret "${source.sourceSecret?.name}" (${credentials.kind === 'ssh' ? 'ssh key' : 'user and password'})\n`);
    // A webhook's build fetches the commit that was pushed; any other the branch's head.
    const wanted = ctx.build.spec.revision?.commit ?? source.git.ref;
    await this.git.fetch(source.git.uri, wanted, repoDir, ctx.signal, credentials).catch((error: Error) => {
      throw ctx.signal.aborted ? ctx.signal.reason : new BuildFailure('FetchSourceFailed', `failed to fetch ${shownUri} ${wanted}: ${redactCredentials(error.message)}`);
    });
    return sourceOfCommit(this.git, ctx, repoDir, this.options);
  }
}

/**
 * The source a build reads from the commit FETCH_HEAD names in `repoDir` (fetched from git, or
 * a Binary build's upload imported, whose `revision` it was given): its tree at `contextDir` as
 * a tar, without what `.s2iignore` names; for an s2i build also `.s2i/environment` and `.s2i/bin`.
 */
export async function sourceOfCommit(git: Git, ctx: BuildContext, repoDir: string, options: { s2i: boolean; revision?: Revision }): Promise<FetchedSource> {
  const { contextDir } = ctx.build.spec.source;
  const inSource = (file: string) => path.posix.join(contextDir ?? '', file);
  const tarFile = path.join(ctx.workDir, 'source.tar');
  const archive = (excluded: string[]) =>
    git.archive(repoDir, contextDir, tarFile, { excluded, signal: ctx.signal }).catch((error: GitError) => {
      throw ctx.signal.aborted ? ctx.signal.reason : new BuildFailure('FetchSourceFailed', `failed to archive the source: ${redactCredentials(error.message)}`);
    });
  // One git process reads the commit, its context directory and what s2i looks for, beside the
  // one that archives the tree: the archive is made again only for a source whose .s2iignore
  // leaves something out.
  const s2iPaths = options.s2i ? ['.s2i/environment', '.s2iignore', '.s2i/bin'].map(inSource) : [];
  const [read, archived] = await Promise.allSettled([git.read(repoDir, [contextDir ?? '', ...s2iPaths], ctx.signal), archive([])]);
  if (read.status === 'rejected') {
    throw ctx.signal.aborted ? ctx.signal.reason : new BuildFailure('FetchSourceFailed', `failed to read the fetched commit: ${redactCredentials((read.reason as Error).message)}`);
  }
  const {
    revision: fetched,
    entries: [context, environmentFile, ignoreFile, scriptsDir],
  } = read.value;
  const revision = options.revision ?? fetched;
  if (context?.type !== 'directory') {
    throw new BuildFailure('InvalidContextDirectory', `the context directory "${contextDir}" does not exist in ${ctx.build.spec.source.type === 'Binary' ? 'the upload' : `commit ${revision.commit.slice(0, 12)}`}`);
  }
  if (archived.status === 'rejected') throw archived.reason;
  if (!options.revision) await ctx.log.write(`\tCommit:\t${revision.commit} (${revision.message})\n\tAuthor:\t${revision.author}\n`);
  const environment = s2iEnvironment(contentOf(environmentFile) ?? '');
  const excluded = ignorePatterns(contentOf(ignoreFile) ?? '');
  if (excluded.length) await archive(excluded);
  const readFile = async (file: string) => contentOf((await git.read(repoDir, [inSource(file)], ctx.signal)).entries[0]);
  return { revision, archive: () => createReadStream(tarFile), scripts: scriptsDir?.type === 'directory' ? scriptsDir.names : [], environment, readFile };
}

/** A file's content; undefined for a directory or nothing. */
const contentOf = (entry: CommitEntry | undefined) => (entry?.type === 'file' ? entry.content : undefined);

const ENV_LINE = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;

/** `.s2i/environment`: a `NAME=value` per line; blank lines and `#` comments are skipped, anything else fails the build. */
export function s2iEnvironment(text: string): string[] {
  const variables: string[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    if (!ENV_LINE.test(line)) throw new BuildFailure('InvalidS2IEnvironment', `.s2i/environment line ${index + 1} is not NAME=value: "${line.slice(0, 80)}"`);
    variables.push(line);
  }
  return variables;
}

/** `.s2iignore`: a glob pattern per line, relative to the source root (`*` within one path segment); `#` comments. */
export function ignorePatterns(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim().replace(/^\.?\/+/, ''))
    .filter((line) => line && !line.startsWith('#') && !line.startsWith('!'));
}
