import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { MongooseModule } from '@nestjs/mongoose';
import { AuditModule } from '../audit/audit.module';
import { AuthGuard } from './auth.guard';
import { Authenticator } from './authenticator';
import { Authorizer } from './authorizer';
import { LOGIN_ATTEMPTS_COLLECTION, LoginAttemptRepository, loginAttemptSchema } from './login-attempt.repository';
import { LoginThrottle } from './login-throttle';
import { PasswordLogin } from './password-login.usecase';

/** Authentication (passwords throttled) and role-based authorization of every `/api/v1` call (the global AuthGuard). */
@Module({
  imports: [AuditModule, MongooseModule.forFeature([{ name: LOGIN_ATTEMPTS_COLLECTION, schema: loginAttemptSchema }])],
  providers: [Authenticator, Authorizer, LoginAttemptRepository, LoginThrottle, PasswordLogin, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [Authenticator, Authorizer, PasswordLogin],
})
export class AuthModule {}
