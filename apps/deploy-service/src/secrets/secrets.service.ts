import { Inject, Injectable } from '@nestjs/common';
import { secretInput, type Secret, type SecretInput } from '@paas/contracts/config';
import type { ResourceList } from '@paas/contracts/meta';
import type { CreateRequest, DeleteRequest, GetRequest, ListRequest, UpdateRequest } from '@paas/contracts/rpc';
import { successStatus, type Status } from '@paas/contracts/status';
import { ApiError } from '@paas/platform/api-error';
import { listsFromCache } from '@paas/platform/informer';
import { dryRunPreview, listResponse, parseBody, updatedFrom } from '@paas/platform/rpc-input';
import { assertMutable } from '../configmaps/configmaps.service';
import { DeployInformers } from '../informers';
import type { Store } from '../store';
import { SECRET_CIPHER, SecretUnreadableError, type SecretCipher } from './secret-cipher';
import { SecretRepository, type SecretRecord } from './secret.repository';

const KIND = 'Secret';

/**
 * The Secret API. Data is sealed before it is stored and opened only to answer a caller
 * allowed to read it (`edit`, see contracts' roleNeeded) or to start a container; no log,
 * Event or error of the platform quotes a value.
 */
@Injectable()
export class SecretsService {
  constructor(
    @Inject(SecretRepository) private readonly secrets: Store<SecretRecord>,
    @Inject(DeployInformers) private readonly informers: Pick<DeployInformers, 'secrets'>,
    @Inject(SECRET_CIPHER) private readonly cipher: SecretCipher,
  ) {}

  async get({ namespace, name }: GetRequest): Promise<Secret> {
    return this.view(await this.secrets.get(namespace, name));
  }

  list(request: ListRequest): Promise<ResourceList<Secret>> {
    return listResponse(KIND, listsFromCache(this.informers.secrets, this.secrets), request, (record) => this.view(record));
  }

  async create({ namespace, body, dryRun }: CreateRequest): Promise<Secret> {
    const input = parseBody(secretInput, body, KIND, namespace);
    const { name } = input.metadata;
    const record = {
      metadata: { name, namespace, labels: input.metadata.labels ?? {}, annotations: input.metadata.annotations ?? {} },
      spec: { type: input.type, ...immutableOf(input), sealed: this.cipher.seal(dataOf(input), namespace, name) },
      status: {},
    };
    if (dryRun) {
      if (await this.secrets.find(namespace, name)) throw ApiError.alreadyExists(KIND, name);
      return this.view(dryRunPreview<SecretRecord>(KIND, record));
    }
    return this.view(await this.secrets.create(record));
  }

  async update({ namespace, name, body }: UpdateRequest): Promise<Secret> {
    const input = parseBody(secretInput, body, KIND, namespace);
    const data = dataOf(input);
    const updated = await this.secrets.update(
      namespace,
      name,
      (current) => {
        if (input.type !== current.spec.type) throw ApiError.invalid(KIND, name, 'type', 'field is immutable');
        const was = { data: this.data(current), immutable: current.spec.immutable };
        assertMutable(KIND, name, was, { data, ...immutableOf(input) });
        return updatedFrom(current, { metadata: input.metadata, spec: { type: input.type, ...immutableOf(input), sealed: this.cipher.seal(data, namespace, name) } });
      },
      { resourceVersion: input.metadata.resourceVersion },
    );
    return this.view(updated);
  }

  async delete({ namespace, name }: DeleteRequest): Promise<Status> {
    await this.secrets.delete(namespace, name);
    return successStatus(`secret "${name}" deleted`, { kind: KIND, name });
  }

  private view(record: SecretRecord): Secret {
    const { type, immutable } = record.spec;
    return { apiVersion: 'v1', kind: KIND, metadata: record.metadata, type, data: this.data(record), ...(immutable !== undefined ? { immutable } : {}) };
  }

  /** The data of a stored Secret; one that does not open is a 500 that says why, never its bytes. */
  private data(record: SecretRecord): Record<string, string> {
    const { namespace, name } = record.metadata;
    try {
      return this.cipher.open(record.spec.sealed, namespace, name);
    } catch (error) {
      if (!(error instanceof SecretUnreadableError)) throw error;
      throw ApiError.of('InternalError', `secret "${name}" cannot be read: ${error.message}`, { kind: KIND, name });
    }
  }
}

/** `data` and `stringData` together, each value base64 (a key in both takes `stringData`'s). */
function dataOf(input: Pick<SecretInput, 'data' | 'stringData'>): Record<string, string> {
  const data = { ...input.data };
  for (const [key, value] of Object.entries(input.stringData)) data[key] = Buffer.from(value, 'utf8').toString('base64');
  return data;
}

function immutableOf(input: Pick<SecretInput, 'immutable'>): { immutable?: boolean } {
  return input.immutable !== undefined ? { immutable: input.immutable } : {};
}
