import { Injectable } from '@nestjs/common';
import { ADMIN_PASSWORD_FILE, ADMIN_USER, passwordChangeInput } from '@paas/contracts/auth';
import { successStatus, type Status } from '@paas/contracts/status';
import { validate } from '@paas/contracts/validation';
import { ApiError } from '@paas/platform/api-error';
import { hashPassword } from '../auth/password-hash';
import { PasswordLogin, type LoginRequest } from '../auth/password-login.usecase';
import { forbiddenMessage } from '../auth/policy';
import type { Principal } from '../auth/principal';
import { CLUSTER_SCOPE } from '../cluster-scope';
import { PasswordRepository, UserRepository } from './user.repository';

/** `~`, or a user's name: whose password (or tokens) a call is about. */
export function userOf(principal: Principal, name: string): { user: string; self: boolean } {
  const user = name === '~' ? principal.name : name;
  return { user, self: principal.kind === 'User' && user === principal.name };
}

/**
 * `PUT /api/v1/users/{name}/password`: a user changes their own with their current password
 * (checked as a login is: throttled, a wrong one audited); a cluster-admin sets another
 * user's without it. Tokens stay valid; every replica stops trusting the old password at once
 * (its cache of checked passwords is keyed to the stored hash).
 */
@Injectable()
export class ChangePassword {
  constructor(
    private readonly users: UserRepository,
    private readonly passwords: PasswordRepository,
    private readonly passwordLogin: PasswordLogin,
  ) {}

  async execute(principal: Principal, name: string, body: unknown, request: LoginRequest): Promise<Status> {
    const { user, self } = userOf(principal, name);
    if (principal.kind !== 'User') throw ApiError.of('BadRequest', `${principal.name} is not a user and has no password`);
    if (!self && !principal.clusterAdmin) throw ApiError.of('Forbidden', forbiddenMessage(principal, { verb: 'update', resource: 'users/password' }), { kind: 'User', name: user });
    const input = validate(passwordChangeInput, body, 'PasswordChange', user);
    if (!input.ok) throw new ApiError(input.status);
    if (user === ADMIN_USER) {
      throw ApiError.of('Conflict', `the password of "${ADMIN_USER}" is set from PAAS_ADMIN_PASSWORD or <PAAS_HOME>/${ADMIN_PASSWORD_FILE} at every start of the gateway: change it there`, { kind: 'User', name: user });
    }
    await this.users.get(CLUSTER_SCOPE, user);
    const { currentPassword, newPassword } = input.value;
    if (self) {
      if (currentPassword === undefined) throw ApiError.invalid('PasswordChange', user, 'currentPassword', 'is required to change your own password');
      if (!(await this.passwordLogin.check(user, currentPassword, request))) throw ApiError.invalid('PasswordChange', user, 'currentPassword', 'is not your current password');
    }
    await this.passwords.set(user, await hashPassword(newPassword));
    return successStatus(`the password of user "${user}" was changed`, { kind: 'User', name: user });
  }
}
