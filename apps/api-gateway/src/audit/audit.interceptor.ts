import { HttpException, Injectable, Logger, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { trace } from '@opentelemetry/api';
import { ApiError } from '@paas/platform/api-error';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { catchError, from, mergeMap, throwError, type Observable } from 'rxjs';
import { AuditEventRepository } from './audit-event.repository';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Until users and tokens exist, every caller is the same one. */
const ANONYMOUS = 'system:anonymous';

/**
 * Records every call that changes (or tries to change) something, with its outcome, after
 * the handler has answered; a failure to record is logged and never fails the call.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  private readonly logger = new Logger(AuditInterceptor.name);

  constructor(private readonly audit: AuditEventRepository) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    if (!MUTATING.has(request.method)) return next.handle();
    const traceId = trace.getActiveSpan()?.spanContext().traceId;
    const reply = http.getResponse<FastifyReply>();
    // Recorded before the answer goes out, so a client that got its answer finds it in the trail.
    return next.handle().pipe(
      mergeMap(async (result) => {
        await this.record(request, successCodeOf(context, reply), traceId);
        return result;
      }),
      catchError((error: unknown) => from(this.record(request, statusCodeOf(error), traceId)).pipe(mergeMap(() => throwError(() => error)))),
    );
  }

  private async record(request: FastifyRequest, statusCode: number, traceId?: string) {
    const path = request.url.split('?')[0];
    const namespace = /^\/api\/v1\/namespaces\/([^/]+)/.exec(path)?.[1];
    await this.audit
      .record({ time: new Date().toISOString(), method: request.method, path, namespace, statusCode, user: ANONYMOUS, traceId })
      .catch((error: Error) => this.logger.error({ msg: `audit record failed: ${error.message}` }));
  }
}

/** Nest applies `@HttpCode` after interceptors run: read it from the handler, as Nest will. */
function successCodeOf(context: ExecutionContext, reply: FastifyReply): number {
  return Reflect.getMetadata(HTTP_CODE_METADATA, context.getHandler()) ?? (reply.request.method === 'POST' ? 201 : reply.statusCode);
}

function statusCodeOf(error: unknown): number {
  if (error instanceof ApiError) return error.status.code;
  if (error instanceof HttpException) return error.getStatus();
  return 500;
}
