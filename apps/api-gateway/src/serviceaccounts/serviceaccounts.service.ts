import { Injectable } from '@nestjs/common';
import { serviceAccountInput, type ApiTokenInfo, type ServiceAccount, type TokenResponse } from '@paas/contracts/auth';
import { successStatus, type Status } from '@paas/contracts/status';
import { ApiError } from '@paas/platform/api-error';
import { parseBody } from '@paas/platform/rpc-input';
import { NamespacesService, assertNamespaceName } from '../namespaces/namespaces.service';
import { ApiTokenRepository } from '../tokens/api-token.repository';
import { TokensService } from '../tokens/tokens.service';
import { ServiceAccountRepository } from './serviceaccount.repository';

/** Service accounts: identities for programs (CI, say), with tokens instead of passwords. */
@Injectable()
export class ServiceAccountsService {
  constructor(
    private readonly serviceAccounts: ServiceAccountRepository,
    private readonly namespaces: NamespacesService,
    private readonly tokens: ApiTokenRepository,
    private readonly tokenService: TokensService,
  ) {}

  async create(namespace: string, body: unknown): Promise<ServiceAccount> {
    await this.existingNamespace(namespace);
    const { metadata } = parseBody(serviceAccountInput, body, 'ServiceAccount', namespace);
    const { name, labels, annotations } = metadata;
    return this.serviceAccounts.create({ metadata: { name, namespace, labels, annotations }, spec: {}, status: {} });
  }

  list(namespace: string): Promise<ServiceAccount[]> {
    assertNamespaceName(namespace);
    return this.serviceAccounts.list({ namespace });
  }

  get(namespace: string, name: string): Promise<ServiceAccount> {
    return this.serviceAccounts.get(namespace, name);
  }

  /** Its tokens stop working with it. */
  async delete(namespace: string, name: string): Promise<Status> {
    await this.serviceAccounts.delete(namespace, name);
    await this.tokens.deleteOfServiceAccounts(namespace, name);
    return successStatus(`serviceaccount "${name}" deleted`, { kind: 'ServiceAccount', name });
  }

  /** A token for the service account (the longest lifetime unless `expiresInSeconds`); only its hash is kept. */
  async createToken(namespace: string, name: string, body: unknown): Promise<TokenResponse> {
    await this.serviceAccounts.get(namespace, name);
    return this.tokenService.mint({ kind: 'ServiceAccount', namespace, serviceAccount: name }, body);
  }

  /** Its tokens, without their secrets. */
  async listTokens(namespace: string, name: string): Promise<ApiTokenInfo[]> {
    await this.serviceAccounts.get(namespace, name);
    return this.tokenService.list({ kind: 'ServiceAccount', namespace, serviceAccount: name });
  }

  private async existingNamespace(namespace: string): Promise<void> {
    if (!(await this.namespaces.assertWritable(namespace))) throw ApiError.notFound('Namespace', namespace);
  }
}
