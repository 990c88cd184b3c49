import type { Build } from '@paas/contracts/builds';
import { GitError, type Git } from '../../adapters/git-cli';
import { GitSourceFetcher } from './git-source-fetcher';
import { BuildFailure, type BuildContext } from './roles';

const URI = 'https://ann:s3cret@git.example/app.git';

function contextFor(uri: string) {
  const written: string[] = [];
  const ctx = {
    build: { spec: { source: { type: 'Git', git: { uri, ref: 'main' } } } } as Build,
    workDir: '/nonexistent',
    log: { write: async (text: string | Buffer) => void written.push(String(text)), tail: () => '' },
    signal: new AbortController().signal,
  } as unknown as BuildContext;
  return { ctx, written };
}

describe('GitSourceFetcher', () => {
  it('keeps the credentials of the git URL out of the build log and the failure', async () => {
    const git = { fetch: async (uri: string) => Promise.reject(new GitError(`Command failed: git fetch --quiet --depth 1 --no-tags -- ${uri} main`, 'failed')) } as unknown as Git;
    const { ctx, written } = contextFor(URI);

    const failure = await new GitSourceFetcher(git).fetch(ctx).catch((error: BuildFailure) => error);

    expect(failure).toBeInstanceOf(BuildFailure);
    expect(written.join('')).toBe('Cloning "https://***@git.example/app.git" (ref main) ...\n');
    expect((failure as BuildFailure).message).toBe(
      'failed to fetch https://***@git.example/app.git main: Command failed: git fetch --quiet --depth 1 --no-tags -- https://***@git.example/app.git main',
    );
  });
});
