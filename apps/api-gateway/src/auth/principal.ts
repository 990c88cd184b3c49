import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ANONYMOUS } from '@paas/contracts/auth';
import { ApiError } from '@paas/platform/api-error';

/** Who makes a call, once authenticated. */
export type Principal =
  | { kind: 'User'; name: string; clusterAdmin: boolean }
  | { kind: 'ServiceAccount'; name: string; namespace: string; serviceAccount: string; clusterAdmin: false }
  | { kind: 'Anonymous'; name: typeof ANONYMOUS; clusterAdmin: false };

export const ANONYMOUS_PRINCIPAL: Principal = { kind: 'Anonymous', name: ANONYMOUS, clusterAdmin: false };

const principals = new WeakMap<object, Principal>();

export function setPrincipal(request: object, principal: Principal): void {
  principals.set(request, principal);
}

/** The caller of a request the AuthGuard has let through; undefined before that. */
export function principalOf(request: object): Principal | undefined {
  return principals.get(request);
}

/** The authenticated caller, as a handler parameter. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = principalOf(context.switchToHttp().getRequest());
  if (!principal) throw ApiError.of('InternalError', 'no authenticated caller on a route that needs one');
  return principal;
});
