import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuditModule } from '../audit/audit.module';
import { AuthGuard } from './auth.guard';
import { Authenticator } from './authenticator';
import { Authorizer } from './authorizer';

/** Authentication and role-based authorization of every `/api/v1` call (the global AuthGuard). */
@Module({
  imports: [AuditModule],
  providers: [Authenticator, Authorizer, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [Authenticator, Authorizer],
})
export class AuthModule {}
