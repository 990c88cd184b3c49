import { createReadStream } from 'node:fs';
import path from 'node:path';
import { isGitSource } from '@paas/contracts/builds';
import { GitError, type Git, type Revision } from '../../adapters/git-cli';
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
    const revision = await this.git.fetch(source.git.uri, wanted, repoDir, ctx.signal, credentials).catch((error: Error) => {
      throw ctx.signal.aborted ? ctx.signal.reason : new BuildFailure('FetchSourceFailed', `failed to fetch ${shownUri} ${wanted}: ${redactCredentials(error.message)}`);
    });
    await ctx.log.write(`\tCommit:\t${revision.commit} (${revision.message})\n\tAuthor:\t${revision.author}\n`);
    return sourceOfCommit(this.git, ctx, repoDir, revision, this.options);
  }
}

/**
 * The source a build reads from the commit FETCH_HEAD names in `repoDir` (fetched from git, or
 * a Binary build's upload imported): its tree at `contextDir` as a tar, without what
 * `.s2iignore` names; for an s2i build also `.s2i/environment` and `.s2i/bin`.
 */
export async function sourceOfCommit(git: Git, ctx: BuildContext, repoDir: string, revision: Revision, options: { s2i: boolean }): Promise<FetchedSource> {
  const { contextDir } = ctx.build.spec.source;
  if (contextDir && !(await git.hasDirectory(repoDir, contextDir))) {
    throw new BuildFailure('InvalidContextDirectory', `the context directory "${contextDir}" does not exist in ${ctx.build.spec.source.type === 'Binary' ? 'the upload' : `commit ${revision.commit.slice(0, 12)}`}`);
  }
  const inSource = (file: string) => path.posix.join(contextDir ?? '', file);
  const readFile = (file: string) => git.readFile(repoDir, inSource(file));
  const tarFile = path.join(ctx.workDir, 'source.tar');
  const archive = (excluded: string[]) =>
    git.archive(repoDir, contextDir, tarFile, { excluded, signal: ctx.signal }).catch((error: GitError) => {
      throw ctx.signal.aborted ? ctx.signal.reason : new BuildFailure('FetchSourceFailed', `failed to archive the source: ${redactCredentials(error.message)}`);
    });
  // The three reads of the commit and the archive, each a git process, at once: the archive is
  // made again only for a source whose .s2iignore leaves something out.
  const reads: Promise<[string | undefined, string | undefined, string[]]> = options.s2i
    ? Promise.all([readFile('.s2i/environment'), readFile('.s2iignore'), git.listDirectory(repoDir, inSource('.s2i/bin'))])
    : Promise.resolve([undefined, undefined, []]);
  const [[environmentFile, ignoreFile, scripts]] = await Promise.all([reads, archive([])]);
  const environment = s2iEnvironment(environmentFile ?? '');
  const excluded = ignorePatterns(ignoreFile ?? '');
  if (excluded.length) await archive(excluded);
  return { revision, archive: () => createReadStream(tarFile), scripts, environment, readFile };
}

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
