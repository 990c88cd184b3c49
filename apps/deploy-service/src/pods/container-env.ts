import { Inject, Injectable } from '@nestjs/common';
import type { Container } from '@paas/contracts/deployments';
import { envVar, type EnvVar } from '@paas/contracts/meta';
import { DeployInformers } from '../informers';
import { SECRET_CIPHER, SecretUnreadableError, type SecretCipher } from '../secrets/secret-cipher';

/** A container's configuration names what is not there: the pod waits (`CreateContainerConfigError`) until it is. */
export class ContainerConfigError extends Error {}

/** The data an `envFrom` or `valueFrom` reads: a ConfigMap's `data`, or a Secret's decrypted values. */
type Source = { kind: 'ConfigMap' | 'Secret'; name: string };

const isEnvName = (name: string) => envVar.shape.name.safeParse(name).success;

/**
 * A container's environment as it is created, after the kubelet: every `envFrom` in order
 * (each key with its `prefix`; keys that are not variable names skipped), then `env`, a later
 * name taking the place of an earlier one. A reference to a ConfigMap, Secret or key that is
 * not there is a ContainerConfigError worded as Kubernetes words it, unless marked `optional`.
 * Read from the deploy-service's caches: the pod waits until the change that brings what it
 * lacks enqueues it again (reconcile-queues.ts). Errors name objects and keys, never a value.
 */
@Injectable()
export class ContainerEnvironment {
  constructor(
    @Inject(DeployInformers) private readonly cache: Pick<DeployInformers, 'configMaps' | 'secrets'>,
    @Inject(SECRET_CIPHER) private readonly cipher: SecretCipher,
  ) {}

  resolve(namespace: string, container: Pick<Container, 'env' | 'envFrom'>): EnvVar[] {
    const variables = new Map<string, string>();
    for (const from of container.envFrom ?? []) {
      const ref = from.configMapRef ?? from.secretRef;
      if (!ref) continue; // the schema requires one of them
      const data = this.read(namespace, { kind: from.configMapRef ? 'ConfigMap' : 'Secret', name: ref.name }, ref.optional);
      for (const [key, value] of Object.entries(data ?? {})) {
        const name = `${from.prefix ?? ''}${key}`;
        if (isEnvName(name)) variables.set(name, value);
      }
    }
    for (const variable of container.env) {
      const ref = variable.valueFrom?.configMapKeyRef ?? variable.valueFrom?.secretKeyRef;
      if (!ref) {
        variables.set(variable.name, variable.value ?? '');
        continue;
      }
      const source: Source = { kind: variable.valueFrom?.configMapKeyRef ? 'ConfigMap' : 'Secret', name: ref.name };
      const data = this.read(namespace, source, ref.optional);
      const value = data?.[ref.key];
      if (value !== undefined) variables.set(variable.name, value);
      else if (data && !ref.optional) throw new ContainerConfigError(`couldn't find key ${ref.key} in ${source.kind} ${namespace}/${ref.name}`);
    }
    return [...variables].map(([name, value]) => ({ name, value }));
  }

  /** The values of a ConfigMap or Secret as text; undefined when it is missing and `optional`. */
  private read(namespace: string, source: Source, optional: boolean): Record<string, string> | undefined {
    const missing = () => {
      if (optional) return undefined;
      throw new ContainerConfigError(`${source.kind.toLowerCase()} "${source.name}" not found`);
    };
    if (source.kind === 'ConfigMap') return this.cache.configMaps.get(namespace, source.name)?.spec.data ?? missing();
    const secret = this.cache.secrets.get(namespace, source.name);
    if (!secret) return missing();
    try {
      const data = this.cipher.open(secret.spec.sealed, namespace, source.name);
      return Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
    } catch (error) {
      if (error instanceof SecretUnreadableError) throw new ContainerConfigError(`secret "${source.name}" cannot be read: ${error.message}`);
      throw error;
    }
  }
}
