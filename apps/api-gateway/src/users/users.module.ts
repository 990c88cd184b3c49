import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { TokensModule } from '../tokens/tokens.module';
import { AdminBootstrap } from './admin-bootstrap';
import { ChangePassword } from './change-password.usecase';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

@Module({ imports: [AuthModule, TokensModule], controllers: [UsersController], providers: [UsersService, AdminBootstrap, ChangePassword] })
export class UsersModule {}
