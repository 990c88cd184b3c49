import type { BuildSource } from '@paas/contracts/builds';
import type { Secret } from '@paas/contracts/config';
import { statusOf } from '@paas/platform/api-error';
import type { RpcClient } from '@paas/platform/rpc';
import type { GitCredentials } from './git-cli';

export const SOURCE_SECRETS = Symbol('SOURCE_SECRETS');

/** A BuildConfig's source secret that is missing, or that holds no credentials git can use: why, never its values. */
export class SourceSecretError extends Error {
  constructor(
    message: string,
    readonly reason: 'NotFound' | 'Invalid',
  ) {
    super(message);
    this.name = 'SourceSecretError';
  }
}

/** The git credentials of a BuildConfig's `source.sourceSecret` (none without one). */
export interface SourceSecrets {
  credentials(namespace: string, source: BuildSource): Promise<GitCredentials | undefined>;
}

/**
 * Reads the source secret from the deploy-service (`secrets.get`, the build-service's own bus
 * role: a BuildConfig names a Secret of its own namespace only), each time it is needed: a
 * changed or deleted Secret counts from the next build on. `ssh-privatekey` (with
 * `known_hosts`) makes ssh credentials; `password` (with `username`, `git` when absent, and
 * `ca.crt`) http(s) ones; Kubernetes' secret types say the same.
 */
export class RpcSourceSecrets implements SourceSecrets {
  constructor(private readonly rpc: Pick<RpcClient, 'request'>) {}

  async credentials(namespace: string, source: BuildSource): Promise<GitCredentials | undefined> {
    const name = source.sourceSecret?.name;
    if (!name) return undefined;
    const secret = await this.rpc.request('secrets.get', { namespace, name }).catch((error: unknown) => {
      if (statusOf(error).code === 404) throw new SourceSecretError(`source secret "${name}" does not exist in namespace ${namespace}`, 'NotFound');
      throw error;
    });
    return credentialsOf(secret);
  }
}

export function credentialsOf(secret: Pick<Secret, 'metadata' | 'type' | 'data'>): GitCredentials {
  const value = (key: string) => (secret.data?.[key] === undefined ? undefined : Buffer.from(secret.data[key], 'base64').toString('utf8'));
  const privateKey = value('ssh-privatekey');
  if (privateKey) return { kind: 'ssh', privateKey, knownHosts: value('known_hosts') };
  const password = value('password');
  if (password) return { kind: 'basic', username: value('username') || 'git', password, caCert: value('ca.crt') };
  throw new SourceSecretError(
    `source secret "${secret.metadata.name}" (type ${secret.type}) has neither ssh-privatekey (ssh) nor password (http(s), with username): git could not use it`,
    'Invalid',
  );
}
