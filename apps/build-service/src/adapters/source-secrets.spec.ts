import { existsSync, readFileSync, statSync } from 'node:fs';
import { withCredentials } from './git-cli';
import { credentialsOf, RpcSourceSecrets, SourceSecretError } from './source-secrets';
import { ApiError } from '@paas/platform/api-error';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const secret = (data: Record<string, string>, type = 'Opaque') => ({ metadata: { name: 'repo' } as never, type, data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, b64(value)])) });

describe('source secrets', () => {
  it('reads ssh and http(s) credentials, and says what a secret git cannot use lacks, never its values', async () => {
    expect(credentialsOf(secret({ 'ssh-privatekey': 'KEY', known_hosts: 'git.example ssh-ed25519 AAAA' }, 'kubernetes.io/ssh-auth'))).toEqual({ kind: 'ssh', privateKey: 'KEY', knownHosts: 'git.example ssh-ed25519 AAAA' });
    expect(credentialsOf(secret({ username: 'ann', password: 'tok3n' }, 'kubernetes.io/basic-auth'))).toEqual({ kind: 'basic', username: 'ann', password: 'tok3n', caCert: undefined });
    expect(credentialsOf(secret({ password: 'tok3n' }))).toMatchObject({ kind: 'basic', username: 'git' });
    expect(() => credentialsOf(secret({ token: 'tok3n' }))).toThrow(expect.objectContaining({ reason: 'Invalid', message: expect.not.stringContaining('tok3n') }));

    const missing = new RpcSourceSecrets({ request: async () => Promise.reject(ApiError.notFound('Secret', 'repo')) } as never);
    await expect(missing.credentials('demo', { type: 'Git', git: { uri: 'https://git.example/a.git', ref: 'main' }, sourceSecret: { name: 'repo' } })).rejects.toEqual(
      new SourceSecretError('source secret "repo" does not exist in namespace demo', 'NotFound'),
    );
    await expect(missing.credentials('demo', { type: 'Git', git: { uri: 'https://git.example/a.git', ref: 'main' } })).resolves.toBeUndefined();
  });

  it('hands git a user and password through a helper for the origin only, in the environment, never on a command line', async () => {
    const env = await withCredentials('https://ann@git.example:8443/team/app.git', { kind: 'basic', username: 'ann', password: 'tok3n' }, async (env) => env);
    expect(env).toMatchObject({ GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'credential.https://git.example:8443.helper', PAAS_GIT_USERNAME: 'ann', PAAS_GIT_PASSWORD: 'tok3n' });
    expect(env.GIT_CONFIG_VALUE_0).not.toContain('tok3n');
  });

  it('hands git an ssh key in a private file, checking the host when known_hosts is given, and removes it afterwards', async () => {
    let key = '';
    const env = await withCredentials('ssh://git@git.example/app.git', { kind: 'ssh', privateKey: 'KEY', knownHosts: 'git.example ssh-ed25519 AAAA' }, async (env) => {
      key = /'-i' '([^']+)'/.exec(env.GIT_SSH_COMMAND)?.[1] ?? '';
      expect(readFileSync(key, 'utf8')).toBe('KEY\n');
      expect(statSync(key).mode & 0o777).toBe(0o600);
      return env;
    });
    expect(env.GIT_SSH_COMMAND).toContain("'StrictHostKeyChecking=yes'");
    expect(existsSync(key)).toBe(false);
    const unchecked = await withCredentials('git@git.example:app.git', { kind: 'ssh', privateKey: 'KEY' }, async (env) => env.GIT_SSH_COMMAND);
    expect(unchecked).toContain("'StrictHostKeyChecking=no'");
  });
});
