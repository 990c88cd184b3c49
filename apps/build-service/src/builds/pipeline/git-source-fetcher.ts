import { createReadStream } from 'node:fs';
import path from 'node:path';
import { GitError, type Git } from '../../adapters/git-cli';
import { redactCredentials } from './redact-credentials';
import { BuildFailure, type BuildContext, type FetchedSource, type SourceFetcher } from './roles';

/** Fetches one commit of the build's git source (depth 1) and tars its tree at `contextDir`. */
export class GitSourceFetcher implements SourceFetcher {
  constructor(private readonly git: Git) {}

  async fetch(ctx: BuildContext): Promise<FetchedSource> {
    const { source } = ctx.build.spec;
    const repoDir = path.join(ctx.workDir, 'repo.git');
    const shownUri = redactCredentials(source.git.uri);
    await ctx.log.write(`Cloning "${shownUri}" (ref ${source.git.ref}) ...\n`);
    const revision = await this.git.fetch(source.git.uri, source.git.ref, repoDir, ctx.signal).catch((error: Error) => {
      throw ctx.signal.aborted ? ctx.signal.reason : new BuildFailure('FetchSourceFailed', `failed to fetch ${shownUri} ${source.git.ref}: ${redactCredentials(error.message)}`);
    });
    await ctx.log.write(`\tCommit:\t${revision.commit} (${revision.message})\n\tAuthor:\t${revision.author}\n`);
    if (source.contextDir && !(await this.git.hasDirectory(repoDir, source.contextDir))) {
      throw new BuildFailure('InvalidContextDirectory', `the context directory "${source.contextDir}" does not exist in commit ${revision.commit.slice(0, 12)}`);
    }
    const tarFile = path.join(ctx.workDir, 'source.tar');
    await this.git.archive(repoDir, source.contextDir, tarFile, ctx.signal).catch((error: GitError) => {
      throw ctx.signal.aborted ? ctx.signal.reason : new BuildFailure('FetchSourceFailed', `failed to archive the source: ${redactCredentials(error.message)}`);
    });
    return { revision, archive: () => createReadStream(tarFile) };
  }
}
