import { Injectable } from '@nestjs/common';
import { userInput, type User } from '@paas/contracts/auth';
import { validate } from '@paas/contracts/validation';
import { ApiError } from '@paas/platform/api-error';
import { hashPassword } from '../auth/password-hash';
import { CLUSTER_SCOPE } from '../cluster-scope';
import { ApiTokenRepository } from '../tokens/api-token.repository';
import { PasswordRepository, UserRepository } from './user.repository';

/** Users: the resource (no password in it) and, apart, the scrypt hash of its password. */
@Injectable()
export class UsersService {
  constructor(
    private readonly users: UserRepository,
    private readonly passwords: PasswordRepository,
    private readonly tokens: ApiTokenRepository,
  ) {}

  async create(body: unknown): Promise<User> {
    const input = validate(userInput, body, 'User', (body as { metadata?: { name?: string } } | null)?.metadata?.name);
    if (!input.ok) throw new ApiError(input.status);
    const { metadata, password, spec } = input.value;
    const hash = await hashPassword(password);
    const user = await this.users.create({ metadata: { ...metadata, namespace: CLUSTER_SCOPE }, spec, status: {} });
    // The user first, so a create that loses a race for the name never replaces the winner's password.
    await this.passwords.set(user.metadata.name, hash).catch(async (error) => {
      await this.users.delete(CLUSTER_SCOPE, user.metadata.name).catch(() => undefined);
      throw error;
    });
    return user;
  }

  /** Makes `name` a user with this password and role, whether or not it exists (the bootstrap admin). */
  async ensure(name: string, password: string, clusterAdmin: boolean): Promise<User> {
    const hash = await hashPassword(password);
    const user =
      (await this.users.find(CLUSTER_SCOPE, name)) ??
      (await this.users.create({ metadata: { name, namespace: CLUSTER_SCOPE }, spec: { clusterAdmin }, status: {} }).catch(async (error) => {
        const raced = await this.users.find(CLUSTER_SCOPE, name);
        if (!raced) throw error;
        return raced;
      }));
    const current = user.spec.clusterAdmin === clusterAdmin ? user : await this.users.update(CLUSTER_SCOPE, name, (u) => ({ ...u, spec: { ...u.spec, clusterAdmin } }));
    await this.passwords.set(name, hash);
    return current;
  }

  get(name: string): Promise<User> {
    return this.users.get(CLUSTER_SCOPE, name);
  }

  list(): Promise<User[]> {
    return this.users.list({ namespace: CLUSTER_SCOPE });
  }

  /** The user goes with their password and tokens; role bindings that name them stay (as in Kubernetes). */
  async delete(name: string): Promise<User> {
    const user = await this.users.delete(CLUSTER_SCOPE, name);
    await this.passwords.delete(name);
    await this.tokens.deleteOfUser(name);
    return user;
  }
}
