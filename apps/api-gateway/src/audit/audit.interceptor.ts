import { HttpException, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { trace } from '@opentelemetry/api';
import { ApiError } from '@paas/platform/api-error';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { catchError, from, mergeMap, throwError, type Observable } from 'rxjs';
import { AuditTrail } from './audit-trail';

/**
 * Records every call that changes (or tries to change) something, with its outcome and its
 * caller, after the handler has answered. Calls the AuthGuard refuses it records itself.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(private readonly trail: AuditTrail) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    if (!this.trail.records(request)) return next.handle();
    const traceId = trace.getActiveSpan()?.spanContext().traceId;
    const reply = http.getResponse<FastifyReply>();
    // Recorded before the answer goes out, so a client that got its answer finds it in the trail.
    return next.handle().pipe(
      mergeMap(async (result) => {
        await this.trail.record(request, successCodeOf(context, reply), traceId);
        return result;
      }),
      catchError((error: unknown) => from(this.trail.record(request, statusCodeOf(error), traceId)).pipe(mergeMap(() => throwError(() => error)))),
    );
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
