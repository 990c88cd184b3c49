import { z } from 'zod';
import { gitRef, gitUri, pathInRepository, uploadedFileName, WEBHOOK_TYPES } from '@paas/contracts/builds';
import { dns1123Label } from '@paas/contracts/meta';
import { validate } from '@paas/contracts/validation';
import type { RpcMethod, RpcResponse } from '@paas/contracts/rpc';
import { ApiError } from '@paas/platform/api-error';
import type { RpcServer } from '@paas/platform/rpc';

/** The envelope fields of RPC requests, checked like bodies: a bad one is a 4xx naming the field. */
export const namedRequest = z.object({ namespace: dns1123Label, name: dns1123Label });
export const listRequest = z.object({
  namespace: dns1123Label.optional(),
  labelSelector: z.string().max(1024).optional(),
  limit: z.number().int().min(0).optional(),
  continue: z.string().max(4096).optional(),
});
export const createRequest = z.object({ namespace: dns1123Label, body: z.unknown(), dryRun: z.boolean().optional() });
export const updateRequest = namedRequest.extend({ body: z.unknown() });
export const instantiateRequest = namedRequest.extend({ message: z.string().max(1024).optional() });
/** The most of a webhook's body the gateway hands over (GitHub's pushes are a few KiB; 25 MiB at most, which is refused). */
export const WEBHOOK_BODY_LIMIT = 512 * 1024;
export const webhookRequest = namedRequest.extend({
  type: z.enum(WEBHOOK_TYPES),
  secret: z.string().min(1).max(128),
  contentType: z.string().max(256).optional(),
  githubEvent: z.string().max(256).optional(),
  signature: z.string().max(256).optional(),
  body: z.string().max(WEBHOOK_BODY_LIMIT).optional(),
});
const shownText = z.string().max(1024).optional();
export const binaryBuildRequest = namedRequest.extend({
  upload: z.object({
    object: z.string().regex(/^[\w-]{1,64}$/),
    bytes: z.number().int().min(0),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    asFile: uploadedFileName.optional(),
  }),
  uploader: z.string().min(1).max(256),
  revision: z.object({ commit: shownText, message: shownText, author: shownText }).optional(),
});
export const detectRequest = z.object({ git: gitUri, ref: gitRef, contextDir: pathInRepository.optional(), strategy: z.enum(['Source', 'Docker']).optional() });
export const logRequest = namedRequest.extend({ offset: z.number().int().min(0).default(0) });

export function parseRequest<S extends z.ZodType>(schema: S, request: unknown, kind: string): z.output<S> {
  const result = validate(schema, request, kind);
  if (!result.ok) throw new ApiError(result.status);
  return result.value;
}

/** Answers `method`: the request is parsed with `schema` (a bad one is a 4xx) before `handler` sees it. */
export function handleParsed<M extends RpcMethod, S extends z.ZodType>(
  rpc: RpcServer,
  method: M,
  schema: S,
  kind: string,
  handler: (request: z.output<S>) => Promise<RpcResponse<M>>,
): void {
  rpc.handle(method, (request) => handler(parseRequest(schema, request, kind)));
}
