import type { Build } from '@paas/contracts/builds';
import { GitError, type Git } from '../../adapters/git-cli';
import { SourceSecretError, type SourceSecrets } from '../../adapters/source-secrets';
import { GitSourceFetcher } from './git-source-fetcher';
import { BuildFailure, type BuildContext } from './roles';

const URI = 'https://ann:s3cret@git.example/app.git';

function contextFor(uri: string) {
  const written: string[] = [];
  const ctx = {
    build: { metadata: { namespace: 'demo' }, spec: { source: { type: 'Git', git: { uri, ref: 'main' }, sourceSecret: { name: 'repo-key' } } } } as Build,
    workDir: '/nonexistent',
    log: { write: async (text: string | Buffer) => void written.push(String(text)), tail: () => '' },
    signal: new AbortController().signal,
  } as unknown as BuildContext;
  return { ctx, written };
}

const noSecrets: SourceSecrets = { credentials: async () => undefined };

describe('GitSourceFetcher', () => {
  it("fetches with the source secret's credentials, naming the secret and never its values in the log", async () => {
    const fetched: unknown[] = [];
    const git = { fetch: async (...args: unknown[]) => (fetched.push(args[4]), Promise.reject(new GitError('stop here', 'failed'))) } as unknown as Git;
    const secrets: SourceSecrets = { credentials: async (namespace) => (namespace === 'demo' ? { kind: 'basic', username: 'ann', password: 'tok3n' } : undefined) };
    const { ctx, written } = contextFor('https://git.example/app.git');
    await new GitSourceFetcher(git, secrets).fetch(ctx).catch(() => undefined);
    expect(fetched).toEqual([{ kind: 'basic', username: 'ann', password: 'tok3n' }]);
    expect(written.join('')).toContain('Using the source secret "repo-key" (user and password)');
    expect(written.join('')).not.toContain('tok3n');
  });

  it("fetches the commit a webhook pinned (spec.revision) instead of the branch's head", async () => {
    const wanted: unknown[] = [];
    const git = { fetch: async (...args: unknown[]) => (wanted.push(args[1]), Promise.reject(new GitError('stop here', 'failed'))) } as unknown as Git;
    const { ctx } = contextFor('https://git.example/app.git');
    await new GitSourceFetcher(git, noSecrets).fetch(ctx).catch(() => undefined);
    ctx.build.spec.revision = { commit: 'c'.repeat(40) };
    const failure = await new GitSourceFetcher(git, noSecrets).fetch(ctx).catch((error: BuildFailure) => error);
    expect(wanted).toEqual(['main', 'c'.repeat(40)]);
    expect((failure as BuildFailure).message).toContain(`https://git.example/app.git ${'c'.repeat(40)}: stop here`);
  });

  it('fails as FetchSourceFailed, fetching nothing, when the source secret is missing', async () => {
    const git = { fetch: jest.fn() } as unknown as Git;
    const secrets: SourceSecrets = { credentials: async () => Promise.reject(new SourceSecretError('source secret "repo-key" does not exist in namespace demo', 'NotFound')) };
    const failure = await new GitSourceFetcher(git, secrets).fetch(contextFor('https://git.example/app.git').ctx).catch((error: BuildFailure) => error);
    expect(failure).toMatchObject({ reason: 'FetchSourceFailed', message: expect.stringContaining('source secret "repo-key" does not exist') });
    expect(git.fetch).not.toHaveBeenCalled();
  });

  it('keeps the credentials of the git URL out of the build log and the failure', async () => {
    const git = { fetch: async (uri: string) => Promise.reject(new GitError(`Command failed: git fetch --quiet --depth 1 --no-tags -- ${uri} main`, 'failed')) } as unknown as Git;
    const { ctx, written } = contextFor(URI);

    const failure = await new GitSourceFetcher(git, noSecrets).fetch(ctx).catch((error: BuildFailure) => error);

    expect(failure).toBeInstanceOf(BuildFailure);
    expect(written.join('')).toBe('Cloning "https://***@git.example/app.git" (ref main) ...\n');
    expect((failure as BuildFailure).message).toBe(
      'failed to fetch https://***@git.example/app.git main: Command failed: git fetch --quiet --depth 1 --no-tags -- https://***@git.example/app.git main',
    );
  });
});
