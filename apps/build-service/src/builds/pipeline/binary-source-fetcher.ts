import type { BinaryInputs } from '@paas/platform/binary-inputs';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Git } from '../../adapters/git-cli';
import { readArchive, type ArchiveLimits } from './binary-archive';
import { sourceOfCommit } from './git-source-fetcher';
import { BuildFailure, type BuildContext, type FetchedSource, type SourceFetcher } from './roles';

/**
 * The source of a Binary build: its upload, copied from the bus's object store (size and
 * SHA-256 checked against what the gateway stored), read as an archive (or taken as one file
 * with `asFile`) straight into a scratch git repository, from which the rest reads it exactly
 * as it reads a fetched commit (`contextDir`, `.s2i`, `.s2iignore`).
 */
export class BinarySourceFetcher implements SourceFetcher {
  constructor(
    private readonly git: Git,
    private readonly inputs: BinaryInputs,
    private readonly limits: ArchiveLimits,
    private readonly options: { s2i: boolean } = { s2i: true },
  ) {}

  async fetch(ctx: BuildContext): Promise<FetchedSource> {
    const { binary: upload, revision: given } = ctx.build.spec;
    if (!upload) throw new BuildFailure('InvalidBinaryInput', 'the build has no upload: start a Binary build with instantiatebinary');
    await ctx.log.write(`Receiving the upload (${upload.bytes} bytes${upload.asFile ? `, the file ${upload.asFile}` : ''}) ...\n`);
    const file = path.join(ctx.workDir, 'upload');
    const copied = await this.inputs.download(upload.object, file, ctx.signal).catch((error: Error) => {
      throw ctx.signal.aborted ? ctx.signal.reason : new BuildFailure('FetchSourceFailed', `cannot read the upload from the bus: ${error.message}`);
    });
    if (!copied) throw new BuildFailure('FetchSourceFailed', 'the upload is gone (deleted, or kept past its 24 hours): upload it again');
    if (copied.bytes !== upload.bytes || copied.sha256 !== upload.sha256) throw new BuildFailure('FetchSourceFailed', 'the upload read back is not the one received (size or SHA-256 differs)');

    const repoDir = path.join(ctx.workDir, 'repo.git');
    let files = 0;
    const commit = await this.git.importTree(
      repoDir,
      async (add) => {
        if (upload.asFile) {
          files = 1;
          return add(upload.asFile, 'file', (await stat(file)).size, createReadStream(file));
        }
        await readArchive(file, this.limits, async (entry) => {
          files++;
          if (entry.type === 'symlink') return add(entry.path, 'symlink', Buffer.byteLength(entry.target), Buffer.from(entry.target));
          return add(entry.path, entry.executable ? 'executable' : 'file', entry.size, entry.content);
        });
      },
      ctx.signal,
    ).catch((error: unknown) => {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      throw error instanceof BuildFailure ? error : new BuildFailure('FetchSourceFailed', `cannot read the upload: ${(error as Error).message}`);
    });
    const revision = { commit: given?.commit ?? commit, author: given?.author ?? 'unknown', message: given?.message ?? `Binary upload of ${upload.bytes} bytes` };
    await ctx.log.write(`\t${files} file(s), ${upload.sha256.slice(0, 12)} (sha256)\n\tCommit:\t${revision.commit} (${revision.message})\n\tAuthor:\t${revision.author}\n`);
    return sourceOfCommit(this.git, ctx, repoDir, { ...this.options, revision });
  }
}
